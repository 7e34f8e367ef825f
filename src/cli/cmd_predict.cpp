#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "cli.hpp"
#include "distcf/data/training_set.hpp"
#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/data/distribute.hpp"
#include "distcf/model/als.hpp"
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

/// "user item [rating ...]" lines of a text file. Rank 0 reads and holds them; a read error is
/// shared so that every rank throws.
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
    ColdStart cold;
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
            const double pred = predict(m, u ? *u : -1, i ? *i : -1, a.cold);
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
    ColdStart cold;
};

// Ranking quality of the model beside a popularity ranking (training counts), both excluding each
// user's training items; relevant = test rating >= threshold.
void run_ranking(const EvaluateArgs& a, const FactorModel& m, const RatingSlice& s, Context& ctx) {
    const Comm& comm = ctx.comm;
    const BlockPartition part = BlockPartition::balanced(m.user_counts, comm.size());
    const h5::File f = h5::File::open(a.model, comm);
    if (!f.exists("/seen/ptr") && comm.is_root())
        std::cerr << "evaluate --ranking: " << a.model << " keeps no training items (/seen); nothing is excluded from the rankings\n";
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
        const bool cold = is_cold(m, s.user[k], s.item[k], a.cold);
        const double pred = predict(m, s.user[k], s.item[k], a.cold);
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
        if (n > acc[3]) j["warm_rmse"] = std::sqrt((acc[0] - acc[4]) / (n - acc[3]));
        j["cold_threshold"] = a.cold.threshold;
        j["cold_start"] = a.cold.policy;
        ctx.out << j.dump(2) << "\n";
        return;
    }
    char line[200];
    std::snprintf(line, sizeof line, "evaluate %s on %s: RMSE %.4f  MAE %.4f  n %lld\n", a.model.c_str(), a.test.c_str(), r,
                  mae, static_cast<long long>(n));
    ctx.out << line;
    std::snprintf(line, sizeof line, "  warm pairs %lld: RMSE %.4f;  cold pairs (user or item with < %lld training ratings) %lld: RMSE %.4f (%s)\n",
                  static_cast<long long>(n - acc[3]), n > acc[3] ? std::sqrt((acc[0] - acc[4]) / (n - acc[3])) : 0.0,
                  static_cast<long long>(a.cold.threshold), static_cast<long long>(acc[3]),
                  acc[3] > 0 ? std::sqrt(acc[4] / acc[3]) : 0.0, a.cold.policy.c_str());
    ctx.out << line;
}

// Every rank gets rank 0's pairs (fold-in grows the model identically everywhere).
std::vector<Pair> share(std::vector<Pair> pairs, const Comm& comm) {
    std::string text;
    std::vector<double> ratings;
    if (comm.is_root())
        for (const auto& p : pairs) {
            text += p.user + '\n' + p.item + '\n';
            ratings.push_back(p.rating);
        }
    comm.bcast(text);
    comm.bcast(ratings);
    if (comm.is_root()) return pairs;
    std::istringstream in(text);
    for (double r : ratings) {
        Pair p;
        std::getline(in, p.user);
        std::getline(in, p.item);
        p.rating = r;
        pairs.push_back(std::move(p));
    }
    return pairs;
}

// The grown user map keeps integer IDs integer when every new label is one.
IdMap same_kind(const IdMap& old, const std::vector<std::string>& labels) {
    if (old.is_integer()) {
        std::vector<std::int64_t> ids;
        for (const auto& l : labels) {
            char* end = nullptr;
            const long long v = std::strtoll(l.c_str(), &end, 10);
            if (l.empty() || *end != '\0') return IdMap::strings(labels);
            ids.push_back(v);
        }
        return IdMap::integers(std::move(ids));
    }
    return IdMap::strings(labels);
}

struct FoldinArgs {
    std::string model, ratings, out;
};

// New users' ratings ("user item rating" lines, external IDs) folded into the model: one exact row
// solve each against the fixed item factors. Users already in the model are re-solved from the
// given ratings (their /seen row is replaced); ratings of unknown items are skipped and counted.
void run_foldin(const FoldinArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    const std::string out_path = a.out.empty() ? a.model : a.out;
    require_output_dir(out_path);
    IdMap users, items;
    FactorModel m = load_model(a.model, comm, &users, &items);
    const h5::File in = h5::File::open(a.model, comm);
    SeenItems seen = read_seen(in, 0, m.n_users);
    const auto pairs = share(read_pairs(a.ratings, true, comm), comm);
    std::vector<std::string> labels;
    for (std::int64_t u = 0; u < users.size(); ++u) labels.push_back(users.label(u));
    std::vector<std::int32_t> row_of_pair, item_of_pair;
    std::vector<double> value;
    std::vector<std::int64_t> target;  // model row of each folded user, in first-seen order
    std::map<std::string, std::int32_t> folded;
    std::int64_t unknown_items = 0, added = 0;
    for (const auto& p : pairs) {
        const auto i = items.find(p.item);
        if (!i) {
            ++unknown_items;
            continue;
        }
        auto [it, fresh] = folded.try_emplace(p.user, static_cast<std::int32_t>(target.size()));
        if (fresh) {
            const auto u = users.find(p.user);
            if (u) {
                target.push_back(*u);
            } else {
                target.push_back(static_cast<std::int64_t>(labels.size()));
                labels.push_back(p.user);
                ++added;
            }
        }
        row_of_pair.push_back(it->second);
        item_of_pair.push_back(static_cast<std::int32_t>(*i));
        value.push_back(p.rating);
    }
    const Csr rows = build_csr(0, static_cast<std::int64_t>(target.size()), row_of_pair, item_of_pair, value);
    std::vector<double> f, b;
    fold_in_users(m, rows, f, b);
    // Grow the model by the new users, then write every folded row.
    const auto n_old = m.n_users, n_new = static_cast<std::int64_t>(labels.size());
    m.n_users = n_new;
    m.U.resize(static_cast<std::size_t>(n_new * m.rank), 0.0);
    if (!m.user_bias.empty()) m.user_bias.resize(static_cast<std::size_t>(n_new), 0.0);
    m.user_counts.resize(static_cast<std::size_t>(n_new), 0);
    std::vector<std::vector<std::int32_t>> seen_rows(static_cast<std::size_t>(n_new));
    for (std::int64_t u = 0; u < n_old; ++u)
        seen_rows[u].assign(seen.items.begin() + seen.ptr[u], seen.items.begin() + seen.ptr[u + 1]);
    for (std::size_t q = 0; q < target.size(); ++q) {
        const auto u = target[q];
        std::copy_n(f.begin() + static_cast<std::ptrdiff_t>(q) * m.rank, m.rank, m.U.begin() + u * m.rank);
        if (!m.user_bias.empty()) m.user_bias[u] = b[q];
        m.user_counts[u] = rows.row_nnz(static_cast<std::int64_t>(q));
        seen_rows[u].assign(rows.col.begin() + rows.ptr[q], rows.col.begin() + rows.ptr[q + 1]);
    }
    // Rank 0 writes every /seen row; the other ranks take part with none.
    Csr all_seen;
    all_seen.row0 = comm.is_root() ? 0 : n_new;
    if (comm.is_root())
        for (const auto& r : seen_rows) {
            all_seen.col.insert(all_seen.col.end(), r.begin(), r.end());
            all_seen.ptr.push_back(static_cast<std::int64_t>(all_seen.col.size()));
        }
    all_seen.val.assign(all_seen.col.size(), 0.0);
    save_model(out_path, m, same_kind(users, labels), items, Provenance::now(ctx.command_line), comm, {}, &all_seen);
    ctx.out << "fold-in: " << target.size() << " users (" << added << " new, " << target.size() - added
            << " re-solved) from " << rows.nnz() << " ratings; " << unknown_items << " ratings of unknown items skipped -> "
            << out_path << "\n";
}

}  // namespace

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
    s->add_option("--pairs", a->pairs, "text file: one 'user item' per line")->required();
    s->add_option("--out", a->out, "output TSV: user, item, prediction")->required();
    s->add_option("--k", a->k, "use the first k factors (SVD models; default: the model's chosen k)");
    add_cold_options(s, a->cold);
    reg.push_back({s, [a, &ctx] { run_predict(*a, ctx); }});
}

void add_foldin(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<FoldinArgs>();
    CLI::App* s = app.add_subcommand("foldin", "Factors for new users from their ratings, against the fixed item factors");
    s->add_option("--model", a->model, "an ALS or implicit-ALS model")->required();
    s->add_option("--ratings", a->ratings, "text file: 'user item rating' per line (external IDs)")->required();
    s->add_option("--out", a->out, "output model (default: rewrite --model)");
    reg.push_back({s, [a, &ctx] { run_foldin(*a, ctx); }});
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
    add_cold_options(s, a->cold);
    reg.push_back({s, [a, &ctx] { run_evaluate(*a, ctx); }});
}

}  // namespace distcf::cli
