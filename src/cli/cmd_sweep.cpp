#include <cstdio>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/model/sweep.hpp"

namespace distcf::cli {

namespace {

struct SweepArgs {
    std::string train, out;
    TrainingSetOptions data;
    SweepParams sweep;
};

void write_table(h5::File& f, const SweepResult& r) {
    const auto g = f.create_group("/sweep");
    std::vector<std::int64_t> rank;
    std::vector<double> lambda, rmse, sd, seconds, folds;
    for (const auto& p : r.points) {
        rank.push_back(p.rank);
        lambda.push_back(p.lambda);
        rmse.push_back(p.rmse);
        sd.push_back(p.rmse_sd);
        seconds.push_back(p.seconds);
        folds.insert(folds.end(), p.fold_rmse.begin(), p.fold_rmse.end());
    }
    f.write_vector("/sweep/rank", rank);
    f.write_vector("/sweep/lambda", lambda);
    f.write_vector("/sweep/validation_rmse", rmse);
    f.write_vector("/sweep/validation_rmse_sd", sd);
    f.write_vector("/sweep/seconds", seconds);
    f.write_vector("/sweep/fold_rmse", folds, r.folds);
    g.set_attr("folds", std::int64_t{r.folds});
    g.set_attr("best", static_cast<std::int64_t>(r.best));
    g.set_attr("validation_ratings", r.validation_ratings);
}

void run_sweep(SweepArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    auto& o = ctx.out;
    require_output_dir(a.out);
    a.sweep.validate();
    const TrainingSet data = load_training_set(a.train, a.data, comm);
    const std::int64_t n_test = describe(o, a.train, data, comm);
    o << "sweep: " << a.sweep.ranks.size() << " ranks x " << a.sweep.lambdas.size() << " lambdas, "
      << (a.sweep.folds >= 2 ? std::to_string(a.sweep.folds) + "-fold cross-validation"
                             : "hold-out of " + std::to_string(a.sweep.validation_fraction))
      << " inside the training ratings, " << a.sweep.als.formulation << " ALS, " << a.sweep.als.iters << " iterations\n";
    o << "     k       lambda   validation RMSE        sd   seconds\n";
    const SweepResult r = sweep_als(data.train, a.sweep, comm, [&](const SweepPoint& p) {
        char line[128];
        std::snprintf(line, sizeof line, "%6d %12g %17.6f %9.6f %9.2f\n", p.rank, p.lambda, p.rmse, p.rmse_sd, p.seconds);
        o << line << std::flush;
    });
    const SweepPoint& best = r.points[r.best];
    o << "best: k = " << best.rank << ", lambda = " << best.lambda << " (validation RMSE " << best.rmse
      << "); retraining on all " << data.train.nnz << " training ratings\n";
    AlsParams p = a.sweep.als;
    p.rank = best.rank;
    p.lambda = best.lambda;
    FactorModel m = init_als(data.train, p);
    run_als(m, data.train, data.test, p, comm);
    char label[96];
    std::snprintf(label, sizeof label, "als (%s, k=%d, lambda=%g)", m.formulation.c_str(), m.rank, m.lambda);
    print_fit(o, label, m.history.train_rmse.back(), n_test ? m.history.test_rmse.back() : -1.0);
    save_model(a.out, m, data.users, data.items, Provenance::now(ctx.command_line), comm,
               [&](h5::File& f) { write_table(f, r); }, &data.train.by_user);
    o << "model and sweep table written to " << a.out << "\n";
}

}  // namespace

void add_sweep(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<SweepArgs>();
    CLI::App* s = app.add_subcommand("sweep", "Choose ALS's k and lambda by validation inside the training data, then train the best");
    add_data_options(s, a->train, a->data);
    s->add_option("--out", a->out, "output model file (HDF5) with the sweep table under /sweep")->required();
    s->add_option("--ranks", a->sweep.ranks, "grid of k, comma-separated")->delimiter(',')->capture_default_str();
    s->add_option("--lambdas", a->sweep.lambdas, "grid of lambda, comma-separated")->delimiter(',')->capture_default_str();
    s->add_option("--folds", a->sweep.folds, "K-fold cross-validation (0: one hold-out)")->capture_default_str();
    s->add_option("--validation-fraction", a->sweep.validation_fraction, "hold-out fraction when --folds 0")
        ->capture_default_str();
    s->add_option("--fold-seed", a->sweep.split_seed, "seed of the fold assignment")->capture_default_str();
    add_als_options(s, a->sweep.als, true);
    reg.push_back({s, [a, &ctx] { run_sweep(*a, ctx); }});
}

}  // namespace distcf::cli
