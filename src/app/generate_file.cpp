#include "distcf/app/generate_file.hpp"
#include "distcf/util/progress.hpp"

#include "distcf/data/split.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/store.hpp"
#include "distcf/util/resources.hpp"

namespace distcf {

namespace {

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
    std::int64_t mine = 0;
    for (auto c : per_user) mine += c;
    Progress progress("generate: ratings", mine, "ratings");  // this rank's share (rank 0 speaks)
    if (compression == 0) {
        // Independent writes: a rank writes its batch while the other draws; the kernel serialises
        // writers to one file, so lock-step rounds would leave one rank spinning on its lock.
        for (std::size_t b = 0; b < batches.size(); ++b) {
            const std::int64_t done = draw(b);
            if (single_precision) truth_ds.write_rows_independent(w.offset() + done, batch.size(), narrow(truth));
            else truth_ds.write_rows_independent(w.offset() + done, batch.size(), truth.data());
            w.append(batch);
            progress.add(static_cast<std::int64_t>(batch.size()));
        }
    } else {
        // Parallel HDF5 compresses only in collective writes: every rank, every round.
        const auto rounds = static_cast<std::size_t>(comm.max(static_cast<std::int64_t>(batches.size())));
        for (std::size_t b = 0; b < rounds; ++b) {
            const std::int64_t done = draw(b);
            if (single_precision) truth_ds.write_rows(w.offset() + done, batch.size(), narrow(truth));
            else truth_ds.write_rows(w.offset() + done, batch.size(), truth.data());
            w.write(batch);
            progress.add(static_cast<std::int64_t>(batch.size()));
        }
    }
    progress.finish();
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

GenerateReport generate_to_file(const GenerateParams& p, const std::string& out, int compression, bool single_precision,
                                const std::string& command_line, const Comm& comm) {
    p.validate();
    require_output_dir(out);
    comm.barrier();
    const double t0 = Comm::wtime();
    report_stage("generate: model", {{"genres", p.genres}});
    const GenreModel model = make_genre_model(p, comm);
    const ObservedBlock obs = observe_block(p, model, comm);
    // With --implicit the header's rating_max is the largest drawn count, known before anything is
    // written: it comes from the same draws as the counts.
    double largest = 5.0;
    const std::vector<std::int64_t> per_user = ratings_per_user(p, model, obs, &largest);
    const double rating_max = comm.max(largest);
    std::int64_t n = 0;
    for (auto c : per_user) n += c;
    report_stage("generate: observed", {{"ratings", comm.sum(n)}});
    std::vector<std::uint8_t> is_test;
    if (p.test_fraction > 0) {  // the split needs only (user, item): values are drawn batch by batch below
        std::vector<std::int32_t> users, items;
        rating_pairs(p, model, obs, per_user, users, items);
        SplitOptions so;
        so.test_fraction = p.test_fraction;
        so.rng_seed = p.rng_seed;
        is_test = choose_test(users, items, so, comm);
    }

    StoreHeader h;
    h.n_users = p.users;
    h.n_items = p.items;
    h.rating_min = 1.0;
    h.rating_max = rating_max;
    h.provenance = Provenance::now(command_line);
    h.compression = compression;
    h.single_precision = single_precision;
    h.text_attrs["source"] = "distcf generate";
    h.text_attrs["item_popularity"] = p.item_popularity;
    h.text_attrs["user_activity"] = p.user_activity;
    h.text_attrs["precision"] = single_precision ? "single" : "double";
    h.number_attrs = {{"users", double(p.users)},          {"items", double(p.items)},
                      {"genres", double(p.genres)},        {"seed", double(p.rng_seed)},
                      {"noise", p.noise},                  {"density", p.density},
                      {"min_per_user", double(p.min_per_user)}, {"min_per_item", double(p.min_per_item)},
                      {"test_fraction", p.test_fraction},  {"implicit", p.implicit ? 1.0 : 0.0},
                      {"implicit_scale", p.implicit_scale}, {"implicit_sharpness", p.implicit_sharpness}};
    h.text_attrs["profile"] = p.profile;
    StoreWriter w(out, comm, h, n, IdMap::identity(p.users), IdMap::identity(p.items), false, !is_test.empty());
    write_ratings(p, model, obs, per_user, is_test, compression, single_precision, comm, w);
    write_truth_model(p, model, obs, comm, w.file());
    w.commit();
    GenerateReport r;
    r.seconds = Comm::wtime() - t0;
    r.nnz = w.nnz();
    r.peak_rss = comm.allgather<std::int64_t>(peak_rss_bytes());
    r.ratings_per_rank = comm.allgather<std::int64_t>(n);
    return r;
}

}  // namespace distcf
