#pragma once
/// @file svd.hpp
/// @brief SVD collaborative filtering (the notebook's second method): a truncated SVD of the
/// bias-removed, zero-filled rating matrix, by ScaLAPACK (dense) or a randomized range finder.
///
/// prediction_k(u, i) = clip(baseline(u, i) + sum_{l<k} s_l U[u, l] V[i, l]). One decomposition
/// serves every k of a sweep.

#include <cstdint>
#include <string>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/model/baseline.hpp"
#include "distcf/model/model.hpp"
#include "distcf/model/params.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

enum class SvdSolver { Auto, Dense, Randomized };
DISTCF_ENUM_NAMES(SvdSolver, "auto", "dense", "randomized");
/// validation: k with the smallest RMSE on a hold-out of the training ratings;
/// test: smallest test RMSE (the notebook's choice; needs test data); largest: the largest k.
enum class SelectK { Validation, Test, Largest };
DISTCF_ENUM_NAMES(SelectK, "validation", "test", "largest");

// A nested parameter struct's fields under a prefix (the SVD's baseline_*).
template <class V>
struct Prefixed {
    V& v;
    const char* prefix;
    template <class T>
    void operator()(const char* name, T& x) const {
        const std::string full = std::string(prefix) + name;
        v(full.c_str(), x);
    }
};

struct SvdParams {
    std::vector<int> factor_grid{1, 2, 3, 5, 8, 10, 15, 20, 30};  ///< the k of the sweep
    /// dense: ScaLAPACK pdgesvd of the whole residual (2-D block-cyclic); randomized: Halko et al.
    /// (2011) on the sparse residual; auto: dense while users x items x 8 bytes / ranks stays
    /// within dense_budget_mb and min(users, items) <= dense_max_min_dim (pdgesvd's work grows
    /// as users x items x min), randomized otherwise.
    SvdSolver solver = SvdSolver::Auto;
    int block_size = 64;
    double dense_budget_mb = 1024;
    std::int64_t dense_max_min_dim = 2000;
    int oversample = 10;
    int power_iters = 2;
    std::uint64_t rng_seed = 42;  ///< the randomized sketch
    SelectK select_k = SelectK::Validation;
    double validation_fraction = 0.1;
    std::uint64_t split_seed = 7;
    BaselineParams baseline;

    template <class V>
    void fields(V&& v) {
        v("factor_grid", factor_grid);
        v("solver", solver);
        v("block_size", block_size);
        v("dense_budget_mb", dense_budget_mb);
        v("dense_max_min_dim", dense_max_min_dim);
        v("oversample", oversample);
        v("power_iters", power_iters);
        v("rng_seed", rng_seed);
        v("select_k", select_k);
        v("validation_fraction", validation_fraction);
        v("split_seed", split_seed);
        baseline.fields(Prefixed<V>{v, "baseline_"});
    }
    void validate() const;
};

/// The leading singular triplets of a residual: s (descending), U (users x r) and V (items x r),
/// row-major, on every rank.
struct TruncatedSvd {
    int r = 0;
    std::vector<double> s, U, V;
    SvdSolver solver = SvdSolver::Dense;
};

/// Copies of the training CSR blocks holding rating - baseline score (unclipped) instead of the
/// rating. `users_are_rows` tells which side the CSR's rows are.
Csr residual_rows(const Csr& rows, bool users_are_rows, const FactorModel& baseline);

/// Dense path: the residual (users x items, zero-filled) distributed 2-D block-cyclically over a
/// BLACS grid as square as the rank count allows, filled straight from the partitioned ratings,
/// then pdgesvd; returns the leading `r` triplets and all singular values in `all_s`. Collective.
TruncatedSvd dense_svd(const Csr& residual_by_user, std::int64_t n_users, std::int64_t n_items, int r, int block_size,
                       const Comm& comm, std::vector<double>* all_s = nullptr);

/// Randomized path (Halko, Martinsson, Tropp 2011, algorithm 4.4 with re-orthonormalisation):
/// products with the distributed CSR blocks; the thin (users + items) x (r + oversample) bases are
/// replicated and orthonormalised by SVQB twice (Stathopoulos & Wu 2002), then a small SVD.
/// Memory O((users + items) (r + oversample)) per rank; the result does not depend on the rank
/// count. Collective.
TruncatedSvd randomized_svd(const Csr& residual_by_user, const BlockPartition& users, const Csr& residual_by_item,
                            const BlockPartition& items, int r, int oversample, int power_iters, std::uint64_t seed,
                            const Comm& comm);

/// Train and test RMSE for every k of `factor_grid` (ascending), from the factors. Collective.
struct RankTable {
    std::vector<int> k;
    std::vector<double> train_rmse, test_rmse;  ///< test_rmse empty without test data
};
RankTable rank_table(const FactorModel& baseline, const TruncatedSvd& svd, const std::vector<int>& factor_grid,
                     const RatingBlocks& train, const Csr& test, const Comm& comm);

/// The SVD model with the leading `k` factors: user factors U_k diag(s_k), item factors V_k.
FactorModel svd_model(const FactorModel& baseline, const TruncatedSvd& svd, int k);

/// Everything `train --method svd` produces.
struct SvdFit {
    FactorModel model;  ///< factors for the largest k of the sweep; k_selected set
    TruncatedSvd svd;
    std::vector<double> singular_values;  ///< all of them (dense) or the r computed (randomized)
    RankTable table;
    std::vector<double> validation_rmse;  ///< per k, when select_k = validation
    int k_selected = 0;
};
SvdFit fit_svd(const RatingBlocks& train, const Csr& test, const SvdParams& params, const Comm& comm);

/// The solver `auto` resolves to for this shape and rank count (dense or randomized).
SvdSolver resolve_svd_solver(const SvdParams& params, std::int64_t n_users, std::int64_t n_items, int ranks);

}  // namespace distcf
