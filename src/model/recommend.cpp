#include "distcf/model/recommend.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "distcf/error.hpp"
#include "distcf/util/clones.hpp"
#include "distcf/util/progress.hpp"

namespace distcf {

namespace {

// Blocked scoring (the GEMM of a users x k block by the k x items tile, as Spark's blocked
// recommendForAll): a 4-user x 16-item tile of scores lives in registers while the k factors
// stream past, so each V element loaded serves 4 users and each score is stored once, instead of
// being read and written k times by a per-user loop. Scores go straight into a heap of the n
// best per user: memory O(block + users x n), never a users x items matrix.
constexpr int kMR = 8;                    // users per register tile
constexpr int kNR = 16;                   // items per register tile (2 AVX-512 or 4 AVX2 vectors)
constexpr std::int64_t kUserBlock = 64;   // users per thread task
constexpr std::int64_t kItemTile = 1024;  // items per scored tile: 1024 x k doubles of V^T in L2 at k <= 64

bool better(const Scored& a, const Scored& b) { return a.score > b.score || (a.score == b.score && a.item < b.item); }

// The n best (score, then smaller item) of the items offered so far, worst at the front, in
// whatever order the items are offered.
class BestN {
  public:
    explicit BestN(int n) : n_(static_cast<std::size_t>(n)) { h_.reserve(n_); }
    double bar() const { return h_.size() < n_ ? -std::numeric_limits<double>::infinity() : h_.front().score; }
    bool full() const { return h_.size() == n_; }
    void offer(std::int32_t item, double s) {
        if (h_.size() < n_) {
            h_.push_back({item, s});
            std::push_heap(h_.begin(), h_.end(), better);
        } else if (better({item, s}, h_.front())) {  // items may come in any order: ties go to the smaller
            std::pop_heap(h_.begin(), h_.end(), better);
            h_.back() = {item, s};
            std::push_heap(h_.begin(), h_.end(), better);
        }
    }
    std::vector<Scored> sorted() {
        std::sort_heap(h_.begin(), h_.end(), better);
        return std::move(h_);
    }

  private:
    std::size_t n_;
    std::vector<Scored> h_;
};

// Offers items [i0, i1) with scores s[i - i0], skipping the ascending `skip` list from *q on.
void offer_range(BestN& best, const double* s, std::int64_t i0, std::int64_t i1, const std::int32_t* skip,
                 std::int64_t n_skip, std::int64_t& q) {
    for (std::int64_t i = i0; i < i1; ++i) {
        const double v = s[i - i0];
        if (best.full() && !(v > best.bar())) continue;  // the common case: not good enough
        while (q < n_skip && skip[q] < i) ++q;
        if (q < n_skip && skip[q] == i) continue;
        best.offer(static_cast<std::int32_t>(i), v);
    }
}

// Offers the items order[p0 + j] with scores s[j], j < ni, skipping those in the ascending `skip`
// list (searched only for an item good enough to enter: most are not).
void offer_ordered(BestN& best, const double* s, std::int64_t p0, std::int64_t ni, const std::int32_t* order,
                   const std::int32_t* skip, std::int64_t n_skip) {
    for (std::int64_t j = 0; j < ni; ++j) {
        const double v = s[j];
        if (best.full() && v < best.bar()) continue;
        const std::int32_t item = order[p0 + j];
        if (n_skip > 0 && std::binary_search(skip, skip + n_skip, item)) continue;
        best.offer(item, v);
    }
}

// Scores of `mr` users (a: their factors times factor_scale, k x kMR, factor-major so that the
// users' values for one factor are adjacent; base: mu + b_u) for the
// items [i0, i0 + ni) into out (mr rows of ldo). Every score is base + b_i, then + a[c] V[i, c]
// for c = 0, 1, ... in that order, whatever the tile: a user's scores have the same bits alone
// or in a block, on any number of ranks.
DISTCF_CLONES void score_tile(int k, int mr, const double* a, const double* base, const double* vt, std::int64_t ld,
                              const double* item_bias, std::int64_t i0, std::int64_t ni, double* out, std::int64_t ldo) {
    std::int64_t j0 = 0;
    if (mr == kMR) {
        for (; j0 + kNR <= ni; j0 += kNR) {
            double acc[kMR][kNR];
            for (int r = 0; r < kMR; ++r)
#pragma omp simd
                for (int j = 0; j < kNR; ++j) acc[r][j] = base[r] + (item_bias ? item_bias[i0 + j0 + j] : 0.0);
            for (int c = 0; c < k; ++c) {
                const double* v = vt + c * ld + i0 + j0;
                for (int r = 0; r < kMR; ++r) {
                    const double ar = a[c * kMR + r];
#pragma omp simd
                    for (int j = 0; j < kNR; ++j) acc[r][j] += ar * v[j];
                }
            }
            for (int r = 0; r < kMR; ++r)
#pragma omp simd
                for (int j = 0; j < kNR; ++j) out[r * ldo + j0 + j] = acc[r][j];
        }
    }
    // Leftover users or items: the same operations in the same order, one user at a time.
    for (int r = 0; r < mr; ++r) {
        double* o = out + r * ldo;
        for (std::int64_t j = j0; j < ni; ++j) o[j] = base[r] + (item_bias ? item_bias[i0 + j] : 0.0);
        for (int c = 0; c < k; ++c) {
            const double ar = a[c * kMR + r];
            const double* v = vt + c * ld + i0;
#pragma omp simd
            for (std::int64_t j = j0; j < ni; ++j) o[j] += ar * v[j];
        }
    }
}

// Items by a ranking that is the same for every user (popularity), best first, ties to the
// smaller item: sorted once, a user's n best are the first n not seen -- O(n + seen) a user
// instead of O(items), with the lists best_of gives.
std::vector<std::int32_t> ranking_order(const std::vector<double>& score) {
    std::vector<std::int32_t> order(score.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int32_t>(i);
    std::sort(order.begin(), order.end(), [&score](std::int32_t a, std::int32_t b) { return better({a, score[a]}, {b, score[b]}); });
    return order;
}

std::vector<Scored> best_in_order(const std::vector<std::int32_t>& order, const std::vector<double>& score,
                                  const std::int32_t* skip, std::int64_t n_skip, int n) {
    std::vector<Scored> out;
    out.reserve(static_cast<std::size_t>(n));
    for (auto it = order.begin(); it != order.end() && static_cast<int>(out.size()) < n; ++it)
        if (!(n_skip > 0 && std::binary_search(skip, skip + n_skip, *it))) out.push_back({*it, score[static_cast<std::size_t>(*it)]});
    return out;
}

void check_users(const FactorModel& m, std::int64_t u0, std::int64_t u1, const SeenItems& seen) {
    if (u0 < 0 || u1 > m.n_users || u0 > u1) DISTCF_THROW(InputError, "top_n: user range outside the model");
    const std::int64_t held_users = m.n_factors > 0 ? static_cast<std::int64_t>(m.U.size()) / m.n_factors : m.n_users;
    if (u0 < m.rows.user_begin || u1 > m.rows.user_begin + held_users || m.rows.item_begin != 0 ||
        m.V.size() != static_cast<std::size_t>(m.n_items * m.n_factors))
        DISTCF_THROW(InternalError, "top_n: the model does not hold these users' rows and every item");
    if (seen.row0 != u0 || seen.rows() != u1 - u0) DISTCF_THROW(InputError, "top_n: seen items do not cover the users");
}

// The n best of a full score vector (popularity, or a scorer's ranking), skipping `skip`.
std::vector<Scored> best_of(const std::vector<double>& s, const std::int32_t* skip, std::int64_t n_skip, int n) {
    BestN best(n);
    std::int64_t q = 0;
    offer_range(best, s.data(), 0, static_cast<std::int64_t>(s.size()), skip, n_skip, q);
    return best.sorted();
}

std::vector<std::int64_t> every_row(std::int64_t n) {
    std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
    std::iota(rows.begin(), rows.end(), std::int64_t{0});
    return rows;
}

// The n best of each listed row of `seen` (user seen.row0 + row) by a ranking other than the
// model's score: popularity (its order sorted once: `order`) or a scorer's per-user scores.
void rank_rows_by(const std::vector<std::int64_t>& rows, const SeenItems& seen, int n, const std::vector<double>* popularity,
                  const std::vector<std::int32_t>& order, const UserScorer* scorer, std::vector<std::vector<Scored>>& out) {
    const auto listed = static_cast<std::int64_t>(rows.size());
#pragma omp parallel if (listed > 1)
    {
        std::vector<double> s;
#pragma omp for schedule(dynamic, 16)
        for (std::int64_t j = 0; j < listed; ++j) {
            const auto q = rows[static_cast<std::size_t>(j)];
            const std::int32_t* skip = seen.items.data() + seen.ptr[q];
            const auto n_skip = seen.ptr[q + 1] - seen.ptr[q];
            if (popularity) {
                out[static_cast<std::size_t>(q)] = best_in_order(order, *popularity, skip, n_skip, n);
            } else {
                (*scorer)(seen.row0 + q, s);
                out[static_cast<std::size_t>(q)] = best_of(s, skip, n_skip, n);
            }
        }
    }
}

}  // namespace

// The model-score top n of one block of users against an ItemIndex (a friend of it).
struct TopNKernel {
    // The users of rows[0, nb) (rows of `seen` and of `out`, user seen.row0 + row); tile: scratch
    // of the calling thread.
    static void block(const FactorModel& m, const ItemIndex& ix, const std::int64_t* rows, std::int64_t nb,
                      const SeenItems& seen, int n, std::vector<std::vector<Scored>>& out, std::vector<double>& tile,
                      TopNCounts& counts) {
        const int k = m.n_factors;
        const auto n_items = ix.n_items();
        std::vector<BestN> best(static_cast<std::size_t>(nb), BestN(n));
        // a: per group of kMR users, k x kMR (see score_tile); norm: ||a||; slack: what rounding
        // may add to a computed score beyond the exact one ((k + 2) unit roundoffs of the sum of
        // the magnitudes, with room to spare), so that a pruned item is never one that would
        // have entered.
        std::vector<double> a(static_cast<std::size_t>((nb + kMR - 1) / kMR * kMR * k)), base(static_cast<std::size_t>(nb)),
            norm(base.size()), slack(base.size());
        const double max_norm = ix.norm_max_.empty() ? 0.0 : ix.norm_max_.front();
        for (std::int64_t r = 0; r < nb; ++r) {
            const auto u = seen.row0 + rows[r] - m.rows.user_begin;  // the held row
            base[r] = m.mu + (m.user_bias.empty() ? 0.0 : m.user_bias[static_cast<std::size_t>(u)]);
            double q = 0;
            for (int c = 0; c < k; ++c) {
                const double x = m.factor_scale * m.U[static_cast<std::size_t>(u * k + c)];
                a[(r / kMR) * kMR * k + c * kMR + r % kMR] = x;
                q += x * x;
            }
            norm[r] = std::sqrt(q);
            slack[r] = 1e-9 * (std::abs(base[r]) + ix.max_abs_bias_ + norm[r] * max_norm) + 1e-300;
        }
        const std::int64_t groups = (nb + kMR - 1) / kMR;
        std::vector<char> live(static_cast<std::size_t>(groups), 1);
        tile.resize(static_cast<std::size_t>(nb * kItemTile));
        const double* ib = ix.bias_.empty() ? nullptr : ix.bias_.data();
        counts.pairs += nb * n_items;
        for (std::int64_t t = 0, p0 = 0; p0 < n_items; ++t, p0 += kItemTile) {
            const auto ni = std::min(kItemTile, n_items - p0);
            // A group of users stops for good when none of them can take an item from here on:
            // the bound only falls with t, and the n-th best only rises.
            bool any = false;
            for (std::int64_t g = 0; g < groups; ++g) {
                if (!live[g]) continue;
                bool need = false;
                for (std::int64_t r = g * kMR; r < std::min(nb, (g + 1) * kMR) && !need; ++r) {
                    const double bound = base[r] + ix.key_max_[t] + std::max(0.0, norm[r] - ix.c_) * ix.norm_max_[t] + slack[r];
                    need = !best[r].full() || !(best[r].bar() > bound);
                }
                live[g] = need;
                any = any || need;
            }
            if (!any) break;
            for (std::int64_t g = 0; g < groups; ++g) {
                if (!live[g]) continue;
                const auto r0 = g * kMR;
                const int mr = static_cast<int>(std::min<std::int64_t>(kMR, nb - r0));
                score_tile(k, mr, a.data() + r0 * k, base.data() + r0, ix.vt_.data(), n_items, ib, p0, ni,
                           tile.data() + r0 * kItemTile, kItemTile);
                counts.scored += mr * ni;
                for (std::int64_t r = r0; r < r0 + mr; ++r) {
                    const auto s = rows[r];
                    offer_ordered(best[r], tile.data() + r * kItemTile, p0, ni, ix.order_.data(),
                                  seen.items.data() + seen.ptr[s], seen.ptr[s + 1] - seen.ptr[s]);
                }
            }
        }
        for (std::int64_t r = 0; r < nb; ++r) out[static_cast<std::size_t>(rows[r])] = best[r].sorted();
    }

    // The listed rows of `seen` (ascending), blocked and threaded; out has a list per seen row.
    static void rows(const FactorModel& m, const ItemIndex& ix, const std::vector<std::int64_t>& rows, const SeenItems& seen,
                     int n, std::vector<std::vector<Scored>>& out, TopNCounts* counts) {
        const auto listed = static_cast<std::int64_t>(rows.size());
        const std::int64_t blocks = (listed + kUserBlock - 1) / kUserBlock;
        TopNCounts total;
#pragma omp parallel if (blocks > 1)
        {
            std::vector<double> tile;
            TopNCounts mine;
#pragma omp for schedule(dynamic, 1)
            for (std::int64_t b = 0; b < blocks; ++b)
                block(m, ix, rows.data() + b * kUserBlock, std::min(kUserBlock, listed - b * kUserBlock), seen, n, out, tile, mine);
#pragma omp critical(distcf_top_n_counts)
            {
                total.scored += mine.scored;
                total.pairs += mine.pairs;
            }
        }
        if (counts) {
            counts->scored += total.scored;
            counts->pairs += total.pairs;
        }
    }
};

ItemIndex::ItemIndex(const FactorModel& m, bool prune) {
    const auto n = m.n_items;
    const int k = m.n_factors;
    if (m.rows.item_begin != 0 || m.V.size() != static_cast<std::size_t>(n * k))
        DISTCF_THROW(InternalError, "ItemIndex: the model does not hold every item's row");
    const auto row_norm = [k](const std::vector<double>& X, std::int64_t r) {
        double q = 0;
        for (int c = 0; c < k; ++c) q += X[static_cast<std::size_t>(r * k + c)] * X[static_cast<std::size_t>(r * k + c)];
        return std::sqrt(q);
    };
    const std::int64_t held = k > 0 ? static_cast<std::int64_t>(m.U.size()) / k : 0;
    double sum = 0;
    for (std::int64_t u = 0; u < held; ++u) sum += row_norm(m.U, u);
    c_ = held > 0 ? std::abs(m.factor_scale) * sum / static_cast<double>(held) : 0.0;
    std::vector<double> norm(static_cast<std::size_t>(n)), key(norm.size());
    for (std::int64_t i = 0; i < n; ++i) {
        const double b = m.item_bias.empty() ? 0.0 : m.item_bias[static_cast<std::size_t>(i)];
        norm[i] = row_norm(m.V, i);
        key[i] = b + c_ * norm[i];
        max_abs_bias_ = std::max(max_abs_bias_, std::abs(b));
    }
    order_.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) order_[i] = static_cast<std::int32_t>(i);
    std::sort(order_.begin(), order_.end(), [&key](std::int32_t x, std::int32_t y) { return key[x] > key[y] || (key[x] == key[y] && x < y); });
    vt_.resize(static_cast<std::size_t>(k * n));
    for (std::int64_t p = 0; p < n; ++p)
        for (int c = 0; c < k; ++c) vt_[static_cast<std::size_t>(c * n + p)] = m.V[static_cast<std::size_t>(order_[p] * std::int64_t{k} + c)];
    if (!m.item_bias.empty())
        for (const auto i : order_) bias_.push_back(m.item_bias[static_cast<std::size_t>(i)]);
    // Each tile's maxima, then carried back from the last tile: the maxima from the tile on.
    const std::int64_t tiles = (n + kItemTile - 1) / kItemTile;
    key_max_.assign(static_cast<std::size_t>(tiles), -std::numeric_limits<double>::infinity());
    norm_max_.assign(static_cast<std::size_t>(tiles), 0.0);
    for (std::int64_t p = 0; p < n; ++p) {
        const auto t = static_cast<std::size_t>(p / kItemTile);
        key_max_[t] = std::max(key_max_[t], key[order_[p]]);
        norm_max_[t] = std::max(norm_max_[t], norm[order_[p]]);
    }
    for (std::int64_t t = tiles - 2; t >= 0; --t) {
        key_max_[t] = std::max(key_max_[t], key_max_[t + 1]);
        norm_max_[t] = std::max(norm_max_[t], norm_max_[t + 1]);
    }
    if (!prune) key_max_.assign(key_max_.size(), std::numeric_limits<double>::infinity());
}


std::vector<Scored> best_items(const std::vector<double>& scores, const std::vector<std::int32_t>& skip, int n) {
    if (n < 1) DISTCF_THROW(ParameterError, "top: must be >= 1, got " + std::to_string(n));
    return best_of(scores, skip.data(), static_cast<std::int64_t>(skip.size()), n);
}

std::vector<std::vector<Scored>> top_n(const FactorModel& m, std::int64_t u0, std::int64_t u1, const SeenItems& seen,
                                       int n, const std::vector<double>* popularity, const UserScorer* scorer) {
    if (n < 1) DISTCF_THROW(ParameterError, "top: must be >= 1, got " + std::to_string(n));
    check_users(m, u0, u1, seen);
    std::vector<std::vector<Scored>> out(static_cast<std::size_t>(u1 - u0));
    if (popularity || scorer) {
        rank_rows_by(every_row(u1 - u0), seen, n, popularity, popularity ? ranking_order(*popularity) : std::vector<std::int32_t>{}, scorer, out);
        return out;
    }
    return top_n(m, ItemIndex(m), u0, u1, seen, n);
}

std::vector<std::vector<Scored>> top_n(const FactorModel& m, const ItemIndex& items, std::int64_t u0, std::int64_t u1,
                                       const SeenItems& seen, int n, TopNCounts* counts) {
    if (n < 1) DISTCF_THROW(ParameterError, "top: must be >= 1, got " + std::to_string(n));
    check_users(m, u0, u1, seen);
    if (items.n_items() != m.n_items) DISTCF_THROW(InternalError, "top_n: the item index is of another model");
    std::vector<std::vector<Scored>> out(static_cast<std::size_t>(u1 - u0));
    TopNKernel::rows(m, items, every_row(u1 - u0), seen, n, out, counts);
    return out;
}

SeenItems seen_part(const SeenItems& seen, std::int64_t u0, std::int64_t u1) {
    if (u0 < seen.row0 || u1 > seen.row0 + seen.rows() || u0 > u1) DISTCF_THROW(InputError, "seen_part: users outside the seen rows");
    const auto first = static_cast<std::size_t>(u0 - seen.row0), last = static_cast<std::size_t>(u1 - seen.row0);
    SeenItems part;
    part.row0 = u0;
    part.ptr.assign(seen.ptr.begin() + static_cast<std::ptrdiff_t>(first), seen.ptr.begin() + static_cast<std::ptrdiff_t>(last) + 1);
    const auto base = part.ptr.front();
    for (auto& p : part.ptr) p -= base;
    part.items.assign(seen.items.begin() + base, seen.items.begin() + seen.ptr[last]);
    return part;
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
                               const UserScorer* scorer, bool progress) {
    const auto u0 = seen.row0, u1 = seen.row0 + seen.rows();
    if (relevant.row0 != u0 || relevant.rows() != u1 - u0) DISTCF_THROW(InputError, "ranking_metrics: test rows do not match");
    check_users(m, u0, u1, seen);
    if (n < 1) DISTCF_THROW(ParameterError, "top: must be >= 1, got " + std::to_string(n));
    // Only users with a relevant test item count, so only they are ranked (the others were once
    // ranked and then skipped: at 10^6 items most of the work); in chunks, for progress.
    std::vector<std::int64_t> who;
    for (std::int64_t q = 0; q < u1 - u0; ++q)
        if (relevant.ptr[q + 1] > relevant.ptr[q]) who.push_back(q);
    std::vector<std::vector<Scored>> top(static_cast<std::size_t>(u1 - u0));
    {
        constexpr std::int64_t kChunk = 16384;
        Progress shown(popularity ? "ranking: popularity" : "ranking", progress ? static_cast<std::int64_t>(who.size()) : 0, "users");
        const std::optional<ItemIndex> items = popularity || scorer ? std::nullopt : std::optional<ItemIndex>(m);
        const std::vector<std::int32_t> order = popularity ? ranking_order(*popularity) : std::vector<std::int32_t>{};
        for (std::size_t c0 = 0; c0 < who.size(); c0 += kChunk) {
            const std::vector<std::int64_t> chunk(who.begin() + static_cast<std::ptrdiff_t>(c0),
                                                  who.begin() + static_cast<std::ptrdiff_t>(std::min(who.size(), c0 + kChunk)));
            const auto listed = static_cast<std::int64_t>(chunk.size());
            if (items) TopNKernel::rows(m, *items, chunk, seen, n, top, nullptr);
            else rank_rows_by(chunk, seen, n, popularity, order, scorer, top);
            shown.add(listed);
        }
    }
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
