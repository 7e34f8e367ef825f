#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/data/training_set.hpp"
#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/model/als.hpp"
#include "distcf/model/baseline.hpp"
#include "distcf/model/ials.hpp"
#include "distcf/model/svd.hpp"
#include "distcf/util/resources.hpp"
#include "distcf/la/scalapack.hpp"

namespace distcf::cli {

namespace {

struct TrainArgs {
    std::string method = "als";
    std::string train;
    std::string out;
    TrainingSetOptions data;
    BaselineParams baseline;
    AlsParams als;
    SvdParams svd;
    IalsParams ials;
    double implicit_threshold = -1;  ///< >= 0: explicit ratings at least this become interactions
    std::string init;
    int checkpoint_every = 0;
    bool resume = false;
};

}  // namespace

// Initial factors from another file: /init/{user,item}_factors (scripts/seed_dataset.py) or a
// model's /model/{user,item}_factors.
void warm_start(FactorModel& m, const std::string& path, const Comm& comm) {
    h5::File f = h5::File::open(path, comm);
    const std::string base = f.exists("/init/user_factors") ? "/init" : "/model";
    if (!f.exists(base + "/user_factors"))
        DISTCF_THROW(InputError, path + ": no /init or /model factors to start from");
    auto U = f.read_vector<double>(base + "/user_factors");
    auto V = f.read_vector<double>(base + "/item_factors");
    if (static_cast<std::int64_t>(U.size()) != m.n_users * m.rank || static_cast<std::int64_t>(V.size()) != m.n_items * m.rank)
        DISTCF_THROW(InputError, path + ": " + base + " factors do not match " + std::to_string(m.n_users) + " users, " +
                                     std::to_string(m.n_items) + " items and rank " + std::to_string(m.rank));
    m.U = std::move(U);
    m.V = std::move(V);
    if (base == "/model" && f.exists("/model/item_bias") && !m.item_bias.empty()) {
        auto bi = f.read_vector<double>("/model/item_bias");
        if (bi.size() == m.item_bias.size()) m.item_bias = std::move(bi);
    }
}

void write_svd_table(h5::File& f, const SvdFit& fit, const std::string& solver, const std::string& select_k) {
    const auto g = f.create_group("/svd");
    f.write_vector("/svd/singular_values", fit.singular_values);
    std::vector<std::int64_t> k(fit.table.k.begin(), fit.table.k.end());
    f.write_vector("/svd/k", k);
    f.write_vector("/svd/train_rmse", fit.table.train_rmse);
    f.write_vector("/svd/test_rmse", fit.table.test_rmse);
    f.write_vector("/svd/validation_rmse", fit.validation_rmse);
    g.set_attr("solver", solver);
    g.set_attr("select_k", select_k);
    g.set_attr("k_selected", std::int64_t{fit.k_selected});
}

namespace {

}  // namespace

std::int64_t describe(std::ostream& o, const std::string& path, const TrainingSet& data, const Comm& comm) {
    o << "data: " << path << ": " << data.train.nnz << " training ratings, " << data.train.n_users << " users, "
      << data.train.n_items << " items";
    const std::int64_t n_test = comm.sum<std::int64_t>(data.test.nnz());
    if (n_test) o << "; " << n_test << " test ratings (" << data.test_source << ")";
    o << "; " << comm.size() << " rank(s)\n";
    return n_test;
}

void add_data_options(CLI::App* s, std::string& train, TrainingSetOptions& data) {
    s->add_option("--train", train, "training rating store (a stored split is used unless --test is given)")->required();
    s->add_option("--test", data.test_path, "test rating store for the per-iteration test RMSE");
    s->add_option("--test-fraction", data.test_fraction, "hold out this fraction of --train as test data");
    s->add_option("--split-seed", data.split_seed, "seed of --test-fraction")->capture_default_str();
    s->add_flag("!--ignore-stored-split", data.use_stored_split, "train on all ratings of a store with a split");
}

void add_als_options(CLI::App* s, AlsParams& als, bool grid) {
    s->add_option("--formulation", als.formulation, "seed | biased")
        ->check(CLI::IsMember({"seed", "biased"}))
        ->capture_default_str();
    if (!grid) {
        s->add_option("--rank", als.rank, "k: latent factors")->capture_default_str();
        s->add_option("--lambda", als.lambda, "regularisation (times n_u, n_i for biased)")->capture_default_str();
    }
    s->add_option("--iters", als.iters, "iterations (sweeps)")->capture_default_str();
    s->add_option("--tol", als.tol, "stop when the relative objective decrease is below this")->capture_default_str();
    s->add_option("--seed", als.seed, "seed of the initial factors")->capture_default_str();
    s->add_option("--row-solve", als.row_solve,
                  "auto | primal | dual: rows with fewer ratings than unknowns are cheaper in the dual form "
                  "(same solution); auto picks per row")
        ->check(CLI::IsMember({"auto", "primal", "dual"}))
        ->capture_default_str();
}

void print_fit(std::ostream& o, const char* label, double train, double test) {
    char line[160];
    if (test >= 0) std::snprintf(line, sizeof line, "%-28s train RMSE %.4f  test RMSE %.4f\n", label, train, test);
    else std::snprintf(line, sizeof line, "%-28s train RMSE %.4f\n", label, train);
    o << line;
}

namespace {


std::string fixed2(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v);
    return b;
}

std::string fixed6(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.6f", v);
    return b;
}

std::string fixed4(const std::vector<double>& v, std::size_t q) {
    if (q >= v.size()) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.4f", v[q]);
    return b;
}

void train_svd(const TrainArgs& a, const TrainingSet& data, std::int64_t n_test, Context& ctx, const Provenance& prov) {
    const Comm& comm = ctx.comm;
    auto& o = ctx.out;
    const std::string solver = resolve_svd_solver(a.svd, data.train.n_users, data.train.n_items, comm.size());
    o << "svd: " << solver << " solver";
    if (solver == "dense") {
        const auto g = scalapack::square_grid(comm.size());
        o << " (ScaLAPACK pdgesvd, " << g.rows << " x " << g.cols << " grid, block " << a.svd.block_size << ")";
    } else {
        o << " (oversample " << a.svd.oversample << ", " << a.svd.power_iters << " power iterations)";
    }
    o << ", " << a.svd.baseline.estimator << " baseline, k chosen by " << a.svd.select_k << "\n";
    const double t0 = MPI_Wtime();
    const SvdFit fit = fit_svd(data.train, data.test, a.svd, comm);
    const double seconds = MPI_Wtime() - t0;
    o << "     k   train RMSE    test RMSE   validation RMSE\n";
    for (std::size_t q = 0; q < fit.table.k.size(); ++q) {
        char line[128];
        std::snprintf(line, sizeof line, "%6d %12.4f %12s %17s\n", fit.table.k[q], fit.table.train_rmse[q],
                      fixed4(fit.table.test_rmse, q).c_str(), fixed4(fit.validation_rmse, q).c_str());
        o << line;
    }
    const auto at = static_cast<std::size_t>(std::find(fit.table.k.begin(), fit.table.k.end(), fit.k_selected) - fit.table.k.begin());
    char label[96];
    std::snprintf(label, sizeof label, "svd (%s, k=%d by %s)", solver.c_str(), fit.k_selected, a.svd.select_k.c_str());
    print_fit(o, label, fit.table.train_rmse[at], n_test ? fit.table.test_rmse[at] : -1.0);
    const double rss = static_cast<double>(comm.max(peak_rss_bytes()));
    o << "svd: " << seconds << " s in all; peak RSS per rank (max) " << rss / 1048576.0 << " MiB\n";
    FactorModel m = fit.model;
    m.history.push(0, fit.table.train_rmse[at], n_test ? fit.table.test_rmse[at] : -1.0, seconds, 0);
    save_model(a.out, m, data.users, data.items, prov, comm,
               [&](h5::File& f) { write_svd_table(f, fit, solver, a.svd.select_k); }, &data.train.by_user);
    o << "model written to " << a.out << "\n";
}

void train_ials(TrainArgs& a, TrainingSet& data, Context& ctx, const Provenance& prov) {
    const Comm& comm = ctx.comm;
    auto& o = ctx.out;
    IalsParams& p = a.ials;
    p.rank = a.als.rank;
    p.lambda = a.als.lambda;
    p.iters = a.als.iters;
    p.seed = a.als.seed;
    if (a.implicit_threshold >= 0) {
        data.train = as_interactions(data.train, a.implicit_threshold, comm);
        o << "interactions: ratings >= " << a.implicit_threshold << ", " << data.train.nnz << " kept\n";
    }
    o << "ials: k = " << p.rank << ", lambda = " << p.lambda << ", alpha = " << p.alpha << " (" << p.confidence
      << " confidence), " << (p.solver == "cg" ? std::to_string(p.cg_steps) + " CG steps per row" : std::string("Cholesky"))
      << "\n  iter          loss   seconds   GFLOP/s\n";
    FactorModel m = init_ials(data.train, p);
    run_ials(m, data.train, p, comm, [&](const IterationReport& r, const FactorModel&) {
        char line[128];
        std::snprintf(line, sizeof line, "%6d %13.6g %9.4f %9s\n", r.iteration, r.objective, r.seconds,
                      r.gflops > 0 ? fixed2(r.gflops).c_str() : "-");
        o << line << std::flush;
    });
    save_model(a.out, m, data.users, data.items, prov, comm, {}, &data.train.by_user);
    o << "model written to " << a.out << " (rank with `distcf evaluate --ranking`)\n";
}

void run_train(TrainArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    require_output_dir(a.out);
    a.svd.baseline = a.baseline;
    if (a.method == "baseline") a.baseline.validate();
    else if (a.method == "svd") a.svd.validate();
    else if (a.method == "ials") a.ials.validate();
    else a.als.validate();
    TrainingSet data = load_training_set(a.train, a.data, comm);
    auto& o = ctx.out;
    const std::int64_t n_test = describe(o, a.train, data, comm);
    const Provenance prov = Provenance::now(ctx.command_line);

    if (a.method == "baseline") {
        FactorModel m = fit_baseline(data.train, a.baseline, comm);
        const double tr = rmse(error_sums(m, data.train.by_user, data.train.users, comm));
        const double te = n_test ? rmse(error_sums(m, data.test, data.train.users, comm)) : -1.0;
        m.history.push(0, tr, te, 0, 0);
        char label[64];
        std::snprintf(label, sizeof label, "baseline (%s)", a.baseline.estimator.c_str());
        print_fit(o, label, tr, te);
        save_model(a.out, m, data.users, data.items, prov, comm, {}, &data.train.by_user);
        o << "model written to " << a.out << "\n";
        return;
    }

    if (a.method == "svd") {
        train_svd(a, data, n_test, ctx, prov);
        return;
    }
    if (a.method == "ials") {
        train_ials(a, data, ctx, prov);
        return;
    }

    FactorModel m;
    if (a.resume && std::filesystem::exists(a.out)) {
        m = load_model(a.out, comm);
        double row_solve = 0;  // absent from models made before --row-solve: auto
        for (const auto& [name, v] : m.params)
            if (name == "row_solve") row_solve = v;
        if (m.method != "als" || m.formulation != a.als.formulation || m.rank != a.als.rank || m.lambda != a.als.lambda ||
            m.n_users != data.train.n_users || m.n_items != data.train.n_items ||
            row_solve != row_solve_code(a.als.row_solve))
            DISTCF_THROW(InputError, a.out + ": --resume: the checkpoint was made with other data or parameters");
        o << "resuming from " << a.out << " after iteration " << m.iterations_done << "\n";
    } else {
        m = init_als(data.train, a.als);
        if (!a.init.empty()) warm_start(m, a.init, comm);
    }
    o << "  iter     objective   train RMSE   test RMSE   seconds   GFLOP/s\n";
    run_als(m, data.train, data.test, a.als, comm, [&](const IterationReport& r, const FactorModel& state) {
        char line[160];
        std::snprintf(line, sizeof line, "%6d %13.6g %12.6f %11s %9.4f %9.2f\n", r.iteration, r.objective, r.train_rmse,
                      r.test_rmse >= 0 ? fixed6(r.test_rmse).c_str() : "-", r.seconds, r.gflops);
        o << line << std::flush;
        if (a.checkpoint_every > 0 && r.iteration % a.checkpoint_every == 0 && r.iteration < a.als.iters)
            save_model(a.out, state, data.users, data.items, prov, comm, {}, &data.train.by_user);
    });
    char label[96];
    std::snprintf(label, sizeof label, "als (%s, k=%d, lambda=%g)", m.formulation.c_str(), m.rank, m.lambda);
    print_fit(o, label, m.history.train_rmse.empty() ? 0 : m.history.train_rmse.back(),
              m.history.test_rmse.empty() ? -1 : m.history.test_rmse.back());
    save_model(a.out, m, data.users, data.items, prov, comm, {}, &data.train.by_user);
    o << "model written to " << a.out << "\n";
}

}  // namespace

void add_train(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<TrainArgs>();
    CLI::App* s = app.add_subcommand("train", "Train a model (baseline or distributed ALS) on a rating store");
    s->add_option("--method", a->method, "baseline | als | svd | ials")->check(CLI::IsMember({"baseline", "als", "svd", "ials"}))->capture_default_str();
    add_data_options(s, a->train, a->data);
    s->add_option("--out", a->out, "output model file (HDF5)")->required();
    s->add_option("--baseline", a->baseline.estimator, "seed | regularized")
        ->check(CLI::IsMember({"seed", "regularized"}))
        ->capture_default_str();
    s->add_option("--baseline-lambda-user", a->baseline.lambda_user, "damping of user biases")->capture_default_str();
    s->add_option("--baseline-lambda-item", a->baseline.lambda_item, "damping of item biases")->capture_default_str();
    s->add_option("--baseline-rounds", a->baseline.rounds, "alternations of the regularised baseline")->capture_default_str();
    add_als_options(s, a->als, false);
    s->add_option("--ranks", a->svd.ranks, "svd: the k of the sweep, comma-separated")->delimiter(',')->capture_default_str();
    s->add_option("--svd-solver", a->svd.solver, "svd: auto | dense (ScaLAPACK) | randomized")
        ->check(CLI::IsMember({"auto", "dense", "randomized"}))
        ->capture_default_str();
    s->add_option("--block-size", a->svd.block_size, "svd: block-cyclic block size")->capture_default_str();
    s->add_option("--dense-budget-mb", a->svd.dense_budget_mb, "svd auto: dense while users x items x 8 B / ranks fits")
        ->capture_default_str();
    s->add_option("--oversample", a->svd.oversample, "svd randomized: extra sketch columns")->capture_default_str();
    s->add_option("--power-iters", a->svd.power_iters, "svd randomized: power iterations")->capture_default_str();
    s->add_option("--sketch-seed", a->svd.seed, "svd randomized: seed of the sketch")->capture_default_str();
    s->add_option("--select-k", a->svd.select_k, "svd: validation (hold-out of the training data) | test | largest")
        ->check(CLI::IsMember({"validation", "test", "largest"}))
        ->capture_default_str();
    s->add_option("--validation-fraction", a->svd.validation_fraction, "svd: hold-out fraction for --select-k validation")
        ->capture_default_str();
    s->add_option("--alpha", a->ials.alpha, "ials: confidence slope")->capture_default_str();
    s->add_option("--confidence", a->ials.confidence, "ials: linear (1 + alpha r) | log (1 + alpha log(1 + r / epsilon))")
        ->check(CLI::IsMember({"linear", "log"}))
        ->capture_default_str();
    s->add_option("--epsilon", a->ials.epsilon, "ials: epsilon of the log confidence")->capture_default_str();
    s->add_option("--solver", a->ials.solver, "ials: cholesky (exact) | cg (conjugate gradient, warm-started)")
        ->check(CLI::IsMember({"cholesky", "cg"}))
        ->capture_default_str();
    s->add_option("--cg-steps", a->ials.cg_steps, "ials: CG steps per row and half-step")->capture_default_str();
    s->add_option("--implicit-from-ratings", a->implicit_threshold,
                  "ials: read explicit ratings >= this as interactions (strength 1), drop the rest");
    s->add_option("--init", a->init, "start from the factors in this file (/init or /model)");
    s->add_option("--checkpoint-every", a->checkpoint_every, "write the state to --out every N iterations");
    s->add_flag("--resume", a->resume, "continue from the checkpoint in --out");
    reg.push_back({s, [a, &ctx] { run_train(*a, ctx); }});
}

}  // namespace distcf::cli
