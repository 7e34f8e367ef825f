#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/data/split.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/store.hpp"

namespace distcf::cli {

namespace {

struct SplitArgs {
    std::string path;
    SplitOptions split;
    std::string out_train;
    std::string out_test;
};

RatingSlice keep(const RatingSlice& s, const std::vector<std::uint8_t>& is_test, std::uint8_t side) {
    RatingSlice k;
    for (std::int64_t i = 0; i < s.size(); ++i) {
        if (is_test[i] != side) continue;
        k.push(s.user[i], s.item[i], s.value[i]);
        if (!s.time.empty()) k.time.push_back(s.time[i]);
    }
    return k;
}

void run_split(const SplitArgs& a, Context& ctx) {
    a.split.validate();
    check_output(a.out_train, {a.path});
    check_output(a.out_test, {a.path, a.out_train});  // the two outputs must differ too
    require_output_dir(a.out_train);
    require_output_dir(a.out_test);
    StoreInfo info;
    const RatingSlice s = read_user_aligned_slice(a.path, ctx.comm, Subset::All, &info);
    const auto is_test = choose_test(s, a.split, ctx.comm);
    const auto [users, items] = read_id_maps(a.path, ctx.comm);
    StoreHeader h;
    h.n_users = info.n_users;
    h.n_items = info.n_items;
    h.rating_min = info.rating_min;
    h.rating_max = info.rating_max;
    h.provenance = Provenance::now(ctx.command_line);
    h.text_attrs["split_of"] = a.path;
    h.number_attrs["split_test_fraction"] = a.split.test_fraction;
    h.number_attrs["split_seed"] = static_cast<double>(a.split.rng_seed);
    h.text_attrs["split_mode"] = a.split.per_user ? "per-user" : "uniform";
    const RatingSlice train = keep(s, is_test, 0), test = keep(s, is_test, 1);
    h.text_attrs["split_side"] = "train";
    write_store(a.out_train, ctx.comm, h, train, users, items);
    h.text_attrs["split_side"] = "test";
    write_store(a.out_test, ctx.comm, h, test, users, items);
    const auto n_train = ctx.comm.sum(train.size()), n_test = ctx.comm.sum(test.size());
    ctx.result = {{"input", a.path}, {"train", {{"ratings", n_train}, {"out", a.out_train}}}, {"test", {{"ratings", n_test}, {"out", a.out_test}}},
                  {"test_fraction", a.split.test_fraction}, {"seed", a.split.rng_seed}, {"mode", a.split.per_user ? "per-user" : "uniform"}};
    ctx.out << "split " << a.path << ": train " << n_train << " ratings -> " << a.out_train << ", test " << n_test
            << " ratings -> " << a.out_test << "\n";
}

}  // namespace

void add_split(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<SplitArgs>();
    CLI::App* s = app.add_subcommand("split", "Split a rating store into train and test stores (rank-count invariant)");
    s->add_option("store", a->path, "HDF5 rating store")->required();
    s->add_option("--test-fraction", a->split.test_fraction, "fraction of ratings held out")->capture_default_str();
    s->add_option("--seed", a->split.rng_seed, "random seed")->capture_default_str();
    s->add_flag("--per-user", a->split.per_user, "hold out the fraction of each user's ratings");
    s->add_option("--out-train", a->out_train, "output train store")->required();
    s->add_option("--out-test", a->out_test, "output test store")->required();
    reg.push_back({s, [a, &ctx] { run_split(*a, ctx); }});
}

}  // namespace distcf::cli
