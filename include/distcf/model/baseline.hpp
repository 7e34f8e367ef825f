#pragma once
/// @file baseline.hpp
/// @brief The bias baseline mu + b_u + b_i, distributed over the user and item blocks.

#include "distcf/data/ratings.hpp"
#include "distcf/model/model.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct BaselineParams {
    /// seed: the notebook's estimator (b_u = the user's mean deviation from mu, then b_i = the
    /// item's mean of r - mu - b_u); regularized: damped means alternated `rounds` times, items first,
    /// b_i = sum(r - mu - b_u) / (lambda_item + n_i), b_u = sum(r - mu - b_i) / (lambda_user + n_u).
    std::string estimator = "regularized";
    double lambda_user = 15.0;  ///< Surprise's BaselineOnly defaults
    double lambda_item = 10.0;
    int rounds = 10;
    void validate() const;
};

/// Fits the baseline on the distributed ratings; every rank gets the whole model. Collective.
FactorModel fit_baseline(const RatingBlocks& train, const BaselineParams& params, const Comm& comm);

}  // namespace distcf
