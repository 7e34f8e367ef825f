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

namespace distcf::cli {

namespace {

struct TrainArgs {
    std::string method = "als";
    std::string train;
    std::string out;
    TrainingSetOptions data;
    BaselineParams baseline;
    AlsParams als;
    std::string init;
    int checkpoint_every = 0;
    bool resume = false;
};

void print_row(std::ostream& o, const char* label, double train, double test) {
    char line[160];
    if (test >= 0) std::snprintf(line, sizeof line, "%-28s train RMSE %.4f  test RMSE %.4f\n", label, train, test);
    else std::snprintf(line, sizeof line, "%-28s train RMSE %.4f\n", label, train);
    o << line;
}

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

void run_train(TrainArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    require_output_dir(a.out);
    if (a.method == "baseline") a.baseline.validate();
    else a.als.validate();
    TrainingSet data = load_training_set(a.train, a.data, comm);
    auto& o = ctx.out;
    o << "train: " << a.train << ": " << data.train.nnz << " training ratings, " << data.train.n_users << " users, "
      << data.train.n_items << " items";
    const std::int64_t n_test = comm.sum<std::int64_t>(data.test.nnz());
    if (n_test) o << "; " << n_test << " test ratings (" << data.test_source << ")";
    o << "; " << comm.size() << " rank(s)\n";
    const Provenance prov = Provenance::now(ctx.command_line);

    if (a.method == "baseline") {
        FactorModel m = fit_baseline(data.train, a.baseline, comm);
        const double tr = rmse(error_sums(m, data.train.by_user, data.train.users, comm));
        const double te = n_test ? rmse(error_sums(m, data.test, data.train.users, comm)) : -1.0;
        m.history.push(0, tr, te, 0, 0);
        char label[64];
        std::snprintf(label, sizeof label, "baseline (%s)", a.baseline.estimator.c_str());
        print_row(o, label, tr, te);
        save_model(a.out, m, data.users, data.items, prov, comm);
        o << "model written to " << a.out << "\n";
        return;
    }

    FactorModel m;
    if (a.resume && std::filesystem::exists(a.out)) {
        m = load_model(a.out, comm);
        if (m.method != "als" || m.formulation != a.als.formulation || m.rank != a.als.rank || m.lambda != a.als.lambda ||
            m.n_users != data.train.n_users || m.n_items != data.train.n_items)
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
                      r.test_rmse >= 0 ? std::to_string(r.test_rmse).substr(0, 8).c_str() : "-", r.seconds, r.gflops);
        o << line << std::flush;
        if (a.checkpoint_every > 0 && r.iteration % a.checkpoint_every == 0 && r.iteration < a.als.iters)
            save_model(a.out, state, data.users, data.items, prov, comm);
    });
    char label[96];
    std::snprintf(label, sizeof label, "als (%s, k=%d, lambda=%g)", m.formulation.c_str(), m.rank, m.lambda);
    print_row(o, label, m.history.train_rmse.empty() ? 0 : m.history.train_rmse.back(),
              m.history.test_rmse.empty() ? -1 : m.history.test_rmse.back());
    save_model(a.out, m, data.users, data.items, prov, comm);
    o << "model written to " << a.out << "\n";
}

}  // namespace

void add_train(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<TrainArgs>();
    CLI::App* s = app.add_subcommand("train", "Train a model (baseline or distributed ALS) on a rating store");
    s->add_option("--method", a->method, "baseline | als")->check(CLI::IsMember({"baseline", "als"}))->capture_default_str();
    s->add_option("--train", a->train, "training rating store (a stored split is used unless --test is given)")->required();
    s->add_option("--out", a->out, "output model file (HDF5)")->required();
    s->add_option("--test", a->data.test_path, "test rating store for the per-iteration test RMSE");
    s->add_option("--test-fraction", a->data.test_fraction, "hold out this fraction of --train as test data");
    s->add_option("--split-seed", a->data.split_seed, "seed of --test-fraction")->capture_default_str();
    s->add_flag("!--ignore-stored-split", a->data.use_stored_split, "train on all ratings of a store with a split");
    s->add_option("--baseline", a->baseline.estimator, "seed | regularized")
        ->check(CLI::IsMember({"seed", "regularized"}))
        ->capture_default_str();
    s->add_option("--baseline-lambda-user", a->baseline.lambda_user, "damping of user biases")->capture_default_str();
    s->add_option("--baseline-lambda-item", a->baseline.lambda_item, "damping of item biases")->capture_default_str();
    s->add_option("--baseline-rounds", a->baseline.rounds, "alternations of the regularised baseline")->capture_default_str();
    s->add_option("--formulation", a->als.formulation, "seed | biased")
        ->check(CLI::IsMember({"seed", "biased"}))
        ->capture_default_str();
    s->add_option("--rank", a->als.rank, "k: latent factors")->capture_default_str();
    s->add_option("--lambda", a->als.lambda, "regularisation (times n_u, n_i for biased)")->capture_default_str();
    s->add_option("--iters", a->als.iters, "iterations (sweeps)")->capture_default_str();
    s->add_option("--tol", a->als.tol, "stop when the relative objective decrease is below this")->capture_default_str();
    s->add_option("--seed", a->als.seed, "seed of the initial factors")->capture_default_str();
    s->add_option("--init", a->init, "start from the factors in this file (/init or /model)");
    s->add_option("--checkpoint-every", a->checkpoint_every, "write the state to --out every N iterations");
    s->add_flag("--resume", a->resume, "continue from the checkpoint in --out");
    reg.push_back({s, [a, &ctx] { run_train(*a, ctx); }});
}

}  // namespace distcf::cli
