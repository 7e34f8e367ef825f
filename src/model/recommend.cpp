#include "distcf/model/recommend.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "distcf/error.hpp"

namespace distcf {

namespace {

constexpr std::int64_t kItemTile = 512;  // items per tile: 512 x k doubles of V^T stay in L2

// V transposed (k x items), so the score loop runs over contiguous items for each factor.
std::vector<double> transpose_items(const FactorModel& m) {
    std::vector<double> vt(static_cast<std::size_t>(m.n_factors * m.n_items));
    for (std::int64_t i = 0; i < m.n_items; ++i)
        for (int c = 0; c < m.n_factors; ++c) vt[static_cast<std::size_t>(c * m.n_items + i)] = m.V[static_cast<std::size_t>(i * m.n_factors + c)];
    return vt;
}

// Scores of user u for every item: mu + b_u + b_i, then + U[u, c] V[i, c] for c = 0, 1, ...
// in that order for every item (a fixed order: blocking never changes a score's bits).
void user_scores(const FactorModel& m, const std::vector<double>& vt, std::int64_t u, std::vector<double>& s) {
    s.resize(static_cast<std::size_t>(m.n_items));
    const double base = m.mu + (m.user_bias.empty() ? 0.0 : m.user_bias[static_cast<std::size_t>(u)]);
    for (std::int64_t i = 0; i < m.n_items; ++i) s[i] = base + (m.item_bias.empty() ? 0.0 : m.item_bias[static_cast<std::size_t>(i)]);
    const double* uu = m.U.data() + u * m.n_factors;
    for (std::int64_t t0 = 0; t0 < m.n_items; t0 += kItemTile) {
        const std::int64_t t1 = std::min(m.n_items, t0 + kItemTile);
        for (int c = 0; c < m.n_factors; ++c) {
            const double a = m.factor_scale * uu[c];
            const double* v = vt.data() + static_cast<std::size_t>(c) * m.n_items;
#pragma omp simd
            for (std::int64_t i = t0; i < t1; ++i) s[i] += a * v[i];
        }
    }
}

// The n best of `s` (larger first, then smaller item index), skipping `skip` (ascending).
std::vector<Scored> best_of(const std::vector<double>& s, const std::int32_t* skip, std::int64_t n_skip, int n) {
    std::vector<Scored> c;
    c.reserve(s.size());
    std::int64_t q = 0;
    for (std::int32_t i = 0; i < static_cast<std::int32_t>(s.size()); ++i) {
        while (q < n_skip && skip[q] < i) ++q;
        if (q < n_skip && skip[q] == i) continue;
        c.push_back({i, s[static_cast<std::size_t>(i)]});
    }
    const auto better = [](const Scored& a, const Scored& b) { return a.score > b.score || (a.score == b.score && a.item < b.item); };
    const auto take = std::min<std::size_t>(static_cast<std::size_t>(n), c.size());
    std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(take), c.end(), better);
    c.resize(take);
    return c;
}

}  // namespace

std::vector<Scored> best_items(const std::vector<double>& scores, const std::vector<std::int32_t>& skip, int n) {
    if (n < 1) DISTCF_THROW(ParameterError, "top: must be >= 1, got " + std::to_string(n));
    return best_of(scores, skip.data(), static_cast<std::int64_t>(skip.size()), n);
}

std::vector<std::vector<Scored>> top_n(const FactorModel& m, std::int64_t u0, std::int64_t u1, const SeenItems& seen,
                                       int n, const std::vector<double>* popularity, const UserScorer* scorer) {
    if (n < 1) DISTCF_THROW(ParameterError, "top: must be >= 1, got " + std::to_string(n));
    if (u0 < 0 || u1 > m.n_users || u0 > u1) DISTCF_THROW(InputError, "top_n: user range outside the model");
    if (seen.row0 != u0 || seen.rows() != u1 - u0) DISTCF_THROW(InputError, "top_n: seen items do not cover the users");
    const std::vector<double> vt = popularity || scorer ? std::vector<double>{} : transpose_items(m);
    std::vector<std::vector<Scored>> out(static_cast<std::size_t>(u1 - u0));
#pragma omp parallel
    {
        std::vector<double> s;
#pragma omp for schedule(dynamic, 16)
        for (std::int64_t u = u0; u < u1; ++u) {
            if (popularity) s = *popularity;
            else if (scorer) (*scorer)(u, s);
            else user_scores(m, vt, u, s);
            const auto r = u - u0;
            out[static_cast<std::size_t>(r)] =
                best_of(s, seen.items.data() + seen.ptr[r], seen.ptr[r + 1] - seen.ptr[r], n);
        }
    }
    return out;
}

std::vector<Scored> similar_items(const FactorModel& m, std::int64_t i, int n) {
    if (m.n_factors < 1) DISTCF_THROW(InputError, "similar: the model has no item factors (method " + m.method + ")");
    if (i < 0 || i >= m.n_items) DISTCF_THROW(InputError, "similar: item index outside the model");
    const int k = m.n_factors;
    std::vector<double> norm(static_cast<std::size_t>(m.n_items)), s(norm.size());
    for (std::int64_t j = 0; j < m.n_items; ++j) {
        double q = 0;
        for (int c = 0; c < k; ++c) q += m.V[j * k + c] * m.V[j * k + c];
        norm[j] = std::sqrt(q);
    }
    for (std::int64_t j = 0; j < m.n_items; ++j) {
        double d = 0;
        for (int c = 0; c < k; ++c) d += m.V[i * k + c] * m.V[j * k + c];
        // An item without factors (no training ratings) is similar to nothing.
        s[j] = norm[i] > 0 && norm[j] > 0 ? d / (norm[i] * norm[j]) : -std::numeric_limits<double>::infinity();
    }
    const std::int32_t self = static_cast<std::int32_t>(i);
    return best_of(s, &self, 1, n);
}

RankingMetrics ranking_metrics(const FactorModel& m, const SeenItems& seen, const Csr& relevant, int n,
                               const std::vector<double>* popularity, const BlockPartition& users, const Comm& comm,
                               const UserScorer* scorer) {
    const auto u0 = seen.row0, u1 = seen.row0 + seen.rows();
    if (relevant.row0 != u0 || relevant.rows() != u1 - u0) DISTCF_THROW(InputError, "ranking_metrics: test rows do not match");
    const auto top = top_n(m, u0, u1, seen, n, popularity, scorer);
    std::vector<double> p(static_cast<std::size_t>(u1 - u0), 0.0), r(p.size(), 0.0), g(p.size(), 0.0), a(p.size(), 0.0),
        counted(p.size(), 0.0);
    for (std::int64_t q = 0; q < u1 - u0; ++q) {
        const auto b = relevant.col.begin() + relevant.ptr[q], e = relevant.col.begin() + relevant.ptr[q + 1];
        const auto n_rel = static_cast<double>(e - b);
        if (n_rel == 0) continue;
        double hits = 0, dcg = 0, idcg = 0, ap = 0;
        const auto& list = top[static_cast<std::size_t>(q)];
        for (std::size_t pos = 0; pos < list.size(); ++pos)
            if (std::binary_search(b, e, list[pos].item)) {
                hits += 1;
                dcg += 1.0 / std::log2(static_cast<double>(pos) + 2.0);
                ap += hits / static_cast<double>(pos + 1);
            }
        for (int pos = 0; pos < std::min<int>(n, static_cast<int>(n_rel)); ++pos) idcg += 1.0 / std::log2(pos + 2.0);
        p[q] = hits / n;
        r[q] = hits / n_rel;
        g[q] = dcg / idcg;
        a[q] = ap / std::min<double>(n, n_rel);
        counted[q] = 1;
    }
    RankingMetrics out;
    const double users_counted = ordered_sum(counted, users, comm);
    out.users = static_cast<std::int64_t>(users_counted);
    if (users_counted > 0) {
        out.precision = ordered_sum(p, users, comm) / users_counted;
        out.recall = ordered_sum(r, users, comm) / users_counted;
        out.ndcg = ordered_sum(g, users, comm) / users_counted;
        out.map = ordered_sum(a, users, comm) / users_counted;
    }
    return out;
}

}  // namespace distcf
