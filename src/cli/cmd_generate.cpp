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
    std::string precision = "single";
};

// Draws and writes the ratings and /truth/value in batches of whole users, about kBatch ratings
// each, into buffers that are reused: the memory per rank stays at the observed items (4 bytes a
// rating) plus one batch, and the only fresh pages are the file's.
void write_ratings(const GenerateParams& p, const GenreModel& model, const ObservedBlock& obs,
                   const std::vector<std::int64_t>& per_user, const std::vector<std::uint8_t>& is_test, int compression,
                   bool single_precision, const Comm& comm, StoreWriter& w) {
    constexpr std::int64_t kBatch = std::int64_t{1} << 21;
    std::vector<std::pair<std::int64_t, std::int64_t>> batches;
    for (std::int64_t r0 = 0, nu = static_cast<std::int64_t>(per_user.size()); r0 < nu;) {
        std::int64_t r1 = r0, m = 0;
        while (r1 < nu && (m == 0 || m + per_user[r1] <= kBatch)) m += per_user[r1++];
        batches.emplace_back(r0, r1);
        r0 = r1;
    }
    h5::Layout layout;
    layout.deflate = compression;
    layout.chunked = compression > 0;
    // Closed when this returns, before the file: HDF5 would otherwise put off closing the file
    // (and its last writes) until after the rename.
    const h5::Dataset truth_ds = single_precision ? w.file().create_dataset<float>("/truth/value", w.nnz(), 0, layout)
                                                  : w.file().create_dataset<double>("/truth/value", w.nnz(), 0, layout);
    RatingSlice batch;
    std::vector<double> truth;
    std::vector<float> truth32;
    const auto narrow = [&](const std::vector<double>& v) {  // parallel HDF5 cannot convert in compressed writes
        truth32.assign(v.begin(), v.end());
        return truth32.data();
    };
    const auto draw = [&](std::size_t b) {  // batch b of this rank's users (none past the last)
        batch.user.clear();
        batch.item.clear();
        batch.value.clear();
        truth.clear();
        if (b < batches.size()) fill_ratings(p, model, obs, batches[b].first, batches[b].second, batch, truth, &per_user);
        const std::int64_t done = w.written(), m = batch.size();
        if (!is_test.empty()) batch.is_test.assign(is_test.begin() + done, is_test.begin() + done + m);
        return done;
    };
    if (compression == 0) {
        // Independent writes: a rank writes its batch while the other draws; the kernel serialises
        // writers to one file, so lock-step rounds would leave one rank spinning on its lock.
        for (std::size_t b = 0; b < batches.size(); ++b) {
            const std::int64_t done = draw(b);
            if (single_precision) truth_ds.write_rows_independent(w.offset() + done, batch.size(), narrow(truth));
            else truth_ds.write_rows_independent(w.offset() + done, batch.size(), truth.data());
            w.append(batch);
        }
    } else {
        // Parallel HDF5 compresses only in collective writes: every rank, every round.
        const auto rounds = static_cast<std::size_t>(comm.max(static_cast<std::int64_t>(batches.size())));
        for (std::size_t b = 0; b < rounds; ++b) {
            const std::int64_t done = draw(b);
            if (single_precision) truth_ds.write_rows(w.offset() + done, batch.size(), narrow(truth));
            else truth_ds.write_rows(w.offset() + done, batch.size(), truth.data());
            w.write(batch);
        }
    }
}

// The generating model under /truth (its handles closed on return, before the file is).
void write_truth_model(const GenerateParams& p, const GenreModel& model, const ObservedBlock& obs, const Comm& comm,
                       const h5::File& f) {
    const int me = comm.rank();
    f.create_dataset<double>("/truth/user_factors", p.users, p.genres)
        .write_rows(obs.users.begin(me), obs.users.size(me), obs.user_factors.data());
    f.write_vector("/truth/item_factors", model.item_factors, p.genres);
    f.write_vector("/truth/item_genre", model.item_genre);
    f.write_vector("/truth/item_weight", model.item_weight);
    f.write_strings("/truth/genre_names", model.genre_names);
    const auto g = f.group("/truth");
    g.set_attr("true_min", model.true_min);
    g.set_attr("true_max", model.true_max);
    g.set_attr("exact_minmax", std::int64_t{model.exact_minmax ? 1 : 0});
}

}  // namespace

void generate_to_file(const GenerateParams& p, const std::string& out, int compression, bool single_precision,
                      Context& ctx) {
    p.validate();
    require_output_dir(out);
    const Comm& comm = ctx.comm;
    comm.barrier();
    const double t0 = MPI_Wtime();
    const GenreModel model = make_genre_model(p, comm);
    const ObservedBlock obs = observe_block(p, model, comm);
    // With --implicit the header's rating_max is the largest drawn count, known before anything is
    // written: it comes from the same draws as the counts.
    double largest = 5.0;
    const std::vector<std::int64_t> per_user = ratings_per_user(p, model, obs, &largest);
    const double rating_max = comm.max(largest);
    std::int64_t n = 0;
    for (auto c : per_user) n += c;
    std::vector<std::uint8_t> is_test;
    if (p.test_fraction > 0) {  // the split needs only (user, item): values are drawn batch by batch below
        std::vector<std::int32_t> users, items;
        rating_pairs(p, model, obs, per_user, users, items);
        SplitOptions so;
        so.test_fraction = p.test_fraction;
        so.seed = p.seed;
        is_test = choose_test(users, items, so, comm);
    }

    StoreHeader h;
    h.n_users = p.users;
    h.n_items = p.items;
    h.rating_min = 1.0;
    h.rating_max = rating_max;
    h.provenance = Provenance::now(ctx.command_line);
    h.compression = compression;
    h.single_precision = single_precision;
    h.text_attrs["source"] = "distcf generate";
    h.text_attrs["item_popularity"] = p.item_popularity;
    h.text_attrs["user_activity"] = p.user_activity;
    h.text_attrs["precision"] = single_precision ? "single" : "double";
    h.number_attrs = {{"users", double(p.users)},          {"items", double(p.items)},
                      {"genres", double(p.genres)},        {"seed", double(p.seed)},
                      {"noise", p.noise},                  {"density", p.density},
                      {"min_per_user", double(p.min_per_user)}, {"min_per_item", double(p.min_per_item)},
                      {"test_fraction", p.test_fraction},  {"implicit", p.implicit ? 1.0 : 0.0},
                      {"implicit_scale", p.implicit_scale}, {"implicit_sharpness", p.implicit_sharpness}, {"exact_minmax_pairs", p.exact_minmax_pairs}};
    StoreWriter w(out, comm, h, n, IdMap::identity(p.users), IdMap::identity(p.items), false, !is_test.empty());
    write_ratings(p, model, obs, per_user, is_test, compression, single_precision, comm, w);
    write_truth_model(p, model, obs, comm, w.file());
    w.commit();
    const double t1 = MPI_Wtime();
    const std::int64_t nnz = w.nnz();
    ctx.out << "generated " << nnz << " ratings (" << p.users << " users x " << p.items << " items, " << p.genres
            << " genres, density " << static_cast<double>(nnz) / (static_cast<double>(p.users) * p.items) << ") -> "
            << out << " in " << t1 - t0 << " s, generated and written in batches of whole users (" << (single_precision ? "single" : "double") << " precision values)\n";
    const auto rss = comm.allgather<std::int64_t>(peak_rss_bytes());
    const auto mine = comm.allgather<std::int64_t>(n);
    ctx.out << "peak RSS per rank:";
    for (std::size_t r = 0; r < rss.size(); ++r)
        ctx.out << " " << rss[r] / 1048576 << " MiB (" << (mine[r] ? static_cast<double>(rss[r]) / mine[r] : 0.0)
                << " B/rating)";
    ctx.out << "\n";
}

namespace {

void run_generate(const GenerateArgs& a, Context& ctx) {
    generate_to_file(a.p, a.out, a.compression, a.precision == "single", ctx);
}

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
    s->add_option("--precision", a->precision,
                  "single: rating and truth values as 32-bit floats (half the file; 7 digits, far below the noise); "
                  "double: 64-bit")
        ->check(CLI::IsMember({"single", "double"}))
        ->capture_default_str();
    s->add_option("--out", a->out, "output HDF5 store")->required();
    reg.push_back({s, [a, &ctx] { run_generate(*a, ctx); }});
}

}  // namespace distcf::cli
