#include "distcf/app/predict.hpp"

#include <charconv>
#include <cmath>
#include <iostream>
#include <optional>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "distcf/app/method.hpp"
#include "distcf/app/model_file.hpp"
#include "distcf/app/training_set.hpp"
#include "distcf/data/distribute.hpp"
#include "distcf/data/rng.hpp"
#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/delimited.hpp"
#include "distcf/io/pairs.hpp"

namespace distcf {

namespace {

// read_pairs on rank 0; a read error reaches every rank, so that all of them throw it.
std::vector<TextPair> read_pairs_on_root(const std::string& path, bool with_rating, const Comm& comm) {
    std::vector<TextPair> pairs;
    std::string error;
    if (comm.is_root()) {
        try {
            pairs = read_pairs(path, with_rating);
        } catch (const InputError& e) {
            error = e.what();
        }
    }
    comm.bcast(error);
    if (!error.empty()) throw InputError(error, __FILE__, __LINE__);
    return pairs;
}

// Every rank gets rank 0's pairs (fold-in grows the model identically everywhere).
std::vector<TextPair> share(std::vector<TextPair> pairs, const Comm& comm) {
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
        TextPair p;
        std::getline(in, p.user);
        std::getline(in, p.item);
        p.rating = r;
        pairs.push_back(std::move(p));
    }
    return pairs;
}

// The grown user map keeps integer IDs integer when every new label is one (its new users come
// after the old ones: IdMap looks up any order).
IdMap same_kind(const IdMap& old, const std::vector<std::string>& labels) {
    if (old.is_integer()) {
        std::vector<std::int64_t> ids;
        for (const auto& l : labels) {
            std::int64_t v = 0;
            const auto [end, ec] = std::from_chars(l.data(), l.data() + l.size(), v);
            if (ec != std::errc() || end != l.data() + l.size()) return IdMap::strings(labels);
            ids.push_back(v);
        }
        return IdMap::integers(std::move(ids));
    }
    return IdMap::strings(labels);
}

}  // namespace

LoadedModel LoadedModel::load(const std::string& path, int k, const Comm& comm, bool own_users) {
    LoadedModel m;
    m.path = path;
    UserRowChooser mine;
    if (own_users)
        mine = [&comm](const std::vector<std::int64_t>& counts) {
            const BlockPartition part = BlockPartition::balanced(counts, comm.size());
            return std::pair{part.begin(comm.rank()), part.end(comm.rank())};
        };
    FactorModel full = load_model(path, comm, &m.users, &m.items, mine);
    const Method& method = find_method(full.method);
    m.model = method.for_prediction(std::move(full), k);
    return m;
}

std::optional<UserScorer> ranking_scorer(const LoadedModel& lm, const RankBy& by) {
    if (!by.lower_bound) return std::nullopt;
    const Method& method = find_method(lm.model.method);
    std::vector<double> probe;
    if (lm.model.n_users == 0 || !method.lcb_scores(lm.model, 0, by.z, probe))
        DISTCF_THROW(InputError, "rank-by lcb: a '" + lm.model.method + "' model has no uncertainty to rank by (a bpmf model has)");
    const FactorModel* m = &lm.model;
    const double z = by.z;
    return UserScorer([&method, m, z](std::int64_t u, std::vector<double>& s) { method.lcb_scores(*m, u, z, s); });
}


TableFormat table_format_for(const std::string& format, const std::string& path) {
    if (format == "tsv") return TableFormat::Tsv;
    if (format == "csv") return TableFormat::Csv;
    if (!format.empty() && format != "auto") DISTCF_THROW(ParameterError, "format: tsv, csv or auto, got '" + format + "'");
    return path.size() > 4 && path.substr(path.size() - 4) == ".csv" ? TableFormat::Csv : TableFormat::Tsv;
}

PredictReport predict_file(const LoadedModel& lm, const std::string& pairs_path, const std::string& out_path,
                           const ColdStart& cold, const Comm& comm, bool with_sd, TableFormat format) {
    const bool to_stdout = out_path == "-";
    if (!to_stdout) require_output_dir(out_path);
    std::optional<AtomicOutput> out;
    if (!to_stdout) out.emplace(out_path, comm);
    PredictReport r;
    std::string error;
    // Rank 0 streams the pairs file: read a pair, write its line. Memory does not grow with the
    // file; a bad line stops the run with nothing written (the temporary is discarded).
    if (comm.is_root()) {
        try {
            PairReader reader(pairs_path, false);
            std::ofstream file;
            if (!to_stdout) file.open(out->temp_path());
            std::ostream& f = to_stdout ? std::cout : file;
            const char d = format == TableFormat::Csv ? ',' : '\t';
            f << "user" << d << "item" << d << "prediction";
            if (with_sd) f << d << "sd";
            f << '\n';
            char buf[64];
            TextPair p;
            while (reader.next(p)) {
                const auto u = lm.users.find(p.user), i = lm.items.find(p.item);
                r.unknown_users += !u;
                r.unknown_items += !i;
                ++r.pairs;
                const double pred = predict(lm.model, u ? *u : -1, i ? *i : -1, cold);
                std::snprintf(buf, sizeof buf, "%.6f", pred);
                write_field(f, p.user, d);
                f << d;
                write_field(f, p.item, d);
                f << d << buf;
                if (with_sd) {
                    const bool modelled = u && i && !is_cold(lm.model, *u, *i, cold);
                    const double sd = modelled ? find_method(lm.model.method).predictive_sd(lm.model, *u, *i, true) : -1.0;
                    if (sd >= 0) std::snprintf(buf, sizeof buf, "%.6f", sd);
                    f << d << (sd >= 0 ? buf : "nan");
                }
                f << '\n';
            }
            f.flush();
            if (!to_stdout) file.close();
            if (!f || (!to_stdout && !file)) DISTCF_THROW(SystemError, "cannot write " + (to_stdout ? std::string("standard output") : out->temp_path()));
        } catch (const Error& e) {
            error = e.what();
        }
    }
    comm.bcast(error);
    if (!error.empty()) throw InputError(error, __FILE__, __LINE__);
    if (out) out->commit();
    r.pairs = comm.bcast_value(r.pairs);
    r.unknown_users = comm.bcast_value(r.unknown_users);
    r.unknown_items = comm.bcast_value(r.unknown_items);
    return r;
}

RatingSlice read_test_ratings(const LoadedModel& m, const std::string& test, const Comm& comm) {
    const bool h5 = test.size() > 3 && test.substr(test.size() - 3) == ".h5";
    if (h5) return read_mapped_slice(test, m.users, m.items, true, comm);
    RatingSlice s;
    for (const auto& p : read_pairs_on_root(test, true, comm)) {
        const auto u = m.users.find(p.user), i = m.items.find(p.item);
        s.push(u ? static_cast<std::int32_t>(*u) : -1, i ? static_cast<std::int32_t>(*i) : -1, p.rating);
    }
    return s;
}

RatingEvaluation evaluate_ratings(const LoadedModel& lm, const RatingSlice& s, const ColdStart& c, const Comm& comm) {
    const FactorModel& m = lm.model;
    const Method& method = find_method(m.method);
    if (!method.predicts_ratings())
        DISTCF_THROW(UsageError, "evaluate: a '" + m.method + "' model predicts preferences, not ratings: an RMSE would mean "
                                 "nothing; use --ranking");
    // This rank's test users are one run of users (the slice is in user order): their training items.
    std::int64_t u_lo = m.n_users, u_hi = -1;
    for (std::int64_t k = 0; k < s.size(); ++k)
        if (s.user[k] >= 0) u_lo = std::min<std::int64_t>(u_lo, s.user[k]), u_hi = std::max<std::int64_t>(u_hi, s.user[k]);
    const bool any = u_hi >= u_lo;
    SeenItems seen;
    {
        const h5::File f = h5::File::open(lm.path, comm);
        seen = read_seen(f, any ? u_lo : 0, any ? u_hi + 1 : 0, m.n_items);
    }
    double training = 0;
    for (std::int64_t k = 0; k < s.size(); ++k) {
        if (s.user[k] < 0 || s.item[k] < 0 || seen.items.empty()) continue;
        const auto r = s.user[k] - seen.row0;
        const auto b = seen.items.begin() + seen.ptr[r], e = seen.items.begin() + seen.ptr[r + 1];
        training += std::binary_search(b, e, s.item[k]);
    }
    double acc[7] = {0, 0, 0, 0, 0, 0, 0};  // sse, sae, n, cold, cold sse, pairs with an sd, covered
    for (std::int64_t k = 0; k < s.size(); ++k) {
        const bool cold = is_cold(m, s.user[k], s.item[k], c);
        const double e = predict(m, s.user[k], s.item[k], c) - s.value[k];
        acc[0] += e * e;
        acc[1] += std::fabs(e);
        acc[2] += 1;
        acc[3] += cold;
        if (cold) acc[4] += e * e;
        const double sd = cold ? -1.0 : method.predictive_sd(m, s.user[k], s.item[k], true);
        if (sd >= 0) {
            acc[5] += 1;
            acc[6] += std::fabs(e) <= 1.96 * sd;
        }
    }
    comm.sum_in_place(acc, 7);
    RatingEvaluation r;
    const double n = acc[2];
    r.n = static_cast<std::int64_t>(n);
    r.cold = static_cast<std::int64_t>(acc[3]);
    r.rmse = n ? std::sqrt(acc[0] / n) : 0.0;
    r.mae = n ? acc[1] / n : 0.0;
    if (acc[3] > 0) r.cold_rmse = std::sqrt(acc[4] / acc[3]);
    if (n > acc[3]) r.warm_rmse = std::sqrt((acc[0] - acc[4]) / (n - acc[3]));
    if (acc[5] > 0) r.coverage95 = acc[6] / acc[5];
    r.training_pairs = static_cast<std::int64_t>(comm.sum(training));
    return r;
}

void RankingOptions::validate() const {
    if (top < 1) DISTCF_THROW(ParameterError, "top: must be >= 1, got " + std::to_string(top));
    if (!(sample_users > 0.0 && sample_users <= 1.0))
        DISTCF_THROW(ParameterError, "sample-users: must be in (0, 1], got " + std::to_string(sample_users));
}

RankingEvaluation evaluate_ranking(const LoadedModel& lm, const RatingSlice& s, const RankingOptions& o, const Comm& comm,
                                   const RankBy& by) {
    o.validate();
    const int top = o.top;
    const double relevant_from = o.relevant;
    // A user is in the sample when its key falls below the share of 2^64 (every user at 1).
    const auto cut = static_cast<long double>(o.sample_users) * 18446744073709551616.0L;
    const auto sampled = [&](std::int32_t u) {
        return o.sample_users >= 1.0 ||
               static_cast<long double>(random_word(o.sample_seed, Stream::RankingSample, static_cast<std::uint64_t>(u), 0)) < cut;
    };
    const FactorModel& m = lm.model;
    const BlockPartition part = BlockPartition::balanced(m.user_counts, comm.size());
    const h5::File f = h5::File::open(lm.path, comm);
    RankingEvaluation r;
    r.excluded_seen = has_seen(f);
    const SeenItems seen = read_seen(f, part.begin(comm.rank()), part.end(comm.rank()), m.n_items);
    RatingSlice rel;
    for (std::int64_t k = 0; k < s.size(); ++k)
        if (s.user[k] >= 0 && s.item[k] >= 0 && s.value[k] >= relevant_from && sampled(s.user[k]))
            rel.push(s.user[k], s.item[k], s.value[k]);
    const Csr relevant = route_rows(rel.user, rel.item, rel.value, part, comm);
    std::vector<double> popularity(m.item_counts.begin(), m.item_counts.end());
    const std::optional<UserScorer> scorer = ranking_scorer(lm, by);
    r.model = ranking_metrics(m, seen, relevant, top, nullptr, part, comm, scorer ? &*scorer : nullptr);
    r.popularity = ranking_metrics(m, seen, relevant, top, &popularity, part, comm);
    return r;
}

FoldInReport fold_in_file(const std::string& model_path, const std::string& ratings, const std::string& out_path,
                          const std::string& command_line, const Comm& comm) {
    require_output_dir(out_path);
    IdMap users, items;
    FactorModel m = load_model(model_path, comm, &users, &items);
    const Method& method = find_method(m.method);
    if (!method.can_fold_in()) {
        std::vector<double> f, b;
        method.fold_in(m, Csr{}, f, b);  // says why it cannot
    }
    SeenItems seen;
    {
        const h5::File in = h5::File::open(model_path, comm);
        seen = read_seen(in, 0, m.n_users, m.n_items);
    }
    const auto pairs = share(read_pairs_on_root(ratings, true, comm), comm);
    std::vector<std::string> labels;
    for (std::int64_t u = 0; u < users.size(); ++u) labels.push_back(users.label(u));
    std::vector<std::int32_t> row_of_pair, item_of_pair;
    std::vector<double> value;
    std::vector<std::int64_t> target;  // model row of each folded user, in first-seen order
    std::map<std::string, std::int32_t> folded;
    FoldInReport rep;
    for (const auto& p : pairs) {
        const auto at = [&](const std::string& why) { return ratings + ":" + std::to_string(p.line) + ": " + why; };
        if (p.rating < m.rating_min || p.rating > m.rating_max) {
            char range[96];
            std::snprintf(range, sizeof range, "[%g, %g]", m.rating_min, m.rating_max);
            DISTCF_THROW(InputError, at("rating " + std::to_string(p.rating) + " is outside the model's rating range " + range));
        }
        if (users.is_integer()) {  // an integer ID must fit, or two users would become one
            std::int64_t v = 0;
            const auto [end, ec] = std::from_chars(p.user.data(), p.user.data() + p.user.size(), v);
            if (ec == std::errc::result_out_of_range)
                DISTCF_THROW(InputError, at("user ID '" + p.user + "' does not fit a 64-bit integer"));
        }
        const auto i = items.find(p.item);
        if (!i) {
            ++rep.unknown_items;
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
                ++rep.added;
            }
        }
        row_of_pair.push_back(it->second);
        item_of_pair.push_back(static_cast<std::int32_t>(*i));
        value.push_back(p.rating);
    }
    const Csr rows = build_csr(0, static_cast<std::int64_t>(target.size()), row_of_pair, item_of_pair, value);
    std::vector<double> f, b;
    method.fold_in(m, rows, f, b);
    // Grow the model by the new users, then write every folded row.
    const int k = m.n_factors;
    const auto n_old = m.n_users, n_new = static_cast<std::int64_t>(labels.size());
    m.n_users = n_new;
    m.U.resize(static_cast<std::size_t>(n_new * k), 0.0);
    if (!m.user_bias.empty()) m.user_bias.resize(static_cast<std::size_t>(n_new), 0.0);
    m.user_counts.resize(static_cast<std::size_t>(n_new), 0);
    std::vector<std::vector<std::int32_t>> seen_rows(static_cast<std::size_t>(n_new));
    for (std::int64_t u = 0; u < n_old; ++u)
        seen_rows[u].assign(seen.items.begin() + seen.ptr[u], seen.items.begin() + seen.ptr[u + 1]);
    for (std::size_t q = 0; q < target.size(); ++q) {
        const auto u = target[q];
        std::copy_n(f.begin() + static_cast<std::ptrdiff_t>(q) * k, k, m.U.begin() + u * k);
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
    save_model(out_path, m, same_kind(users, labels), items, Provenance::now(command_line), comm, {}, &all_seen);
    rep.users = static_cast<std::int64_t>(target.size());
    rep.ratings = rows.nnz();
    return rep;
}

}  // namespace distcf
