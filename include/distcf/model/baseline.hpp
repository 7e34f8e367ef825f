#pragma once
/// @file baseline.hpp
/// @brief The bias baseline mu + b_u + b_i, distributed over the user and item blocks.

#include "distcf/data/ratings.hpp"
#include "distcf/model/model.hpp"
#include "distcf/model/params.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// notebook: the notebook's estimator (plain means); regularized: damped, alternated means.
enum class BaselineEstimator { Notebook, Regularized };
DISTCF_ENUM_NAMES(BaselineEstimator, "notebook", "regularized");

struct BaselineParams {
    /// notebook: the notebook's estimator (b_u = the user's mean deviation from mu, then b_i = the
    /// item's mean of r - mu - b_u); regularized: damped means alternated `rounds` times, items first,
    /// b_i = sum(r - mu - b_u) / (lambda_item + n_i), b_u = sum(r - mu - b_i) / (lambda_user + n_u).
    BaselineEstimator estimator = BaselineEstimator::Regularized;
    /// Chosen by validation on a 20% hold-out of MovieLens u1.base (grid 1..25 each; flat between
    /// 2 and 4, against 0.9424 for Surprise's 15 / 10): see docs/TUNING.md.
    double lambda_user = 3.0;
    double lambda_item = 2.0;
    int rounds = 10;

    template <class V>
    void fields(V&& v) {
        v("estimator", estimator);
        v("lambda_user", lambda_user);
        v("lambda_item", lambda_item);
        v("rounds", rounds);
    }
    void validate() const;
};

/// Fits the baseline on the distributed ratings; every rank gets the whole model. Collective.
FactorModel fit_baseline(const RatingBlocks& train, const BaselineParams& params, const Comm& comm);

}  // namespace distcf
