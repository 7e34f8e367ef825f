#include <cstdio>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/data/distribute.hpp"
#include "distcf/error.hpp"
#include "distcf/model/sweep.hpp"

namespace distcf::cli {

namespace {

struct SweepArgs {
    std::string train, out;
    TrainingSetOptions data;
    SweepParams sweep;
    std::vector<double> densities;
    GenerateParams gen;
};

std::string fixed_g(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
}

void write_table(h5::File& f, const SweepResult& r, const std::string& at = "/sweep") {
    const auto g = f.create_group(at);
    std::vector<std::int64_t> rank;
    std::vector<double> lambda, alpha, score, sd, seconds, folds;
    for (const auto& p : r.points) {
        rank.push_back(p.rank);
        lambda.push_back(p.lambda);
        alpha.push_back(p.alpha);
        score.push_back(p.score);
        sd.push_back(p.score_sd);
        seconds.push_back(p.seconds);
        folds.insert(folds.end(), p.fold_score.begin(), p.fold_score.end());
    }
    // validation_rmse for ALS, validation_ndcg (at the attribute `metric`'s N) for implicit ALS.
    const std::string name = r.metric == "rmse" ? "rmse" : "ndcg";
    f.write_vector(at + "/rank", rank);
    f.write_vector(at + "/lambda", lambda);
    if (name == "ndcg") f.write_vector(at + "/alpha", alpha);
    f.write_vector(at + "/validation_" + name, score);
    f.write_vector(at + "/validation_" + name + "_sd", sd);
    f.write_vector(at + "/seconds", seconds);
    f.write_vector(at + "/fold_" + name, folds, r.folds);
    g.set_attr("metric", r.metric);
    g.set_attr("folds", std::int64_t{r.folds});
    g.set_attr("best", static_cast<std::int64_t>(r.best));
    g.set_attr("validation_ratings", r.validation_ratings);
}

// The seed's question -- the optimal lambda and how it moves as the data get sparser -- on sets
// generated from the seed's model at each density (in memory), one sweep each.
void run_density_sweep(SweepArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    auto& o = ctx.out;
    require_output_dir(a.out);
    a.sweep.validate();
    std::vector<double> best_lambda, best_rmse;
    std::vector<std::int64_t> best_rank, nnz;
    std::vector<SweepResult> results;
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
            std::snprintf(line, sizeof line, "%6d %12g %17.6f %9.6f\n", p.rank, p.lambda, p.score, p.score_sd);
            o << line;
        });
        const auto& b = r.points[r.best];
        o << "  best: k = " << b.rank << ", lambda = " << b.lambda << "\n";
        best_lambda.push_back(b.lambda);
        best_rank.push_back(b.rank);
        best_rmse.push_back(b.score);
        nnz.push_back(t.nnz);
        results.push_back(std::move(r));
    }
    o << "\n  density   ratings   best k   best lambda   validation RMSE\n";
    for (std::size_t q = 0; q < a.densities.size(); ++q) {
        char line[128];
        std::snprintf(line, sizeof line, "%9g %9lld %8lld %13g %17.4f\n", a.densities[q], static_cast<long long>(nnz[q]),
                      static_cast<long long>(best_rank[q]), best_lambda[q], best_rmse[q]);
        o << line;
    }
    AtomicOutput out(a.out, comm);
    {
        h5::File f = h5::File::create(out.temp_path(), comm);
        f.set_attr("format", std::string("distcf-density-sweep"));
        Provenance::now(ctx.command_line).write(f);
        f.write_vector("/density", a.densities);
        f.write_vector("/ratings", nnz);
        f.write_vector("/best_rank", best_rank);
        f.write_vector("/best_lambda", best_lambda);
        f.write_vector("/best_rmse", best_rmse);
        for (std::size_t q = 0; q < results.size(); ++q) write_table(f, results[q], "/sweep" + std::to_string(q));
        f.close();
    }
    out.commit();
    o << "density sweep written to " << a.out << "\n";
}

void run_sweep(SweepArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    auto& o = ctx.out;
    require_output_dir(a.out);
    const bool implicit = a.sweep.method == "ials";
    a.sweep.ials.iters = a.sweep.als.iters;
    a.sweep.ials.seed = a.sweep.als.seed;
    a.sweep.validate();
    const TrainingSet data = load_training_set(a.train, a.data, comm);
    const std::int64_t n_test = describe(o, a.train, data, comm);
    o << "sweep: " << a.sweep.ranks.size() << " ranks x " << a.sweep.lambdas.size() << " lambdas"
      << (implicit ? " x " + std::to_string(a.sweep.alphas.size()) + " alphas" : std::string()) << ", "
      << (a.sweep.folds >= 2 ? std::to_string(a.sweep.folds) + "-fold cross-validation"
                             : "hold-out of " + std::to_string(a.sweep.validation_fraction))
      << " inside the training ratings, " << (implicit ? std::string("implicit") : a.sweep.als.formulation) << " ALS, "
      << a.sweep.als.iters << " iterations\n";
    const std::string metric = implicit ? "NDCG@" + std::to_string(a.sweep.top) : std::string("RMSE");
    o << "     k       lambda" << (implicit ? "      alpha" : "") << "   validation " << metric << "        sd   seconds\n";
    const SweepResult r = sweep_als(data.train, a.sweep, comm, [&](const SweepPoint& p) {
        char line[160];
        if (implicit)
            std::snprintf(line, sizeof line, "%6d %12g %10g %17.6f %9.6f %9.2f\n", p.rank, p.lambda, p.alpha, p.score, p.score_sd, p.seconds);
        else
            std::snprintf(line, sizeof line, "%6d %12g %17.6f %9.6f %9.2f\n", p.rank, p.lambda, p.score, p.score_sd, p.seconds);
        o << line << std::flush;
    });
    const SweepPoint& best = r.points[r.best];
    o << "best: k = " << best.rank << ", lambda = " << best.lambda
      << (implicit ? ", alpha = " + fixed_g(best.alpha) : std::string()) << " (validation " << metric << " " << best.score
      << "); retraining on all " << data.train.nnz << " training ratings\n";
    if (implicit) {
        IalsParams q = a.sweep.ials;
        q.rank = best.rank;
        q.lambda = best.lambda;
        q.alpha = best.alpha;
        FactorModel m = init_ials(data.train, q);
        run_ials(m, data.train, q, comm);
        save_model(a.out, m, data.users, data.items, Provenance::now(ctx.command_line), comm,
                   [&](h5::File& f) { write_table(f, r); }, &data.train.by_user);
        o << "model and sweep table written to " << a.out << " (rank it with `distcf evaluate --ranking`)\n";
        return;
    }
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
    s->add_option("--train", a->train, "training rating store (a stored split is used unless --test is given)");
    s->add_option("--test", a->data.test_path, "test rating store, scored once with the chosen model");
    s->add_option("--test-fraction", a->data.test_fraction, "hold out this fraction of --train as test data");
    s->add_option("--split-seed", a->data.split_seed, "seed of --test-fraction")->capture_default_str();
    s->add_flag("!--ignore-stored-split", a->data.use_stored_split, "train on all ratings of a store with a split");
    s->add_option("--out", a->out, "output: the best model with /sweep (or, with --densities, the tables)")->required();
    s->add_option("--densities", a->densities, "instead of --train: sweep generated sets at these densities")->delimiter(',');
    s->add_option("--gen-users", a->gen.users, "--densities: users of the generated sets")->capture_default_str();
    s->add_option("--gen-items", a->gen.items, "--densities: items of the generated sets")->capture_default_str();
    s->add_option("--gen-seed", a->gen.seed, "--densities: generator seed")->capture_default_str();
    s->add_option("--ranks", a->sweep.ranks, "grid of k, comma-separated")->delimiter(',')->capture_default_str();
    s->add_option("--lambdas", a->sweep.lambdas, "grid of lambda, comma-separated")->delimiter(',')->capture_default_str();
    s->add_option("--folds", a->sweep.folds, "K-fold cross-validation (0: one hold-out)")->capture_default_str();
    s->add_option("--validation-fraction", a->sweep.validation_fraction, "hold-out fraction when --folds 0")
        ->capture_default_str();
    s->add_option("--fold-seed", a->sweep.split_seed, "seed of the fold assignment")->capture_default_str();
    s->add_option("--method", a->sweep.method, "als (scored by RMSE) | ials (scored by NDCG@top on held-out interactions)")
        ->check(CLI::IsMember({"als", "ials"}))
        ->capture_default_str();
    s->add_option("--alphas", a->sweep.alphas, "ials: grid of alpha, comma-separated")->delimiter(',')->capture_default_str();
    s->add_option("--top", a->sweep.top, "ials: N of the NDCG that scores a point")->capture_default_str();
    s->add_option("--confidence", a->sweep.ials.confidence, "ials: linear | log")->check(CLI::IsMember({"linear", "log"}));
    s->add_option("--solver", a->sweep.ials.solver, "ials: cholesky | cg")->check(CLI::IsMember({"cholesky", "cg"}));
    add_als_options(s, a->sweep.als, true);
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
