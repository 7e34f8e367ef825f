#pragma once
/// @file recommend.hpp
/// @brief Top-N recommendation, item similarity and ranking metrics from a factor model.
///
/// Scores are the model's unclipped score (mu + b_u + b_i + U_u . V_i). Each score is accumulated
/// over the factors in a fixed order whatever the blocking, so the top-N of a user is the same
/// from `recommend --user` and from `recommend --all-users` on any number of ranks.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/model/model.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct Scored {
    std::int32_t item;
    double score;
};

/// The n best items of one score vector (larger first, ties to the smaller index), skipping the
/// items in `skip` (ascending).
std::vector<Scored> best_items(const std::vector<double>& scores, const std::vector<std::int32_t>& skip, int n);

/// A model's items arranged for top-N scoring, built once and shared by every block of users
/// (and threads): V transposed (k x items) with its columns in descending order of an upper bound
/// of what the item can add to a score, key_i = b_i + c ||v_i|| (c: the mean norm of the held
/// users' factors), and per tile of that order the largest key and item norm from the tile on.
/// By Cauchy-Schwarz b_i + a.v_i <= b_i + ||a|| ||v_i|| <= key_max + max(0, ||a|| - c) norm_max,
/// so a block of users can stop at the first tile where no later item can beat any of its
/// users' n-th best (the exact pruning of norm-ordered maximum-inner-product search; LEMP,
/// Teflioudi et al. 2015): the lists and their scores are those of scoring every item.
class ItemIndex {
  public:
    /// `prune` false: the same order and scores, every item scored (the yardstick of the bound).
    explicit ItemIndex(const FactorModel& m, bool prune = true);
    std::int64_t n_items() const { return static_cast<std::int64_t>(order_.size()); }

  private:
    friend struct TopNKernel;
    double c_ = 0.0;              // the user norm the keys were made with
    double max_abs_bias_ = 0.0;   // over every item: the margin for rounding
    std::vector<std::int32_t> order_;  // position -> item
    std::vector<double> vt_;           // k x items, columns in `order_`
    std::vector<double> bias_;         // item biases in `order_` (empty: none)
    std::vector<double> key_max_, norm_max_;  // per tile t: max over positions >= t x tile
};

/// How much scoring the pruning saved: user-item pairs scored, of all pairs.
struct TopNCounts {
    std::int64_t scored = 0, pairs = 0;
};

/// The top n items by model score for each user of [u0, u1) with a prebuilt index of the items
/// (several calls, one index); `counts`, when given, is added to.
std::vector<std::vector<Scored>> top_n(const FactorModel& m, const ItemIndex& items, std::int64_t u0, std::int64_t u1,
                                       const SeenItems& seen, int n, TopNCounts* counts = nullptr);

/// Every item's ranking score for user u (larger first), when a ranking is not by the model's
/// score (a Bayesian model's lower confidence bound). Called from several threads at once.
using UserScorer = std::function<void(std::int64_t u, std::vector<double>& scores)>;

/// The top n items for each user of [u0, u1) (n_users rows of output, best first), excluding
/// their seen items. `item_score_only` ranks by the popularity order given instead of the model
/// (one value per item, larger first) -- the baseline a ranking must beat; `scorer`, when given,
/// by its scores.
std::vector<std::vector<Scored>> top_n(const FactorModel& m, std::int64_t u0, std::int64_t u1, const SeenItems& seen,
                                       int n, const std::vector<double>* item_score_only = nullptr,
                                       const UserScorer* scorer = nullptr);

/// The training items of users [u0, u1), a part of `seen` (which must cover them): lets a long
/// top-N run a chunk of users at a time.
SeenItems seen_part(const SeenItems& seen, std::int64_t u0, std::int64_t u1);

/// The n items most similar to item i by cosine of the item factors (i itself excluded).
std::vector<Scored> similar_items(const FactorModel& m, std::int64_t i, int n);

/// Ranking quality at N over users with at least one relevant test item (rating >= threshold):
/// means of precision@N, recall@N, NDCG@N (binary gains) and MAP@N (AP normalised by
/// min(relevant, N)). Training items are excluded from the ranking.
struct RankingMetrics {
    double precision = 0, recall = 0, ndcg = 0, map = 0;
    std::int64_t users = 0;
};
/// `relevant`: this rank's users' relevant test items (CSR rows over the same user range as
/// `seen`), columns ascending. Collective: sums over ranks in user order. `progress` false: no
/// progress line (a measure taken inside a training loop).
RankingMetrics ranking_metrics(const FactorModel& m, const SeenItems& seen, const Csr& relevant, int n,
                               const std::vector<double>* item_score_only, const BlockPartition& users,
                               const Comm& comm, const UserScorer* scorer = nullptr, bool progress = true);

}  // namespace distcf
