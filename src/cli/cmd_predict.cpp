// distcf predict, evaluate and foldin: a trained model file put to use (distcf/app/predict.hpp).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/app/predict.hpp"

namespace distcf::cli {

namespace {

struct PredictArgs {
    std::string model, pairs, out, format = "auto";
    int k = 0;
    bool sd = false;
    ColdStart cold;
};

// --rank-by mean|lcb and --z.
void add_rank_by_options(CLI::App* s, std::string& rank_by, double& z) {
    s->add_option("--rank-by", rank_by,
                  "mean: by the predicted score; lcb: by its lower confidence bound mean - z sd (models with "
                  "uncertainty: bpmf), so that items few people rated stop crowding the top")
        ->check(CLI::IsMember({"mean", "lcb"}))
        ->capture_default_str();
    s->add_option("--z", z, "--rank-by lcb: standard deviations below the mean")->capture_default_str();
}

void run_predict(const PredictArgs& a, Context& ctx) {
    if (ctx.json && a.out == "-") DISTCF_THROW(UsageError, "predict: --json with --out - would mix the summary into the predictions; give --out FILE");
    check_output(a.out, {a.model, a.pairs}, true);
    a.cold.validate();
    const LoadedModel m = LoadedModel::load(a.model, a.k, ctx.comm);
    note_if_checkpoint(a.model, m.model, ctx.comm);
    const PredictReport r = predict_file(m, a.pairs, a.out, a.cold, ctx.comm, a.sd, table_format_for(a.format, a.out));
    ctx.result = {{"pairs", r.pairs}, {"unknown_users", r.unknown_users}, {"unknown_items", r.unknown_items}, {"out", a.out}};
    if (ctx.comm.is_root() && !ctx.json)
        std::cerr << "predict: " << r.pairs << " pairs -> " << a.out << "; " << r.unknown_users << " unknown users, "
                  << r.unknown_items << " unknown items (baseline fallback)\n";
}

struct EvaluateArgs {
    std::string model, test;
    int k = 0;
    bool ranking = false;
    RankingOptions rank;
    std::string rank_by = "mean";
    double z = 1.0;
    ColdStart cold;
};

std::string share(double f) {  // 0.01 -> "1%"
    char b[32];
    std::snprintf(b, sizeof b, "%g%%", 100.0 * f);
    return b;
}

void print_ranking(const EvaluateArgs& a, const RankingEvaluation& r, Context& ctx) {
    if (!r.excluded_seen && ctx.comm.is_root())
        std::cerr << "evaluate --ranking: " << a.model << " keeps no training items (/seen); nothing is excluded from the rankings\n";
    const std::string at = "@" + std::to_string(a.rank.top);
    if (ctx.json) {
        auto obj = [&](const RankingMetrics& m) {
            return nlohmann::json{{"precision" + at, m.precision}, {"recall" + at, m.recall}, {"ndcg" + at, m.ndcg},
                                  {"map" + at, m.map}, {"users", m.users}};
        };
        ctx.result = nlohmann::json{{"model", obj(r.model)}, {"popularity", obj(r.popularity)}, {"relevant_threshold", a.rank.relevant},
                                    {"top", a.rank.top}, {"test", a.test}, {"training_items_excluded", r.excluded_seen},
                                    {"sample_users", a.rank.sample_users}};
        return;
    }
    char line[200];
    ctx.out << "ranking on " << a.test << ": top " << a.rank.top << ", relevant = rating >= " << a.rank.relevant << ", "
            << r.model.users << " users with a relevant test item"
            << (a.rank.sample_users < 1.0 ? " (a sample of " + share(a.rank.sample_users) + " of the users)" : std::string())
            << ", training items excluded\n";
    std::snprintf(line, sizeof line, "%-12s %12s %12s %12s %12s\n", "", ("precision" + at).c_str(), ("recall" + at).c_str(),
                  ("NDCG" + at).c_str(), ("MAP" + at).c_str());
    ctx.out << line;
    for (const auto& [name, m] : {std::pair{"model", r.model}, std::pair{"popularity", r.popularity}}) {
        std::snprintf(line, sizeof line, "%-12s %12.4f %12.4f %12.4f %12.4f\n", name, m.precision, m.recall, m.ndcg, m.map);
        ctx.out << line;
    }
}

void run_evaluate(const EvaluateArgs& a, Context& ctx) {
    a.cold.validate();
    // Ranking scores each rank's users against every item: it reads only those users' rows.
    const LoadedModel m = LoadedModel::load(a.model, a.k, ctx.comm, a.ranking && a.rank_by != "lcb");
    note_if_checkpoint(a.model, m.model, ctx.comm);
    const RatingSlice test = read_test_ratings(m, a.test, ctx.comm);
    if (a.ranking) {
        print_ranking(a, evaluate_ranking(m, test, a.rank, ctx.comm, RankBy{a.rank_by == "lcb", a.z}), ctx);
        return;
    }
    const RatingEvaluation r = evaluate_ratings(m, test, a.cold, ctx.comm);
    if (r.n > 0 && 2 * r.training_pairs > r.n && ctx.comm.is_root())
        std::cerr << "note: " << r.training_pairs << " of the " << r.n << " test ratings are training ratings of this model: "
                  << "this measures the fit, not predictions\n";
    if (ctx.json) {
        nlohmann::json& j = ctx.result;
        j = nlohmann::json{{"rmse", r.rmse}, {"mae", r.mae},     {"n", r.n},         {"cold", r.cold},
                         {"model", a.model}, {"test", a.test}, {"k", m.model.n_factors}};
        if (r.cold_rmse >= 0) j["cold_rmse"] = r.cold_rmse;
        if (r.warm_rmse >= 0) j["warm_rmse"] = r.warm_rmse;
        j["cold_threshold"] = a.cold.threshold;
        j["cold_start"] = a.cold.policy;
        if (r.coverage95 >= 0) j["coverage95"] = r.coverage95;
        j["training_pairs"] = r.training_pairs;
        return;
    }
    char line[300];
    std::snprintf(line, sizeof line, "evaluate %s on %s: RMSE %.4f  MAE %.4f  n %lld\n", a.model.c_str(), a.test.c_str(), r.rmse,
                  r.mae, static_cast<long long>(r.n));
    ctx.out << line;
    std::snprintf(line, sizeof line,
                  "  warm pairs %lld: RMSE %.4f;  cold pairs (user or item with < %lld training ratings) %lld: RMSE %.4f (%s)\n",
                  static_cast<long long>(r.n - r.cold), std::max(r.warm_rmse, 0.0), static_cast<long long>(a.cold.threshold),
                  static_cast<long long>(r.cold), std::max(r.cold_rmse, 0.0), a.cold.policy.c_str());
    ctx.out << line;
    if (r.coverage95 >= 0) {
        std::snprintf(line, sizeof line, "  95%% prediction intervals (+- 1.96 posterior sd) cover %.4f of the warm test ratings\n",
                      r.coverage95);
        ctx.out << line;
    }
}

struct FoldinArgs {
    std::string model, ratings, out;
};

void run_foldin(const FoldinArgs& a, Context& ctx) {
    const std::string& out = a.out;
    check_output(out, {a.model, a.ratings});
    const FoldInReport r = fold_in_file(a.model, a.ratings, out, ctx.command_line, ctx.comm);
    ctx.result = {{"users", r.users}, {"added", r.added}, {"resolved", r.users - r.added}, {"ratings", r.ratings},
                  {"unknown_items", r.unknown_items}, {"out", out}};
    ctx.out << "fold-in: " << r.users << " users (" << r.added << " new, " << r.users - r.added << " re-solved) from "
            << r.ratings << " ratings; " << r.unknown_items << " ratings of unknown items skipped -> " << out << "\n";
}

}  // namespace

void add_rank_by(CLI::App* s, std::string& rank_by, double& z) { add_rank_by_options(s, rank_by, z); }

void note_if_checkpoint(const std::string& path, const FactorModel& m, const Comm& comm) {
    if (!m.complete && comm.is_root())
        std::cerr << "note: " << path << " is a checkpoint of a run that has not finished (after iteration "
                  << m.iterations_done << "; train --resume continues it)\n";
}

void add_cold_options(CLI::App* s, ColdStart& c) {
    s->add_option("--cold-threshold", c.threshold, "users and items with fewer training ratings are cold")->capture_default_str();
    s->add_option("--cold-start", c.policy, "fallback (biases of the warm side) | model")
        ->check(CLI::IsMember({"fallback", "model"}))
        ->capture_default_str();
}

void add_predict(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<PredictArgs>();
    CLI::App* s = app.add_subcommand("predict", "Predict ratings for 'user item' pairs (external IDs)");
    s->add_option("--model", a->model, "model file")->required();
    s->add_option("--pairs", a->pairs, "text file: one 'user item' per line (spaces, tabs or commas; \"quoted\" IDs)")->required();
    s->add_option("--out", a->out, "output table with a header: user, item, prediction ('-': standard output)")->required();
    s->add_option("--format", a->format, "tsv | csv | auto (csv for a .csv output, else tsv)")
        ->check(CLI::IsMember({"auto", "tsv", "csv"}))
        ->capture_default_str();
    s->add_option("--k", a->k, "use the first k factors (SVD models; default: the model's chosen k)");
    s->add_flag("--std", a->sd, "a fourth column: the posterior standard deviation of each predicted rating (bpmf models)");
    add_cold_options(s, a->cold);
    reg.push_back({s, [a, &ctx] { run_predict(*a, ctx); }});
}

void add_foldin(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<FoldinArgs>();
    CLI::App* s = app.add_subcommand("foldin", "Factors for new users from their ratings, against the fixed item factors");
    s->add_option("--model", a->model, "an ALS or implicit-ALS model")->required();
    s->add_option("--ratings", a->ratings, "text file: 'user item rating' per line (external IDs)")->required();
    s->add_option("--out", a->out, "output model (a new file: the input model is never overwritten)")->required();
    reg.push_back({s, [a, &ctx] { run_foldin(*a, ctx); }});
}

void add_evaluate(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<EvaluateArgs>();
    CLI::App* s = app.add_subcommand("evaluate", "RMSE and MAE of a model on test ratings (a store, or 'user item rating' text)");
    s->add_option("--model", a->model, "model file")->required();
    s->add_option("--test", a->test, "test ratings: a store (.h5; its test side if it has a split) or a text file")->required();
    s->add_option("--k", a->k, "use the first k factors (SVD models; default: the model's chosen k)");
    s->add_flag("--ranking", a->ranking, "precision, recall, NDCG and MAP at --top beside a popularity ranking");
    s->add_option("--top", a->rank.top, "N of the ranking metrics")->capture_default_str();
    s->add_option("--relevant", a->rank.relevant, "a test rating at least this is relevant")->capture_default_str();
    s->add_option("--sample-users", a->rank.sample_users,
                  "rank this share of the users (a keyed hash of the user: the same on any number of ranks); the metrics are means over them")
        ->capture_default_str();
    s->add_option("--sample-seed", a->rank.sample_seed, "seed of the user sample")->capture_default_str();
    add_rank_by_options(s, a->rank_by, a->z);
    add_cold_options(s, a->cold);
    reg.push_back({s, [a, &ctx] { run_evaluate(*a, ctx); }});
}

}  // namespace distcf::cli
