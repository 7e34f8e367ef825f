#pragma once
/// @file sweep.hpp
/// @brief Hyperparameter selection by validation inside the training data: a k x lambda grid of
/// ALS models, each scored on held-out folds of the training ratings (never on test data).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/model/als.hpp"
#include "distcf/model/bpmf.hpp"
#include "distcf/model/ials.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct SweepParams {
    std::vector<int> factor_grid{10, 20, 50};
    std::vector<double> lambdas{0.05, 0.1, 0.2};
    /// K >= 2: K-fold cross-validation over the training ratings; 0: one hold-out of
    /// validation_fraction.
    int folds = 0;
    double validation_fraction = 0.1;
    std::uint64_t split_seed = 7;  ///< seed of the fold assignment (its own random stream)
    AlsParams als;                 ///< formulation, iterations, initial-factor RNG seed of every point
    /// als: scored by validation RMSE (lower is better). ials: implicit ALS over factors x lambdas x
    /// alphas, scored by NDCG@top on the held-out interactions, training items excluded (higher
    /// is better).
    std::string method = "als";
    std::vector<double> alphas{40.0};
    IalsParams ials;               ///< confidence, solver, iterations of every ials point
    /// bpmf: Bayesian MF over factors x noise_precisions (there is no lambda), scored by the
    /// validation RMSE of the posterior mean.
    std::vector<double> noise_precisions{1.0, 1.5, 2.0};
    BpmfParams bpmf;               ///< burn-in, samples, RNG seed of every bpmf point
    int top = 10;
    void validate() const;
};

/// One grid point: its validation score per fold, their mean and standard deviation, seconds.
struct SweepPoint {
    int factors = 0;
    double lambda = 0.0;
    double alpha = 0.0;  ///< ials only
    double noise_precision = 0.0;  ///< bpmf only (lambda is 0)
    std::vector<double> fold_score;
    double score = 0.0, score_sd = 0.0, seconds = 0.0;
};

struct SweepResult {
    std::vector<SweepPoint> points;  ///< factors outer, then lambdas (bpmf: noise precisions), then alphas
    std::size_t best = 0;            ///< the best mean score (first on ties)
    std::string metric = "rmse";     ///< rmse | ndcg@N
    int folds = 1;
    std::int64_t validation_ratings = 0;  ///< over all folds
};

/// Trains every grid point on each fold's training part from its own initial factors (no warm
/// starts, so a point's score does not depend on the grid around it) and scores it on the fold.
/// The folds are built once and shared by all points. `on_point` is called on every rank after a
/// point has been scored on every fold. Collective; the result is identical for any rank count.
SweepResult sweep_als(const RatingBlocks& train, const SweepParams& params, const Comm& comm,
                      const std::function<void(const SweepPoint&)>& on_point = {});

}  // namespace distcf
