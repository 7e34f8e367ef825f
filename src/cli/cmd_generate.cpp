#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/data/generate.hpp"
#include "distcf/data/split.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/store.hpp"
#include "distcf/util/resources.hpp"

namespace distcf::cli {

namespace {

struct GenerateArgs {
    GenerateParams p;
    std::string out;
    int compression = 1;
};

}  // namespace

void generate_to_file(const GenerateParams& p, const std::string& out, int compression, Context& ctx) {
    p.validate();
    require_output_dir(out);
    const Comm& comm = ctx.comm;
    comm.barrier();
    const double t0 = MPI_Wtime();
    const GenreModel model = make_genre_model(p, comm);
    GeneratedBlock block = generate_block(p, model, comm);
    if (p.test_fraction > 0) {
        SplitOptions so;
        so.test_fraction = p.test_fraction;
        so.seed = p.seed;
        block.ratings.is_test = choose_test(block.ratings, so, comm);
    }
    const double t1 = MPI_Wtime();

    StoreHeader h;
    h.n_users = p.users;
    h.n_items = p.items;
    h.rating_min = 1.0;
    h.rating_max = 5.0;
    if (p.implicit) {
        double mx = 1.0;
        for (double v : block.ratings.value) mx = std::max(mx, v);
        h.rating_max = comm.max(mx);
    }
    h.provenance = Provenance::now(ctx.command_line);
    h.compression = compression;
    h.text_attrs["source"] = "distcf generate";
    h.text_attrs["item_popularity"] = p.item_popularity;
    h.text_attrs["user_activity"] = p.user_activity;
    h.number_attrs = {{"users", double(p.users)},          {"items", double(p.items)},
                      {"genres", double(p.genres)},        {"seed", double(p.seed)},
                      {"noise", p.noise},                  {"density", p.density},
                      {"min_per_user", double(p.min_per_user)}, {"min_per_item", double(p.min_per_item)},
                      {"test_fraction", p.test_fraction},  {"implicit", p.implicit ? 1.0 : 0.0},
                      {"implicit_scale", p.implicit_scale}, {"implicit_sharpness", p.implicit_sharpness}, {"exact_minmax_pairs", p.exact_minmax_pairs}};
    const std::int64_t n = block.ratings.size();
    auto truth = [&](const h5::File& f) {
        const std::int64_t offset = comm.exscan_sum(n);
        const std::int64_t nnz = comm.sum(n);
        const int me = comm.rank();
        h5::Layout layout;
        layout.deflate = compression;
        layout.chunked = compression > 0;
        f.create_dataset<double>("/truth/value", nnz, 0, layout).write_rows(offset, n, block.truth.data());
        f.create_dataset<double>("/truth/user_factors", p.users, p.genres)
            .write_rows(block.users.begin(me), block.users.size(me), block.user_factors.data());
        f.write_vector("/truth/item_factors", model.item_factors, p.genres);
        f.write_vector("/truth/item_genre", model.item_genre);
        f.write_vector("/truth/item_weight", model.item_weight);
        f.write_strings("/truth/genre_names", model.genre_names);
        const auto g = f.group("/truth");
        g.set_attr("true_min", model.true_min);
        g.set_attr("true_max", model.true_max);
        g.set_attr("exact_minmax", std::int64_t{model.exact_minmax ? 1 : 0});
    };
    write_store(out, comm, h, block.ratings, IdMap::identity(p.users), IdMap::identity(p.items), truth);
    const double t2 = MPI_Wtime();
    const std::int64_t nnz = comm.sum(n);
    ctx.out << "generated " << nnz << " ratings (" << p.users << " users x " << p.items << " items, " << p.genres
            << " genres, density " << static_cast<double>(nnz) / (static_cast<double>(p.users) * p.items) << ") -> "
            << out << " in " << t2 - t0 << " s (generate " << t1 - t0 << " s, write " << t2 - t1 << " s)\n";
    const auto rss = comm.allgather<std::int64_t>(peak_rss_bytes());
    const auto mine = comm.allgather<std::int64_t>(n);
    ctx.out << "peak RSS per rank:";
    for (std::size_t r = 0; r < rss.size(); ++r)
        ctx.out << " " << rss[r] / 1048576 << " MiB (" << (mine[r] ? static_cast<double>(rss[r]) / mine[r] : 0.0)
                << " B/rating)";
    ctx.out << "\n";
}

namespace {

void run_generate(const GenerateArgs& a, Context& ctx) { generate_to_file(a.p, a.out, a.compression, ctx); }

}  // namespace

void add_generate(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<GenerateArgs>();
    GenerateParams& p = a->p;
    CLI::App* s = app.add_subcommand("generate", "Generate ratings from the seed's genre-structured low-rank model");
    s->add_option("--users", p.users, "number of users")->capture_default_str();
    s->add_option("--items", p.items, "number of items (movies)")->capture_default_str();
    s->add_option("--genres", p.genres, "number of genres = true rank")->capture_default_str();
    s->add_option("--seed", p.seed, "random seed")->capture_default_str();
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
    s->add_option("--exact-minmax-pairs", p.exact_minmax_pairs,
                  "largest users x items for the exact min-max normalisation")->capture_default_str();
    s->add_option("--compression", a->compression, "gzip level 0-9 of the rating datasets (0: fastest)")
        ->check(CLI::Range(0, 9))
        ->capture_default_str();
    s->add_option("--out", a->out, "output HDF5 store")->required();
    reg.push_back({s, [a, &ctx] { run_generate(*a, ctx); }});
}

}  // namespace distcf::cli
