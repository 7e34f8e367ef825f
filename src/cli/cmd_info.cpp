#include <nlohmann/json.hpp>

#include <filesystem>
#include <iomanip>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/data/summary.hpp"
#include "distcf/data/distribute.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/io/store.hpp"
#include "distcf/app/oracle.hpp"

namespace distcf::cli {

namespace {

struct InfoArgs {
    std::string path;
};

void run_info(const InfoArgs& a, Context& ctx) {
    StoreInfo info;
    ctx.comm.barrier();
    const double t0 = Comm::wtime();
    RatingSlice slice = read_slice(a.path, ctx.comm, Subset::All, &info);
    std::int64_t n_test = -1;
    if (info.has_split) {
        std::int64_t t = 0;
        for (auto f : slice.is_test) t += f;
        n_test = ctx.comm.sum(t);
    }
    const RatingBlocks b = distribute(std::move(slice), info.n_users, info.n_items, info.rating_min, info.rating_max, ctx.comm);
    ctx.comm.barrier();
    const double load_seconds = Comm::wtime() - t0;  // partitioned read: hyperslabs + Alltoallv + CSR
    const RatingSummary s = summarize(b, ctx.comm);
    // The generator's truth is a rating: beside interaction counts its "RMSE" means nothing.
    h5::File f = h5::File::open(a.path, ctx.comm);
    const bool counts = s.log2_bins || (f.has_attr("implicit") && f.attr_double("implicit") > 0);
    std::optional<OracleRmse> oracle;
    if (info.has_truth && !counts) oracle = oracle_rmse(a.path, ctx.comm);

    auto& o = ctx.out;
    if (ctx.json) {
        nlohmann::json& j = ctx.result;
        j["path"] = a.path;
        j["users"] = s.users;
        j["items"] = s.items;
        j["ratings"] = s.ratings;
        j["density"] = s.density;
        j["mean"] = s.mean;
        j["value_min"] = s.value_min;
        j["value_max"] = s.value_max;
        j["rating_scale"] = {s.scale_min, s.scale_max};
        j["histogram"] = {{"edges", s.bin_edges}, {"counts", s.bin_counts}, {"discrete", s.discrete}, {"log2", s.log2_bins}};
        j["values_are_counts"] = counts;
        j["per_user"] = {{"min", s.per_user.min}, {"mean", s.per_user.mean}, {"max", s.per_user.max}};
        j["per_item"] = {{"min", s.per_item.min}, {"mean", s.per_item.mean}, {"max", s.per_item.max}};
        j["has_time"] = info.has_time;
        j["ranks"] = ctx.comm.size();
        j["load_seconds"] = load_seconds;
        if (n_test >= 0) j["split"] = {{"train", s.ratings - n_test}, {"test", n_test}};
        if (oracle) j["oracle_rmse"] = {{"all", oracle->all}, {"train", oracle->train}, {"test", oracle->test}, {"noise", oracle->noise}};
        return;
    }
    o << std::fixed;
    o << "Data set: " << a.path << "\n";
    o << "Rating matrix: " << s.users << " users x " << s.items << " items\n";
    o << "Observed ratings: " << s.ratings << "/" << s.users * s.items << " = " << std::setprecision(2)
      << 100.0 * s.density << "%  (density " << std::setprecision(6) << s.density << ")\n";
    o << std::setprecision(2) << "Rating range: [" << s.value_min << ", " << s.value_max << "] (scale ["
      << s.scale_min << ", " << s.scale_max << "])  mean rating: " << std::setprecision(3) << s.mean << "\n";
    o << std::setprecision(1);
    o << "Ratings per user: min=" << s.per_user.min << ", mean=" << s.per_user.mean << ", max=" << s.per_user.max;
    if (s.users_without_ratings) o << "  (" << s.users_without_ratings << " users without ratings)";
    o << "\nRatings per item: min=" << s.per_item.min << ", mean=" << s.per_item.mean << ", max=" << s.per_item.max;
    if (s.items_without_ratings) o << "  (" << s.items_without_ratings << " items without ratings)";
    o << "\n";
    if (n_test >= 0) o << "Stored split: train " << s.ratings - n_test << ", test " << n_test << "\n";
    if (info.has_time) o << "Timestamps: yes\n";
    o << (counts ? "Histogram of interaction counts (bins by powers of two):\n" : "Histogram of ratings:\n");
    std::int64_t peak = 1;
    for (auto c : s.bin_counts) peak = std::max(peak, c);
    for (std::size_t i = 0; i < s.bin_counts.size(); ++i) {
        o << "  ";
        if (s.discrete) o << std::setw(13) << std::setprecision(1) << s.bin_edges[i];
        else if (s.log2_bins) o << "[" << std::setprecision(0) << std::setw(8) << s.bin_edges[i] << ", " << std::setw(8) << s.bin_edges[i + 1] << ")";
        else o << "[" << std::setprecision(2) << std::setw(5) << s.bin_edges[i] << ", " << std::setw(5) << s.bin_edges[i + 1] << ")";
        o << " " << std::setw(10) << s.bin_counts[i] << " "
          << std::string(static_cast<std::size_t>(40 * s.bin_counts[i] / peak), '#') << "\n";
    }
    if (oracle) {
        o << std::setprecision(4) << "Oracle RMSE (noise-free truth vs observed ratings): all " << oracle->all;
        if (oracle->test >= 0) o << ", train " << oracle->train << ", test " << oracle->test;
        o << "  (noise sd " << oracle->noise << ", clipped to the scale)\n";
    } else if (info.has_truth && counts) {
        o << "Oracle RMSE: none for counts (the generator's truth is a rating, the values are interaction counts)\n";
    }
}

}  // namespace

void add_info(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<InfoArgs>();
    CLI::App* s = app.add_subcommand("info", "Describe a rating store: sizes, density, histogram, ratings per user/item");
    s->add_option("store", a->path, "HDF5 rating store")->required();
    reg.push_back({s, [a, &ctx] { run_info(*a, ctx); }});
}

void add_clean(CLI::App& app, Context& ctx, Registry& reg) {
    auto dir = std::make_shared<std::string>(".");
    CLI::App* s = app.add_subcommand("clean", "Remove the temporary files that killed distcf runs left in a directory");
    s->add_option("dir", *dir, "the directory (temporaries of live processes and of other hosts are kept)")->capture_default_str();
    reg.push_back({s, [dir, &ctx] {
        std::error_code ec;
        if (!std::filesystem::is_directory(*dir, ec)) DISTCF_THROW(InputError, *dir + ": not a directory");
        std::vector<std::string> removed;
        if (ctx.comm.is_root()) removed = remove_stale_temporaries(*dir);
        for (const auto& p : removed) ctx.out << "removed " << p << "\n";
        ctx.result = {{"directory", *dir}, {"removed", removed}};
        ctx.out << "clean: " << removed.size() << " stale temporar" << (removed.size() == 1 ? "y" : "ies") << " in " << *dir << "\n";
    }});
}

}  // namespace distcf::cli
