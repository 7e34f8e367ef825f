#include "distcf/app/study.hpp"
#include "distcf/util/progress.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "distcf/app/generate_file.hpp"
#include "distcf/app/model_file.hpp"
#include "distcf/app/training_set.hpp"
#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/io/store.hpp"
#include "distcf/model/als.hpp"
#include "distcf/model/analysis.hpp"
#include "distcf/model/baseline.hpp"
#include "distcf/model/bpmf.hpp"
#include "distcf/model/recommend.hpp"
#include "distcf/model/sweep.hpp"

namespace distcf {

namespace {

// One user's training ratings (items, values), from the rank that owns the user.
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

// Built-in data: the notebook's parameters (80 users, 50 movies, 5 genres, RNG seed 42, density
// 0.25, noise 0.3, 20% test), drawn by distcf's own generator beside the results file.
std::string builtin_data(const StudyOptions& o, const Comm& comm, const std::function<void(const std::string&)>& note) {
    const auto dir = std::filesystem::path(o.out).parent_path();
    const std::string path = (dir.empty() ? std::filesystem::path(".") : dir).string() + "/study-data.h5";
    GenerateParams g;
    g.test_fraction = 0.2;
    const GenerateReport r = generate_to_file(g, path, 1, false, o.command_line, comm);
    if (note)
        note("built-in data (the notebook's model and parameters): generated " + std::to_string(r.nnz) + " ratings (" +
             std::to_string(g.users) + " users x " + std::to_string(g.items) + " items, " + std::to_string(g.genres) +
             " genres) -> " + path);
    return path;
}

// The noise-free ratings of every (user, item) from the generator's /truth group.
std::vector<double> truth_matrix(const h5::File& in, std::int64_t U, std::int64_t I, int G) {
    const auto uf = in.read_vector<double>("/truth/user_factors"), mf = in.read_vector<double>("/truth/item_factors");
    const auto g = in.group("/truth");
    GenreModel m;
    m.true_min = g.attr_double("true_min");
    m.true_max = g.attr_double("true_max");
    m.exact_minmax = !g.has_attr("exact_minmax") || g.attr_int("exact_minmax") != 0;
    std::vector<double> truth(static_cast<std::size_t>(U * I));
    for (std::int64_t u = 0; u < U; ++u)
        for (std::int64_t i = 0; i < I; ++i)
            truth[static_cast<std::size_t>(u * I + i)] = std::clamp(true_rating(m, &uf[u * G], &mf[i * G], G), 1.0, 5.0);
    return truth;
}

}  // namespace

StudyResult run_study(const StudyOptions& o, const Comm& comm, const std::function<void(const std::string&)>& note) {
    StudyResult s;
    // The results directory (results/ by default) is made when missing.
    const auto parent = std::filesystem::path(o.out).parent_path();
    if (comm.is_root() && !parent.empty()) std::filesystem::create_directories(parent);
    comm.barrier();
    require_output_dir(o.out);
    const double t_start = Comm::wtime();
    s.data_path = o.data.empty() ? builtin_data(o, comm, note) : o.data;
    const std::string& path = s.data_path;
    TrainingSetOptions opt;
    if (!read_store_info(path, comm).has_split) opt.test_fraction = o.test_fraction;
    const TrainingSet d = load_training_set(path, opt, comm);
    const RatingBlocks& t = d.train;
    s.users = d.users;
    s.items = d.items;
    s.n_users = t.n_users;
    s.n_items = t.n_items;
    s.nnz_train = t.nnz;
    s.nnz_test = comm.sum<std::int64_t>(d.test.nnz());
    if (s.nnz_test == 0) DISTCF_THROW(InputError, path + ": the study needs test ratings (a stored split or --test-fraction)");
    const h5::File in = h5::File::open(path, comm);
    const bool has_truth = in.exists("/truth/item_genre");
    const bool small = t.nnz <= 200000;
    auto fit = [&](const FactorModel& m) {
        return std::pair{rmse(error_sums(m, t.by_user, t.users, comm)), rmse(error_sums(m, d.test, t.users, comm))};
    };

    // 1. The notebook's bias baseline.
    report_stage("study: 1/8 bias baseline");
    BaselineParams bp;
    bp.estimator = BaselineEstimator::Notebook;
    const FactorModel base = fit_baseline(t, bp, comm);
    std::tie(s.baseline_train, s.baseline_test) = fit(base);
    s.table.push_back({"baseline (notebook)", 0, 0, s.baseline_train, s.baseline_test});

    // 2. SVD of the zero-filled residual over k; k chosen by test RMSE, as the notebook does.
    report_stage("study: 2/8 SVD over k");
    SvdParams sp;
    sp.baseline = bp;
    sp.select_k = SelectK::Test;
    sp.factor_grid.clear();
    for (int k : {1, 2, 3, 5, 8, 10, 15, 20, 30})
        if (k <= std::min(t.n_users, t.n_items)) sp.factor_grid.push_back(k);
    s.svd = fit_svd(t, d.test, sp, comm);
    s.svd_solver = resolve_svd_solver(sp, t.n_users, t.n_items, comm.size());
    s.svd_select_k = sp.select_k;
    const auto at = static_cast<std::size_t>(std::find(s.svd.table.k.begin(), s.svd.table.k.end(), s.svd.k_selected) -
                                             s.svd.table.k.begin());
    s.table.push_back({"SVD (notebook: best k by test)", s.svd.k_selected, 0, s.svd.table.train_rmse[at], s.svd.table.test_rmse[at]});

    // 3. The notebook's ALS at the SVD's k: no biases, lambda I, 60 iterations, its initial factors
    //    when the data carry them (scripts/seed_dataset.py), else N(0, 0.1) from the RNG seed.
    report_stage("study: 3/8 ALS (notebook formulation)");
    AlsParams notebook_p;
    notebook_p.formulation = AlsFormulation::Notebook;
    notebook_p.factors = s.svd.k_selected;
    notebook_p.lambda = 0.1;
    notebook_p.iters = 60;
    s.als_notebook = init_als(t, notebook_p);
    if (in.exists("/init/user_factors") && in.dataset("/init/user_factors").cols() == notebook_p.factors)
        warm_start(s.als_notebook, path, comm);
    run_als(s.als_notebook, t, d.test, notebook_p, comm);
    s.table.push_back({"ALS (notebook)", notebook_p.factors, notebook_p.lambda, s.als_notebook.history.train_rmse.back(),
                       s.als_notebook.history.test_rmse.back()});

    // 4. distcf's biased ALS, k and lambda by cross-validation inside the training ratings.
    report_stage("study: 4/8 biased ALS, k and lambda by cross-validation");
    SweepParams sw;
    sw.als.iters = small ? 30 : 20;
    if (small) {
        sw.factor_grid.clear();
        for (int k : {1, 2, 3, 4, 5, 6, 8})
            if (k <= std::min(t.n_users, t.n_items)) sw.factor_grid.push_back(k);
        sw.lambdas = {0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3};
        sw.folds = 5;
    } else {
        sw.factor_grid = {5, 10, 20, 50};
        sw.lambdas = {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4};
        sw.folds = 0;
    }
    s.sweep_folds = sw.folds;
    const SweepResult sr = sweep_als(t, sw, comm);
    AlsParams ours_p = sw.als;
    ours_p.factors = sr.points[sr.best].factors;
    ours_p.lambda = sr.points[sr.best].lambda;
    s.als_biased = init_als(t, ours_p);
    run_als(s.als_biased, t, d.test, ours_p, comm);
    const FactorModel& ours = s.als_biased;
    s.table.push_back({"ALS biased (distcf, validated)", ours_p.factors, ours_p.lambda, ours.history.train_rmse.back(),
                       ours.history.test_rmse.back()});
    // 5. Bayesian MF: no lambda to choose, and its noise level drawn from the data (generated sets
    //    have their own), the posterior mean of 100 samples after a burn-in of 10: a chain that
    //    also draws alpha settles later than the defaults' (chosen with alpha fixed; on the seed
    //    data 0.4570 with them, 0.4448 with this chain).
    report_stage("study: 5/8 Bayesian MF");
    BpmfParams bayes_p;
    bayes_p.sample_noise = true;
    bayes_p.burnin = 10;
    bayes_p.samples = 100;
    bayes_p.factors = static_cast<int>(std::min<std::int64_t>(bayes_p.factors, std::min(t.n_users, t.n_items)));
    FactorModel chain = init_bpmf(t, bayes_p);
    run_bpmf(chain, t, d.test, bayes_p, comm);
    s.table.push_back({"Bayesian MF (distcf, Gibbs)", bayes_p.factors, 0, chain.history.train_rmse.back(),
                       chain.history.test_rmse.back()});
    if (in.exists("/truth/value")) s.oracle = oracle_rmse(path, comm);

    // 6. The latent space, from the notebook's ALS item factors (ours when k < 2).
    report_stage("study: 6/8 latent space");
    const FactorModel& latent = s.als_notebook.n_factors >= 2 ? s.als_notebook : ours;
    s.latent_model = &latent == &s.als_notebook ? "ALS, original study's formulation" : "ALS, biased (distcf)";
    const int k = s.latent_k = latent.n_factors;
    const std::int64_t I = t.n_items, U = t.n_users;
    if (I <= 5000) s.similarity = cosine_similarity(latent.V, I, k);
    const std::vector<double> dirs = top_two_directions(latent.V, I, k);
    s.item_xy = project(latent.V, I, k, dirs);
    s.user_xy = project(latent.U, U, k, dirs);
    if (has_truth) {
        s.item_genre = in.read_vector<std::int32_t>("/truth/item_genre");
        s.genre_names = in.read_strings("/truth/genre_names");
        s.alignment = genre_alignment(latent.V, I, k, s.item_genre, static_cast<int>(s.genre_names.size()));
    }

    // 7. Top-N for the most active user, from our model, rated movies excluded.
    report_stage("study: 7/8 top-N");
    s.active_user = static_cast<std::int64_t>(std::max_element(t.user_counts.begin(), t.user_counts.end()) - t.user_counts.begin());
    std::vector<std::int32_t> rated;
    std::vector<double> rated_values;
    user_ratings(t, s.active_user, comm, rated, rated_values);
    s.active_user_ratings = static_cast<std::int64_t>(rated.size());
    std::vector<double> scores(static_cast<std::size_t>(I));
    for (std::int64_t i = 0; i < I; ++i) scores[i] = ours.score(s.active_user, i);
    std::vector<std::int32_t> sorted_rated = rated;
    std::sort(sorted_rated.begin(), sorted_rated.end());
    for (const auto& r : best_items(scores, sorted_rated, o.top)) {
        s.rec_items.push_back(r.item);
        s.rec_predicted.push_back(ours.predict(s.active_user, r.item));
    }
    if (has_truth) {
        std::vector<double> sum(s.genre_names.size(), 0.0), cnt(s.genre_names.size(), 0.0);
        for (std::size_t q = 0; q < rated.size(); ++q) {
            sum[static_cast<std::size_t>(s.item_genre[rated[q]])] += rated_values[q];
            cnt[static_cast<std::size_t>(s.item_genre[rated[q]])] += 1;
        }
        for (std::size_t g = 0; g < sum.size(); ++g)
            s.genre_mean.push_back(cnt[g] > 0 ? sum[g] / cnt[g] : std::numeric_limits<double>::quiet_NaN());
    }

    // 8. Predicted against observed test ratings (our model), and the rating matrices when small.
    report_stage("study: 8/8 predicted against observed");
    std::vector<std::int32_t> tu, ti;
    gather_all(d.test, comm, tu, ti, s.test_observed);
    s.test_predicted.resize(s.test_observed.size());
    for (std::size_t e = 0; e < s.test_observed.size(); ++e) s.test_predicted[e] = ours.predict(tu[e], ti[e]);
    if (U * I <= 250000) {
        std::vector<std::int32_t> au, ai;
        std::vector<double> av;
        gather_all(t.by_user, comm, au, ai, av);
        s.observed.assign(static_cast<std::size_t>(U * I), std::numeric_limits<double>::quiet_NaN());
        for (std::size_t e = 0; e < av.size(); ++e) s.observed[static_cast<std::size_t>(au[e] * I + ai[e])] = av[e];
        for (std::size_t e = 0; e < s.test_observed.size(); ++e)
            s.observed[static_cast<std::size_t>(tu[e] * I + ti[e])] = s.test_observed[e];
        if (has_truth && in.exists("/truth/user_factors"))
            s.truth = truth_matrix(in, U, I, static_cast<int>(s.genre_names.size()));
    }
    s.seconds = Comm::wtime() - t_start;
    return s;
}

}  // namespace distcf
