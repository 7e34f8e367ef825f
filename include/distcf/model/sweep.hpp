#pragma once
/// @file sweep.hpp
/// @brief Hyperparameter selection by validation inside the training data: a k x lambda grid of
/// ALS models, each scored on held-out folds of the training ratings (never on test data).

#include <cstdint>
#include <functional>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/model/als.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct SweepParams {
    std::vector<int> ranks{10, 20, 50};
    std::vector<double> lambdas{0.05, 0.1, 0.2};
    /// K >= 2: K-fold cross-validation over the training ratings; 0: one hold-out of
    /// validation_fraction.
    int folds = 0;
    double validation_fraction = 0.1;
    std::uint64_t split_seed = 7;  ///< seed of the fold assignment (its own random stream)
    AlsParams als;                 ///< formulation, iterations, initial-factor seed of every point
    void validate() const;
};

/// One grid point: validation RMSE per fold, their mean and standard deviation, seconds spent.
struct SweepPoint {
    int rank = 0;
    double lambda = 0.0;
    std::vector<double> fold_rmse;
    double rmse = 0.0, rmse_sd = 0.0, seconds = 0.0;
};

struct SweepResult {
    std::vector<SweepPoint> points;  ///< ranks outer, lambdas inner
    std::size_t best = 0;            ///< smallest mean validation RMSE (first on ties)
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
