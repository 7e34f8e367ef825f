// distcf study: the notebook's whole study in one run (baseline, SVD sweep, the notebook's ALS,
// our ALS chosen by validation, the latent space, recommendations) into one results file.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/io/item_info.hpp"
#include "distcf/model/analysis.hpp"
#include "distcf/model/oracle.hpp"
#include "distcf/model/recommend.hpp"
#include "distcf/model/svd.hpp"
#include "distcf/model/sweep.hpp"

namespace distcf::cli {

namespace {

struct StudyArgs {
    std::string data, out = "results/study.h5", titles;
    double test_fraction = 0.2;
    int top = 8;
};

struct Row {
    std::string method;
    int k = 0;
    double lambda = 0, train = 0, test = 0;
};

// The most active user's training ratings (items, values), from the rank that owns the user.
void user_ratings(const RatingBlocks& t, std::int64_t u, const Comm& comm, std::vector<std::int32_t>& items,
                  std::vector<double>& values) {
    const int owner = t.users.owner(u);
    if (comm.rank() == owner) {
        const auto r = u - t.by_user.row0;
        items.assign(t.by_user.col.begin() + t.by_user.ptr[r], t.by_user.col.begin() + t.by_user.ptr[r + 1]);
        values.assign(t.by_user.val.begin() + t.by_user.ptr[r], t.by_user.val.begin() + t.by_user.ptr[r + 1]);
    }
    comm.bcast(items, owner);
    comm.bcast(values, owner);
}

// Every rank's rows of a CSR by user, gathered as (user, item, value) on every rank.
void gather_all(const Csr& c, const Comm& comm, std::vector<std::int32_t>& u, std::vector<std::int32_t>& i,
                std::vector<double>& v) {
    std::vector<std::int32_t> mu, mi;
    std::vector<double> mv;
    for (std::int64_t r = 0; r < c.rows(); ++r)
        for (auto p = c.ptr[r]; p < c.ptr[r + 1]; ++p) {
            mu.push_back(static_cast<std::int32_t>(c.row0 + r));
            mi.push_back(c.col[p]);
            mv.push_back(c.val[p]);
        }
    u = comm.allgatherv(mu);
    i = comm.allgatherv(mi);
    v = comm.allgatherv(mv);
}

std::string fmt(double v, const char* f = "%.4f") {
    if (v < 0 || !std::isfinite(v)) return "-";
    char b[32];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

void run_study(const StudyArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    auto& o = ctx.out;
    // The results directory (results/ by default) is made when missing.
    const auto parent = std::filesystem::path(a.out).parent_path();
    if (comm.is_root() && !parent.empty()) std::filesystem::create_directories(parent);
    comm.barrier();
    require_output_dir(a.out);
    const double t_start = MPI_Wtime();
    std::string path = a.data;
    if (path.empty()) {
        // Built-in: the notebook's parameters (80 users, 50 movies, 5 genres, seed 42, density 0.25,
        // noise 0.3, 20% test), drawn by distcf's own generator.
        const auto dir = std::filesystem::path(a.out).parent_path();
        path = (dir.empty() ? std::filesystem::path(".") : dir).string() + "/study-data.h5";
        GenerateParams g;
        g.test_fraction = 0.2;
        o << "built-in data (the notebook's model and parameters): ";
        generate_to_file(g, path, 1, false, ctx);
    }
    TrainingSetOptions opt;
    if (!read_store_info(path, comm).has_split) opt.test_fraction = a.test_fraction;
    const TrainingSet d = load_training_set(path, opt, comm);
    const RatingBlocks& t = d.train;
    const std::int64_t n_test = describe(o, path, d, comm);
    if (n_test == 0) DISTCF_THROW(InputError, path + ": the study needs test ratings (a stored split or --test-fraction)");
    const h5::File in = h5::File::open(path, comm);
    const bool has_truth = in.exists("/truth/item_genre");
    const bool small = t.nnz <= 200000;
    std::vector<Row> table;
    auto fit = [&](const FactorModel& m) {
        return std::pair{rmse(error_sums(m, t.by_user, t.users, comm)), rmse(error_sums(m, d.test, t.users, comm))};
    };

    // 1. The notebook's bias baseline.
    BaselineParams bp;
    bp.estimator = "seed";
    const FactorModel base = fit_baseline(t, bp, comm);
    const auto [btr, bte] = fit(base);
    table.push_back({"baseline (notebook)", 0, 0, btr, bte});

    // 2. SVD of the zero-filled residual over k; k chosen by test RMSE, as the notebook does.
    SvdParams sp;
    sp.baseline = bp;
    sp.select_k = "test";
    sp.ranks.clear();
    for (int k : {1, 2, 3, 5, 8, 10, 15, 20, 30})
        if (k <= std::min(t.n_users, t.n_items)) sp.ranks.push_back(k);
    const SvdFit svd = fit_svd(t, d.test, sp, comm);
    const auto at = static_cast<std::size_t>(std::find(svd.table.k.begin(), svd.table.k.end(), svd.k_selected) - svd.table.k.begin());
    table.push_back({"SVD (notebook: best k by test)", svd.k_selected, 0, svd.table.train_rmse[at], svd.table.test_rmse[at]});

    // 3. The notebook's ALS at the SVD's k: no biases, lambda I, 60 iterations, its initial factors
    //    when the data carry them (scripts/seed_dataset.py), else N(0, 0.1) from the seed.
    AlsParams seed_p;
    seed_p.formulation = "seed";
    seed_p.rank = svd.k_selected;
    seed_p.lambda = 0.1;
    seed_p.iters = 60;
    FactorModel als_seed = init_als(t, seed_p);
    if (in.exists("/init/user_factors") &&
        in.dataset("/init/user_factors").cols() == seed_p.rank)
        warm_start(als_seed, path, comm);
    run_als(als_seed, t, d.test, seed_p, comm);
    table.push_back({"ALS (notebook)", seed_p.rank, seed_p.lambda, als_seed.history.train_rmse.back(),
                     als_seed.history.test_rmse.back()});

    // 4. distcf's biased ALS, k and lambda by cross-validation inside the training ratings.
    SweepParams sw;
    sw.als.iters = small ? 30 : 20;
    if (small) {
        sw.ranks.clear();
        for (int k : {1, 2, 3, 4, 5, 6, 8})
            if (k <= std::min(t.n_users, t.n_items)) sw.ranks.push_back(k);
        sw.lambdas = {0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3};
        sw.folds = 5;
    } else {
        sw.ranks = {5, 10, 20, 50};
        sw.lambdas = {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4};
        sw.folds = 0;
    }
    const SweepResult sr = sweep_als(t, sw, comm);
    AlsParams ours_p = sw.als;
    ours_p.rank = sr.points[sr.best].rank;
    ours_p.lambda = sr.points[sr.best].lambda;
    FactorModel ours = init_als(t, ours_p);
    run_als(ours, t, d.test, ours_p, comm);
    table.push_back({"ALS biased (distcf, validated)", ours_p.rank, ours_p.lambda, ours.history.train_rmse.back(),
                     ours.history.test_rmse.back()});

    OracleRmse oracle;
    if (in.exists("/truth/value")) oracle = oracle_rmse(path, comm);
    o << "\n  method                            k   lambda   train RMSE   test RMSE\n";
    for (const auto& r : table) {
        char line[160];
        std::snprintf(line, sizeof line, "  %-32s %2s %8s %12.4f %11.4f\n", r.method.c_str(), r.k ? std::to_string(r.k).c_str() : "-",
                      r.lambda > 0 ? fmt(r.lambda, "%g").c_str() : "-", r.train, r.test);
        o << line;
    }
    if (oracle.test >= 0)
        o << "  oracle (noise-free truth)                        " << fmt(oracle.train) << "      " << fmt(oracle.test) << "\n";
    o << "  (choice of k and lambda for distcf's ALS: " << (sw.folds ? std::to_string(sw.folds) + "-fold" : std::string("hold-out"))
      << " validation on the training ratings; the notebook chose its SVD k by test RMSE)\n";

    // 5. The latent space, from the notebook's ALS item factors (ours when k < 2).
    const FactorModel& latent = als_seed.rank >= 2 ? als_seed : ours;
    const int k = latent.rank;
    const std::int64_t I = t.n_items, U = t.n_users;
    const std::vector<double> sim = I <= 5000 ? cosine_similarity(latent.V, I, k) : std::vector<double>{};
    const std::vector<double> dirs = top_two_directions(latent.V, I, k);
    const std::vector<double> item_xy = project(latent.V, I, k, dirs), user_xy = project(latent.U, U, k, dirs);
    std::vector<std::int32_t> item_genre;
    std::vector<std::string> genre_names;
    std::vector<std::int64_t> alignment;
    if (has_truth) {
        item_genre = in.read_vector<std::int32_t>("/truth/item_genre");
        genre_names = in.read_strings("/truth/genre_names");
        alignment = genre_alignment(latent.V, I, k, item_genre, static_cast<int>(genre_names.size()));
    }

    // 6. Top-N for the most active user, from our model, rated movies excluded.
    const auto active = static_cast<std::int64_t>(std::max_element(t.user_counts.begin(), t.user_counts.end()) - t.user_counts.begin());
    std::vector<std::int32_t> rated;
    std::vector<double> rated_values;
    user_ratings(t, active, comm, rated, rated_values);
    std::vector<double> scores(static_cast<std::size_t>(I));
    for (std::int64_t i = 0; i < I; ++i) scores[i] = ours.score(active, i);
    std::vector<std::int32_t> sorted_rated = rated;
    std::sort(sorted_rated.begin(), sorted_rated.end());
    const auto recs = best_items(scores, sorted_rated, a.top);
    const auto info = a.titles.empty() ? std::map<std::string, ItemInfo>{} : read_item_info(a.titles);
    o << "\ntop " << a.top << " for the most active user (" << d.users.label(active) << ", " << rated.size()
      << " training ratings; rated movies excluded)\n";
    for (std::size_t r = 0; r < recs.size(); ++r) {
        char line[160];
        const auto i = recs[r].item;
        const auto named = info.find(d.items.label(i));
        const std::string what = named != info.end() ? "  " + named->second.title + " (" + named->second.genres + ")"
                                 : has_truth        ? "  genre " + genre_names[static_cast<std::size_t>(item_genre[i])]
                                                    : std::string();
        std::snprintf(line, sizeof line, "  %2zu. item %-8s predicted %.2f%s\n", r + 1, d.items.label(i).c_str(),
                      ours.predict(active, i), what.c_str());
        o << line;
    }
    std::vector<double> genre_mean;
    if (has_truth) {
        std::vector<double> sum(genre_names.size(), 0.0), cnt(genre_names.size(), 0.0);
        for (std::size_t q = 0; q < rated.size(); ++q) {
            sum[static_cast<std::size_t>(item_genre[rated[q]])] += rated_values[q];
            cnt[static_cast<std::size_t>(item_genre[rated[q]])] += 1;
        }
        o << "  that user's mean rating per genre:";
        for (std::size_t g = 0; g < sum.size(); ++g) {
            genre_mean.push_back(cnt[g] > 0 ? sum[g] / cnt[g] : std::numeric_limits<double>::quiet_NaN());
            o << " " << genre_names[g] << " " << (cnt[g] > 0 ? fmt(genre_mean.back(), "%.2f") : std::string("-"));
        }
        o << "\n";
    }

    // 7. Predicted against observed test ratings (our model), and the rating matrices when small.
    std::vector<std::int32_t> tu, ti;
    std::vector<double> tv;
    gather_all(d.test, comm, tu, ti, tv);
    std::vector<double> test_pred(tv.size());
    for (std::size_t e = 0; e < tv.size(); ++e) test_pred[e] = ours.predict(tu[e], ti[e]);
    const bool matrices = U * I <= 250000;
    std::vector<double> observed, truth;
    if (matrices) {
        std::vector<std::int32_t> au, ai;
        std::vector<double> av;
        gather_all(t.by_user, comm, au, ai, av);
        observed.assign(static_cast<std::size_t>(U * I), std::numeric_limits<double>::quiet_NaN());
        for (std::size_t e = 0; e < av.size(); ++e) observed[static_cast<std::size_t>(au[e] * I + ai[e])] = av[e];
        for (std::size_t e = 0; e < tv.size(); ++e) observed[static_cast<std::size_t>(tu[e] * I + ti[e])] = tv[e];
        if (has_truth && in.exists("/truth/user_factors")) {
            const auto uf = in.read_vector<double>("/truth/user_factors"), mf = in.read_vector<double>("/truth/item_factors");
            const int G = static_cast<int>(genre_names.size());
            const auto g = in.group("/truth");
            const double lo = g.attr_double("true_min"), hi = g.attr_double("true_max");
            truth.resize(static_cast<std::size_t>(U * I));
            for (std::int64_t u = 0; u < U; ++u)
                for (std::int64_t i = 0; i < I; ++i) {
                    double dot = 0;
                    for (int f = 0; f < G; ++f) dot += uf[u * G + f] * mf[i * G + f];
                    truth[static_cast<std::size_t>(u * I + i)] = std::clamp(1.0 + 4.0 * (dot - lo) / (hi - lo), 1.0, 5.0);
                }
        }
    }

    // The results file: everything above, for scripts/report.py.
    AtomicOutput out(a.out, comm);
    {
        h5::File f = h5::File::create(out.temp_path(), comm);
        f.set_attr("format", std::string("distcf-study"));
        f.set_attr("data", path);
        f.set_attr("n_users", U);
        f.set_attr("n_items", I);
        f.set_attr("nnz_train", t.nnz);
        f.set_attr("nnz_test", n_test);
        Provenance::now(ctx.command_line).write(f);
        std::vector<std::string> names;
        std::vector<std::int64_t> ks;
        std::vector<double> lambdas, trs, tes;
        for (const auto& r : table) {
            names.push_back(r.method);
            ks.push_back(r.k);
            lambdas.push_back(r.lambda);
            trs.push_back(r.train);
            tes.push_back(r.test);
        }
        f.write_strings("/comparison/method", names);
        f.write_vector("/comparison/k", ks);
        f.write_vector("/comparison/lambda", lambdas);
        f.write_vector("/comparison/train_rmse", trs);
        f.write_vector("/comparison/test_rmse", tes);
        f.group("/comparison").set_attr("oracle_train_rmse", oracle.train);
        f.group("/comparison").set_attr("oracle_test_rmse", oracle.test);
        write_svd_table(f, svd, resolve_svd_solver(sp, U, I, comm.size()), sp.select_k);
        f.group("/svd").set_attr("baseline_test_rmse", bte);
        f.group("/svd").set_attr("baseline_train_rmse", btr);
        for (const auto& [name, m] : {std::pair{"als_seed", &als_seed}, std::pair{"als_biased", &ours}}) {
            const std::string g = std::string("/") + name;
            f.write_vector(g + "/objective", m->history.objective);
            f.write_vector(g + "/train_rmse", m->history.train_rmse);
            f.write_vector(g + "/test_rmse", m->history.test_rmse);
            f.group(g).set_attr("rank", std::int64_t{m->rank});
            f.group(g).set_attr("lambda", m->lambda);
        }
        if (!sim.empty()) f.write_vector("/latent/similarity", sim, I);
        f.write_vector("/latent/item_xy", item_xy, 2);
        f.write_vector("/latent/user_xy", user_xy, 2);
        f.group("/latent").set_attr("model", std::string(&latent == &als_seed ? "ALS (notebook)" : "ALS biased (distcf)"));
        f.group("/latent").set_attr("rank", std::int64_t{k});
        if (has_truth) {
            f.write_vector("/latent/item_genre", item_genre);
            f.write_strings("/latent/genre_names", genre_names);
            f.write_vector("/latent/alignment", alignment, k);
        }
        std::vector<std::int32_t> rec_items;
        std::vector<double> rec_pred;
        for (const auto& r : recs) {
            rec_items.push_back(r.item);
            rec_pred.push_back(ours.predict(active, r.item));
        }
        f.write_vector("/recommend/items", rec_items);
        f.write_vector("/recommend/predicted", rec_pred);
        f.group("/recommend").set_attr("user", d.users.label(active));
        if (!genre_mean.empty()) f.write_vector("/recommend/genre_mean", genre_mean);
        f.write_vector("/test/observed", tv);
        f.write_vector("/test/predicted", test_pred);
        if (matrices) {
            f.write_vector("/matrices/observed", observed, I);
            if (!truth.empty()) f.write_vector("/matrices/truth", truth, I);
        }
        f.close();
    }
    out.commit();
    o << "\nstudy written to " << a.out << " in " << MPI_Wtime() - t_start << " s on " << comm.size()
      << " rank(s); pictures: /usr/bin/python3 scripts/report.py " << a.out << " --out DIR\n";
}

}  // namespace

void add_study(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<StudyArgs>();
    CLI::App* s = app.add_subcommand("study", "The notebook's whole study (baseline, SVD, ALS, latent space, top-N) into one results file");
    s->add_option("--data", a->data, "a rating store (default: built-in data with the notebook's parameters)");
    s->add_option("--out", a->out, "results file (HDF5)")->capture_default_str();
    s->add_option("--test-fraction", a->test_fraction, "hold-out fraction when the data have no stored split")->capture_default_str();
    s->add_option("--top", a->top, "N of the recommendations")->capture_default_str();
    s->add_option("--titles", a->titles, "MovieLens u.item, movies.dat or movies.csv: show titles and genres");
    reg.push_back({s, [a, &ctx] { run_study(*a, ctx); }});
}

}  // namespace distcf::cli
