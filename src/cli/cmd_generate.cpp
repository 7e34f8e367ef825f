#include <algorithm>
#include <cstdio>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/util/progress.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/app/generate_file.hpp"

namespace distcf::cli {

namespace {

struct GenerateArgs {
    GenerateParams p;
    std::string out;
    int compression = 1;
    std::string precision = "single";
};

void run_generate(const GenerateArgs& a, Context& ctx) {
    check_output(a.out, {});
    const bool single = a.precision == "single";
    report_stage("generate", {{"users", a.p.users}, {"items", a.p.items}, {"density", a.p.density}, {"ranks", ctx.comm.size()}});
    const GenerateReport r = generate_to_file(a.p, a.out, a.compression, single, ctx.command_line, ctx.comm);
    std::int64_t peak = 0;
    for (auto b : r.peak_rss) peak = std::max<std::int64_t>(peak, b);
    ctx.result = {{"ratings", r.nnz}, {"users", a.p.users}, {"items", a.p.items}, {"seconds", r.seconds}, {"out", a.out},
                  {"precision", a.precision}, {"peak_rss_bytes_per_rank", r.peak_rss}};
    print_generated(ctx.out, a.p, a.out, r, single);
}

}  // namespace

void print_generated(std::ostream& o, const GenerateParams& p, const std::string& out, const GenerateReport& r,
                     bool single_precision) {
    char line[256];
    std::snprintf(line, sizeof line, "generated %lld ratings (%lld users x %lld items, %d genres, density %.3g) -> %s in %.3g s",
                  static_cast<long long>(r.nnz), static_cast<long long>(p.users), static_cast<long long>(p.items), p.genres,
                  static_cast<double>(r.nnz) / (static_cast<double>(p.users) * p.items), out.c_str(), r.seconds);
    o << line << " (" << (single_precision ? "single" : "double") << " precision values)\n";
    o << "peak RSS per rank:";
    for (std::size_t q = 0; q < r.peak_rss.size(); ++q) {
        std::snprintf(line, sizeof line, " %.0f MiB (%.0f B/rating)", static_cast<double>(r.peak_rss[q]) / 1048576.0,
                      r.ratings_per_rank[q] ? static_cast<double>(r.peak_rss[q]) / static_cast<double>(r.ratings_per_rank[q]) : 0.0);
        o << line;
    }
    o << "\n";
}

void add_generate(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<GenerateArgs>();
    GenerateParams& p = a->p;
    CLI::App* s = app.add_subcommand("generate", "Generate synthetic ratings: each user's taste for each genre times each movie's genre, plus noise, as many users, items and ratings as asked");
    s->add_option("--users", p.users, "number of users")->capture_default_str();
    s->add_option("--items", p.items, "number of items (movies)")->capture_default_str();
    s->add_option("--genres", p.genres, "number of genres = true rank")->capture_default_str();
    s->add_option("--seed,--rng-seed", p.rng_seed, "seed of the random number generator")->capture_default_str();
    s->add_option("--noise", p.noise, "sd of the Normal observation noise")->capture_default_str();
    s->add_option("--density", p.density, "probability that a (user, item) is observed")->capture_default_str();
    s->add_option("--min-per-user", p.min_per_user, "every user gets at least this many ratings")->capture_default_str();
    s->add_option("--min-per-item", p.min_per_item, "every item gets at least this many ratings")->capture_default_str();
    s->add_option("--test-fraction", p.test_fraction, "store a split holding out this fraction (0: none)")->capture_default_str();
    s->add_option("--item-popularity", p.item_popularity, "uniform | zipf:S")->capture_default_str();
    s->add_option("--user-activity", p.user_activity, "uniform | lognormal:SIGMA")->capture_default_str();
    s->add_flag("--implicit", p.implicit, "emit counts Poisson(scale * exp(sharpness * (true rating - 1))) instead of ratings; count-0 candidates are dropped");
    s->add_option("--implicit-scale", p.implicit_scale, "--implicit: count rate at the lowest true rating")->capture_default_str();
    s->add_option("--implicit-sharpness", p.implicit_sharpness, "--implicit: how fast the rate grows with the true rating")
        ->capture_default_str();
    s->add_option("--profile", p.profile,
                  "notebook: continuous 1-5 ratings as the original study | movielens: whole stars with MovieLens's "
                  "histogram (mean 3.5, sd 1.1), zipf:0.9 popularity and lognormal:1 activity unless given")
        ->check(CLI::IsMember({"notebook", "movielens"}))
        ->capture_default_str();
    s->add_option("--compression", a->compression, "gzip level 0-9 of the rating datasets (0: fastest)")
        ->check(CLI::Range(0, 9))
        ->capture_default_str();
    s->add_option("--precision", a->precision,
                  "single: rating and truth values as 32-bit floats (half the file; 7 digits, far below the noise); "
                  "double: 64-bit")
        ->check(CLI::IsMember({"single", "double"}))
        ->capture_default_str();
    s->add_option("--out", a->out, "output HDF5 store")->required();
    // The movielens profile's skew, where the command line leaves the shapes at their defaults.
    s->parse_complete_callback([s, a] {
        if (a->p.profile != "movielens") return;
        if (s->count("--item-popularity") == 0) a->p.item_popularity = "zipf:0.9";
        if (s->count("--user-activity") == 0) a->p.user_activity = "lognormal:1";
    });
    reg.push_back({s, [a, &ctx] { run_generate(*a, ctx); }});
}

}  // namespace distcf::cli
