#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli.hpp"
#include "distcf/data/training_set.hpp"
#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/data/distribute.hpp"
#include "distcf/model/model.hpp"
#include "distcf/model/recommend.hpp"

namespace distcf::cli {

namespace {

/// Splits a line on tabs, commas or spaces.
std::vector<std::string> fields(const std::string& line) {
    std::vector<std::string> f;
    std::string cur;
    for (char c : line) {
        if (c == '\t' || c == ',' || c == ' ' || c == '\r') {
            if (!cur.empty()) f.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) f.push_back(cur);
    return f;
}

struct Pair {
    std::string user, item;
    double rating = 0;
};

/// "user item [rating ...]" lines of a text file (rank 0 reads; shared with every rank).
std::vector<Pair> read_pairs(const std::string& path, bool with_rating, const Comm& comm) {
    std::vector<Pair> pairs;
    std::string error;
    if (comm.is_root()) {
        std::ifstream in(path);
        if (!in) error = path + ": cannot open (no such file or not readable)";
        std::string line;
        for (std::int64_t no = 1; error.empty() && std::getline(in, line); ++no) {
            const auto f = fields(line);
            if (f.empty()) continue;
            if (f.size() < (with_rating ? 3u : 2u)) {
                error = path + ":" + std::to_string(no) + ": expected '" + (with_rating ? "user item rating" : "user item") + "'";
                break;
            }
            Pair p{f[0], f[1], 0.0};
            if (with_rating) {
                char* end = nullptr;
                p.rating = std::strtod(f[2].c_str(), &end);
                if (end == f[2].c_str() || *end || !std::isfinite(p.rating)) {
                    if (no == 1) continue;  // a header line
                    error = path + ":" + std::to_string(no) + ": rating is not a number: '" + f[2] + "'";
                    break;
                }
            }
            pairs.push_back(std::move(p));
        }
    }
    comm.bcast(error);
    if (!error.empty()) throw InputError(error, __FILE__, __LINE__);
    return pairs;
}

struct PredictArgs {
    std::string model, pairs, out;
    int k = 0;
};

void run_predict(const PredictArgs& a, Context& ctx) {
    require_output_dir(a.out);
    IdMap users, items;
    const FactorModel m = with_rank(load_model(a.model, ctx.comm, &users, &items), a.k);
    const auto pairs = read_pairs(a.pairs, false, ctx.comm);
    AtomicOutput out(a.out, ctx.comm);
    std::int64_t unknown_users = 0, unknown_items = 0;
    if (ctx.comm.is_root()) {
        std::ofstream f(out.temp_path());
        char buf[64];
        for (const auto& p : pairs) {
            const auto u = users.find(p.user), i = items.find(p.item);
            unknown_users += !u;
            unknown_items += !i;
            const double pred = (u && i) ? m.predict(*u, *i) : m.fallback(u ? *u : -1, i ? *i : -1);
            std::snprintf(buf, sizeof buf, "%.6f", pred);
            f << p.user << '\t' << p.item << '\t' << buf << '\n';
        }
        f.close();
        if (!f) DISTCF_THROW(SystemError, "cannot write " + out.temp_path());
    }
    out.commit();
    if (ctx.comm.is_root())
        std::cerr << "predict: " << pairs.size() << " pairs -> " << a.out << "; " << unknown_users << " unknown users, "
                  << unknown_items << " unknown items (baseline fallback)\n";
}

struct EvaluateArgs {
    std::string model, test;
    bool json = false;
    int k = 0;
    bool ranking = false;
    int top = 10;
    double relevant = 4.0;
};

// Ranking quality of the model beside a popularity ranking (training counts), both excluding each
// user's training items; relevant = test rating >= threshold.
void run_ranking(const EvaluateArgs& a, const FactorModel& m, const RatingSlice& s, Context& ctx) {
    const Comm& comm = ctx.comm;
    const BlockPartition part = BlockPartition::balanced(m.user_counts, comm.size());
    const h5::File f = h5::File::open(a.model, comm);
    const SeenItems seen = read_seen(f, part.begin(comm.rank()), part.end(comm.rank()));
    RatingSlice rel;
    for (std::int64_t k = 0; k < s.size(); ++k)
        if (s.user[k] >= 0 && s.item[k] >= 0 && s.value[k] >= a.relevant) rel.push(s.user[k], s.item[k], s.value[k]);
    const Csr relevant = route_rows(rel.user, rel.item, rel.value, part, comm);
    std::vector<double> popularity(m.item_counts.begin(), m.item_counts.end());
    const RankingMetrics ours = ranking_metrics(m, seen, relevant, a.top, nullptr, part, comm);
    const RankingMetrics pop = ranking_metrics(m, seen, relevant, a.top, &popularity, part, comm);
    const std::string at = "@" + std::to_string(a.top);
    if (a.json) {
        auto obj = [&](const RankingMetrics& r) {
            return nlohmann::json{{"precision" + at, r.precision}, {"recall" + at, r.recall}, {"ndcg" + at, r.ndcg},
                                  {"map" + at, r.map}, {"users", r.users}};
        };
        ctx.out << nlohmann::json{{"model", obj(ours)}, {"popularity", obj(pop)}, {"relevant_threshold", a.relevant},
                                  {"top", a.top}, {"test", a.test}}
                       .dump(2)
                << "\n";
        return;
    }
    char line[200];
    ctx.out << "ranking on " << a.test << ": top " << a.top << ", relevant = rating >= " << a.relevant << ", "
            << ours.users << " users with a relevant test item, training items excluded\n";
    std::snprintf(line, sizeof line, "%-12s %12s %12s %12s %12s\n", "", ("precision" + at).c_str(), ("recall" + at).c_str(),
                  ("NDCG" + at).c_str(), ("MAP" + at).c_str());
    ctx.out << line;
    for (const auto& [name, r] : {std::pair{"model", ours}, std::pair{"popularity", pop}}) {
        std::snprintf(line, sizeof line, "%-12s %12.4f %12.4f %12.4f %12.4f\n", name, r.precision, r.recall, r.ndcg, r.map);
        ctx.out << line;
    }
}

void run_evaluate(const EvaluateArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    IdMap users, items;
    const FactorModel m = with_rank(load_model(a.model, comm, &users, &items), a.k);
    RatingSlice s;
    const bool h5 = a.test.size() > 3 && a.test.substr(a.test.size() - 3) == ".h5";
    if (h5) {
        s = read_mapped_slice(a.test, users, items, true, comm);
    } else {
        const auto pairs = read_pairs(a.test, true, comm);
        if (comm.is_root())
            for (const auto& p : pairs) {
                const auto u = users.find(p.user), i = items.find(p.item);
                s.push(u ? static_cast<std::int32_t>(*u) : -1, i ? static_cast<std::int32_t>(*i) : -1, p.rating);
            }
    }
    if (a.ranking) {
        run_ranking(a, m, s, ctx);
        return;
    }
    double acc[5] = {0, 0, 0, 0, 0};  // sse, sae, n, cold, cold sse
    for (std::int64_t k = 0; k < s.size(); ++k) {
        const bool cold = s.user[k] < 0 || s.item[k] < 0;
        const double pred = cold ? m.fallback(s.user[k], s.item[k]) : m.predict(s.user[k], s.item[k]);
        const double e = pred - s.value[k];
        acc[0] += e * e;
        acc[1] += std::fabs(e);
        acc[2] += 1;
        acc[3] += cold;
        if (cold) acc[4] += e * e;
    }
    comm.allreduce(acc, 5, MPI_SUM);
    const double n = acc[2];
    const double r = n ? std::sqrt(acc[0] / n) : 0.0, mae = n ? acc[1] / n : 0.0;
    if (a.json) {
        nlohmann::json j{{"rmse", r}, {"mae", mae}, {"n", static_cast<std::int64_t>(n)},
                         {"cold", static_cast<std::int64_t>(acc[3])}, {"model", a.model}, {"test", a.test},
                         {"k", m.rank}};
        if (acc[3] > 0) j["cold_rmse"] = std::sqrt(acc[4] / acc[3]);
        ctx.out << j.dump(2) << "\n";
        return;
    }
    char line[200];
    std::snprintf(line, sizeof line, "evaluate %s on %s: RMSE %.4f  MAE %.4f  n %lld  cold pairs %lld\n", a.model.c_str(),
                  a.test.c_str(), r, mae, static_cast<long long>(n), static_cast<long long>(acc[3]));
    ctx.out << line;
}

}  // namespace

void add_predict(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<PredictArgs>();
    CLI::App* s = app.add_subcommand("predict", "Predict ratings for 'user item' pairs (external IDs)");
    s->add_option("--model", a->model, "model file")->required();
    s->add_option("--pairs", a->pairs, "text file: one 'user item' per line")->required();
    s->add_option("--out", a->out, "output TSV: user, item, prediction")->required();
    s->add_option("--k", a->k, "use the first k factors (SVD models; default: the model's chosen k)");
    reg.push_back({s, [a, &ctx] { run_predict(*a, ctx); }});
}

void add_evaluate(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<EvaluateArgs>();
    CLI::App* s = app.add_subcommand("evaluate", "RMSE and MAE of a model on test ratings (a store, or 'user item rating' text)");
    s->add_option("--model", a->model, "model file")->required();
    s->add_option("--test", a->test, "test ratings: a store (.h5; its test side if it has a split) or a text file")->required();
    s->add_flag("--json", a->json, "print one JSON object");
    s->add_option("--k", a->k, "use the first k factors (SVD models; default: the model's chosen k)");
    s->add_flag("--ranking", a->ranking, "precision, recall, NDCG and MAP at --top beside a popularity ranking");
    s->add_option("--top", a->top, "N of the ranking metrics")->capture_default_str();
    s->add_option("--relevant", a->relevant, "a test rating at least this is relevant")->capture_default_str();
    reg.push_back({s, [a, &ctx] { run_evaluate(*a, ctx); }});
}

}  // namespace distcf::cli
