#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <ostream>
#include <sstream>

#include "cli.hpp"
#include "distcf/util/progress.hpp"
#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/store.hpp"
#include "distcf/io/text_import.hpp"

namespace distcf::cli {

std::pair<double, double> parse_range(const std::string& s, const char* option) {
    const auto comma = s.find(',');
    try {
        if (comma == std::string::npos) throw std::invalid_argument("no comma");
        std::size_t p1 = 0, p2 = 0;
        const double lo = std::stod(s.substr(0, comma), &p1);
        const double hi = std::stod(s.substr(comma + 1), &p2);
        if (p1 != comma || p2 != s.size() - comma - 1) throw std::invalid_argument("trailing text");
        return {lo, hi};
    } catch (const std::exception&) {
        DISTCF_THROW(UsageError, std::string(option) + ": expected LO,HI (e.g. 1,5), got '" + s + "'");
    }
}

namespace {

struct ImportArgs {
    std::string format = "csv";
    std::string input;
    std::string out;
    std::string delimiter;
    bool header = false;
    std::string columns;
    std::string rating_range;
    std::string duplicates = "error";
};

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    for (std::string t; std::getline(ss, t, ',');) v.push_back(t);
    return v;
}

void run_import(const ImportArgs& a, Context& ctx) {
    ImportOptions o;
    o.format = parse_text_format(a.format);
    o.delimiter = a.delimiter == "\\t" || a.delimiter == "tab" ? std::string("\t") : a.delimiter;
    o.header = a.header;
    if (!a.columns.empty()) o.columns = split_list(a.columns);
    if (!a.rating_range.empty()) o.rating_range = parse_range(a.rating_range, "--rating-range");
    o.duplicates = parse_duplicate_policy(a.duplicates);
    o.validate();
    // Fail before parsing a large file when the output cannot be written.
    check_output(a.out, {a.input});
    require_output_dir(a.out);

    // Text parsing is one stream: rank 0 parses, every rank takes part in the (collective) write.
    const auto t0 = std::chrono::steady_clock::now();
    report_stage("import: parse", {{"input", a.input}, {"format", a.format}});
    ImportedRatings data;
    std::string error;
    if (ctx.comm.is_root()) {
        try {
            data = import_text(a.input, o);
        } catch (const Error& e) {
            error = e.what();
        }
    }
    ctx.comm.bcast(error);
    if (!error.empty()) throw InputError(error, __FILE__, __LINE__);
    const auto t1 = std::chrono::steady_clock::now();

    // Share the header: writes are collective with identical metadata on every rank.
    StoreHeader h;
    h.n_users = ctx.comm.bcast_value(data.users.size());
    h.n_items = ctx.comm.bcast_value(data.items.size());
    const double vmin = ctx.comm.bcast_value(data.value_min), vmax = ctx.comm.bcast_value(data.value_max);
    h.rating_min = o.rating_range ? o.rating_range->first : vmin;
    h.rating_max = o.rating_range ? o.rating_range->second : vmax;
    h.provenance = Provenance::now(ctx.command_line);
    h.text_attrs["source"] = a.input;
    h.text_attrs["source_format"] = a.format;
    report_stage("import: write", {{"ratings", ctx.comm.bcast_value(data.ratings.size())}, {"users", h.n_users}, {"items", h.n_items},
                                   {"parse_s", std::round(std::chrono::duration<double>(t1 - t0).count() * 1000) / 1000}});
    // Only rank 0 parsed: the writer takes its ID maps on every rank.
    write_store(a.out, ctx.comm, h, data.ratings, data.users, data.items);
    const auto t2 = std::chrono::steady_clock::now();
    const std::int64_t nnz = ctx.comm.bcast_value(data.ratings.size());
    const double total = std::chrono::duration<double>(t2 - t0).count(), parse = std::chrono::duration<double>(t1 - t0).count();
    ctx.result = {{"ratings", nnz}, {"users", h.n_users}, {"items", h.n_items}, {"input", a.input}, {"out", a.out},
                  {"rating_scale", {h.rating_min, h.rating_max}}, {"seconds", total}, {"parse_seconds", parse}};
    char line[512];
    std::snprintf(line, sizeof line, "imported %lld ratings (%lld users, %lld items) from %s to %s in %.3g s (parse %.3g s)\n",
                  static_cast<long long>(nnz), static_cast<long long>(h.n_users), static_cast<long long>(h.n_items), a.input.c_str(),
                  a.out.c_str(), total, parse);
    ctx.out << line;
}

}  // namespace

void add_import(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<ImportArgs>();
    CLI::App* s = app.add_subcommand("import", "Import a text file of ratings into an HDF5 rating store");
    s->add_option("--format", a->format, "movielens100k | movielens | csv")
        ->check(CLI::IsMember({"movielens100k", "movielens", "csv"}))
        ->capture_default_str();
    s->add_option("--input", a->input, "ratings text file")->required();
    s->add_option("--out", a->out, "output HDF5 store")->required();
    s->add_option("--delimiter", a->delimiter, "field delimiter (default: tab, '::' or ','; 'tab' or '\\t' for a tab)");
    s->add_flag("--header", a->header, "the first line is a header");
    s->add_option("--columns", a->columns, "csv column roles in order: user,item,rating[,time]; '_' skips a column");
    s->add_option("--rating-range", a->rating_range, "LO,HI: reject ratings outside; stored as the rating scale");
    s->add_option("--duplicates", a->duplicates, "a repeated (user, item): error | last | mean")
        ->check(CLI::IsMember({"error", "last", "mean"}))
        ->capture_default_str();
    reg.push_back({s, [a, &ctx] { run_import(*a, ctx); }});
}

}  // namespace distcf::cli
