// distcf sweep: k x lambda (x alpha) chosen by validation inside the training data, then the best
// point trained on all of it through the method registry.
#include <cstdio>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/util/progress.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/app/model_file.hpp"
#include "distcf/app/results_file.hpp"
#include "distcf/app/train.hpp"
#include "distcf/data/distribute.hpp"
#include "distcf/error.hpp"
#include "distcf/model/sweep.hpp"

namespace distcf::cli {

namespace {

struct SweepArgs {
    std::string train, out;
    TrainingSetOptions data;
    SweepParams sweep;
    std::string formulation = "biased", row_solve = "auto", confidence = "linear", solver = "cholesky";
    std::vector<double> densities;
    GenerateParams gen;
};

std::string fixed_g(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
}

// The enumerations named on the command line, into the typed parameters.
void apply_choices(SweepArgs& a) {
    a.sweep.als.formulation = parse_enum<AlsFormulation>("formulation", a.formulation, kFormulationAliases);
    a.sweep.als.row_solve = parse_enum<RowForm>("row_solve", a.row_solve);
    a.sweep.ials.confidence = parse_enum<ConfidenceScale>("confidence", a.confidence);
    a.sweep.ials.solver = parse_enum<IalsSolver>("solver", a.solver);
    a.sweep.als.solver = parse_enum<RowSolverKind>("solver", a.solver);  // exact (cholesky) unless asked
    a.sweep.ials.iters = a.sweep.als.iters;
    a.sweep.ials.rng_seed = a.sweep.als.rng_seed;
    a.sweep.bpmf.rng_seed = a.sweep.als.rng_seed;
}

// The notebook's question -- the optimal lambda and how it moves as the data get sparser -- on
// sets generated from the notebook's model at each density (in memory), one sweep each.
void run_density_sweep(SweepArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    auto& o = ctx.out;
    require_output_dir(a.out);
    apply_choices(a);
    a.sweep.validate();
    DensitySweep ds;
    for (double d : a.densities) {
        GenerateParams g = a.gen;
        g.density = d;
        g.validate();
        const GenreModel gm = make_genre_model(g, comm);
        const GeneratedBlock gb = generate_block(g, gm, comm);
        const RatingBlocks t = distribute(gb.ratings, g.users, g.items, 1.0, 5.0, comm);
        o << "density " << d << ": " << t.nnz << " ratings (" << g.users << " x " << g.items << ")\n";
        o << "     k       lambda   validation RMSE        sd\n";
        SweepResult r = sweep_als(t, a.sweep, comm, [&](const SweepPoint& p) {
            char line[128];
            std::snprintf(line, sizeof line, "%6d %12g %17.6f %9.6f\n", p.factors, p.lambda, p.score, p.score_sd);
            o << line;
        });
        const auto& b = r.points[r.best];
        o << "  best: k = " << b.factors << ", lambda = " << b.lambda << "\n";
        ctx.result["densities"].push_back({{"density", d}, {"ratings", t.nnz}, {"best_factors", b.factors}, {"best_lambda", b.lambda},
                                           {"best_rmse", b.score}});
        ds.density.push_back(d);
        ds.best_lambda.push_back(b.lambda);
        ds.best_factors.push_back(b.factors);
        ds.best_rmse.push_back(b.score);
        ds.ratings.push_back(t.nnz);
        ds.sweeps.push_back(std::move(r));
    }
    o << "\n  density   ratings   best k   best lambda   validation RMSE\n";
    for (std::size_t q = 0; q < ds.density.size(); ++q) {
        char line[128];
        std::snprintf(line, sizeof line, "%9g %9lld %8lld %13g %17.4f\n", ds.density[q], static_cast<long long>(ds.ratings[q]),
                      static_cast<long long>(ds.best_factors[q]), ds.best_lambda[q], ds.best_rmse[q]);
        o << line;
    }
    write_density_sweep(a.out, ds, ctx.command_line, comm);
    o << "density sweep written to " << a.out << "\n";
}

void run_sweep(SweepArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    auto& o = ctx.out;
    check_output(a.out, {a.train, a.data.test_path});
    require_output_dir(a.out);
    apply_choices(a);
    const bool implicit = a.sweep.method == "ials", bayes = a.sweep.method == "bpmf";
    a.sweep.validate();
    const TrainingSet data = load_training_set(a.train, a.data, comm);
    print_data_summary(o, a.train, data, comm);
    o << "sweep: " << a.sweep.factor_grid.size() << " values of k x "
      << (bayes ? std::to_string(a.sweep.noise_precisions.size()) + " noise precisions"
                : std::to_string(a.sweep.lambdas.size()) + " lambdas")
      << (implicit ? " x " + std::to_string(a.sweep.alphas.size()) + " alphas" : std::string()) << ", "
      << (a.sweep.folds >= 2 ? std::to_string(a.sweep.folds) + "-fold cross-validation"
                             : "hold-out of " + std::to_string(a.sweep.validation_fraction))
      << " inside the training ratings, "
      << (bayes ? "Bayesian MF, " + std::to_string(a.sweep.bpmf.burnin) + " burn-in + " + std::to_string(a.sweep.bpmf.samples) + " samples\n"
                : (implicit ? std::string("implicit") : std::string(enum_name(a.sweep.als.formulation))) + " ALS, " +
                      std::to_string(a.sweep.als.iters) + " iterations\n");
    const std::string metric = implicit ? "NDCG@" + std::to_string(a.sweep.top) : std::string("RMSE");
    o << "     k " << (bayes ? "noise prec." : "      lambda") << (implicit ? "      alpha" : "") << "   validation " << metric
      << "        sd   seconds\n";
    const std::int64_t grid = static_cast<std::int64_t>(a.sweep.factor_grid.size()) *
                              static_cast<std::int64_t>(bayes ? a.sweep.noise_precisions.size() : a.sweep.lambdas.size()) *
                              static_cast<std::int64_t>(implicit ? a.sweep.alphas.size() : 1);
    Progress progress("sweep", grid, "points");
    nlohmann::json points = nlohmann::json::array();
    const SweepResult r = sweep_als(data.train, a.sweep, comm, [&](const SweepPoint& p) {
        nlohmann::json pj{{"factors", p.factors}, {"score", p.score}, {"score_sd", p.score_sd}, {"seconds", p.seconds}};
        if (bayes) pj["noise_precision"] = p.noise_precision;
        else pj["lambda"] = p.lambda;
        if (implicit) pj["alpha"] = p.alpha;
        points.push_back(pj);
        progress.add(1);
        char line[160];
        if (implicit)
            std::snprintf(line, sizeof line, "%6d %12g %10g %17.6f %9.6f %9.2f\n", p.factors, p.lambda, p.alpha, p.score, p.score_sd, p.seconds);
        else
            std::snprintf(line, sizeof line, "%6d %12g %17.6f %9.6f %9.2f\n", p.factors, bayes ? p.noise_precision : p.lambda,
                          p.score, p.score_sd, p.seconds);
        o << line << std::flush;
    });
    progress.finish();
    const SweepPoint& best = r.points[r.best];
    ctx.result = {{"method", a.sweep.method}, {"metric", metric}, {"points", points}, {"best", points.at(r.best)}, {"out", a.out},
                  {"validation", a.sweep.folds >= 2 ? std::to_string(a.sweep.folds) + "-fold" : "hold-out " + fixed_g(a.sweep.validation_fraction)}};
    o << "best: k = " << best.factors << (bayes ? ", noise precision = " + fixed_g(best.noise_precision) : ", lambda = " + fixed_g(best.lambda))
      << (implicit ? ", alpha = " + fixed_g(best.alpha) : std::string()) << " (validation " << metric << " " << best.score
      << "); retraining on all " << data.train.nnz << " training ratings\n";
    // The best point through the one training entry point.
    ParamRecord params;
    if (bayes) {
        BpmfParams b = a.sweep.bpmf;
        b.factors = best.factors;
        b.noise_precision = best.noise_precision;
        params = to_record(b);
    } else if (implicit) {
        IalsParams q = a.sweep.ials;
        q.factors = best.factors;
        q.lambda = best.lambda;
        q.alpha = best.alpha;
        params = to_record(q);
    } else {
        AlsParams p = a.sweep.als;
        p.factors = best.factors;
        p.lambda = best.lambda;
        params = to_record(p);
    }
    const TrainResult t = train(a.sweep.method, data, params, comm);
    if (!implicit) {
        const History& h = t.model.history;
        print_fit(o, t.label, h.train_rmse.back(), data.n_test ? h.test_rmse.back() : -1.0);
        ctx.result["train_rmse"] = h.train_rmse.back();
        if (data.n_test) ctx.result["test_rmse"] = h.test_rmse.back();
    }
    save_model(a.out, t.model, data.users, data.items, Provenance::now(ctx.command_line), comm,
               [&](h5::File& f) { write_sweep_table(f, r); }, &data.train.by_user);
    o << "model and sweep table written to " << a.out << (implicit ? " (rank it with `distcf evaluate --ranking`)" : "") << "\n";
}

}  // namespace

void add_sweep(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<SweepArgs>();
    CLI::App* s = app.add_subcommand("sweep", "Choose ALS's k and lambda by validation inside the training data, then train the best");
    s->add_option("--train", a->train, "training rating store (a stored split is used unless --test is given)");
    s->add_option("--test", a->data.test_path, "test rating store, scored once with the chosen model");
    s->add_option("--test-fraction", a->data.test_fraction, "hold out this fraction of --train as test data");
    s->add_option("--split-seed", a->data.split_seed, "RNG seed of --test-fraction")->capture_default_str();
    s->add_flag("!--ignore-stored-split", a->data.use_stored_split, "train on all ratings of a store with a split");
    s->add_option("--out", a->out, "output: the best model with /sweep (or, with --densities, the tables)")->required();
    s->add_option("--densities", a->densities, "instead of --train: sweep generated sets at these densities")->delimiter(',');
    s->add_option("--gen-users", a->gen.users, "--densities: users of the generated sets")->capture_default_str();
    s->add_option("--gen-items", a->gen.items, "--densities: items of the generated sets")->capture_default_str();
    s->add_option("--gen-seed", a->gen.rng_seed, "--densities: RNG seed of the generator")->capture_default_str();
    s->add_option("--factor-grid,--ranks", a->sweep.factor_grid, "grid of k (factors), comma-separated")->delimiter(',')->capture_default_str();
    s->add_option("--lambdas", a->sweep.lambdas, "grid of lambda, comma-separated")->delimiter(',')->capture_default_str();
    s->add_option("--folds", a->sweep.folds, "K-fold cross-validation (0: one hold-out)")->capture_default_str();
    s->add_option("--validation-fraction", a->sweep.validation_fraction, "hold-out fraction when --folds 0")
        ->capture_default_str();
    s->add_option("--fold-seed", a->sweep.split_seed, "RNG seed of the fold assignment")->capture_default_str();
    s->add_option("--method", a->sweep.method,
                  "als (scored by RMSE) | ials (scored by NDCG@top on held-out interactions) | bpmf (k x noise "
                  "precision, scored by the posterior mean's RMSE)")
        ->check(CLI::IsMember({"als", "ials", "bpmf"}))
        ->capture_default_str();
    s->add_option("--alphas", a->sweep.alphas, "ials: grid of alpha, comma-separated")->delimiter(',')->capture_default_str();
    s->add_option("--top", a->sweep.top, "ials: N of the NDCG that scores a point")->capture_default_str();
    s->add_option("--noise-precisions", a->sweep.noise_precisions, "bpmf: grid of the noise precision, comma-separated")
        ->delimiter(',')
        ->capture_default_str();
    s->add_option("--burnin", a->sweep.bpmf.burnin, "bpmf: sweeps before samples are kept")->capture_default_str();
    s->add_option("--samples", a->sweep.bpmf.samples, "bpmf: samples after the burn-in")->capture_default_str();
    s->add_option("--confidence", a->confidence, "ials: linear | log")->check(CLI::IsMember({"linear", "log"}));
    s->add_option("--solver", a->solver, "row solves of als and ials: cholesky (exact) | cg | auto (cg from 64 factors on)")
        ->check(CLI::IsMember({"cholesky", "cg", "auto"}))
        ->capture_default_str();
    s->add_option("--formulation", a->formulation, "biased (mean + biases + factors) | notebook (factors only, as the original study; alias seed)")
        ->check(CLI::IsMember({"seed", "notebook", "biased"}))
        ->capture_default_str();
    s->add_option("--iters", a->sweep.als.iters, "iterations (sweeps) of every point")->capture_default_str();
    s->add_option("--tol", a->sweep.als.tol, "stop when the relative objective decrease is below this")->capture_default_str();
    s->add_option("--seed,--rng-seed", a->sweep.als.rng_seed, "RNG seed of the initial factors")->capture_default_str();
    s->add_option("--row-solve", a->row_solve, "auto | primal | dual")
        ->check(CLI::IsMember({"auto", "primal", "dual"}))
        ->capture_default_str();
    reg.push_back({s, [a, &ctx] {
        if (!a->densities.empty()) {
            if (!a->train.empty()) DISTCF_THROW(UsageError, "sweep: give --train or --densities, not both");
            run_density_sweep(*a, ctx);
        } else {
            if (a->train.empty()) DISTCF_THROW(UsageError, "sweep: --train is required (or --densities)");
            run_sweep(*a, ctx);
        }
    }});
}

}  // namespace distcf::cli
