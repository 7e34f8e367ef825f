#pragma once
/// @file ials.hpp
/// @brief Implicit-feedback ALS (Hu, Koren, Volinsky 2008) on the distributed blocks: the same
/// row solver and allgather of factor blocks as explicit ALS; Y^T Y is shared by every row.

#include <cstdint>
#include <functional>
#include <string>

#include "distcf/data/ratings.hpp"
#include "distcf/model/als.hpp"
#include "distcf/model/model.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct IalsParams {
    int rank = 64;
    double lambda = 0.1;
    int iters = 15;
    double alpha = 40.0;
    std::string confidence = "linear";  ///< linear: c = 1 + alpha r; log: c = 1 + alpha log(1 + r / epsilon)
    double epsilon = 1.0;
    std::string solver = "cholesky";    ///< cholesky (exact) | cg (warm-started conjugate gradient)
    int cg_steps = 3;
    std::uint64_t seed = 42;
    double init_sd = 0.01;
    void validate() const;
};

/// Explicit ratings read as implicit interactions: ratings >= threshold become interactions of
/// strength 1, the rest are dropped. Collective (counts and mean are recomputed).
RatingBlocks as_interactions(const RatingBlocks& ratings, double threshold, const Comm& comm);

/// A model ready for run_ials: method "ials", no biases, initial factors N(0, init_sd) from the
/// same (seed, row) streams as ALS.
FactorModel init_ials(const RatingBlocks& train, const IalsParams& params);

/// The implicit loss sum_{all u,i} c_ui (p_ui - x_u.y_i)^2 + lambda (|X|^2 + |Y|^2), computed in
/// O(nnz k + (users + items) k^2) through sum_u x_u^T (Y^T Y) x_u. Collective.
double ials_loss(const FactorModel& m, const RatingBlocks& train, const IalsParams& params, const Comm& comm);

/// Runs iterations until m.iterations_done == params.iters; `on_iteration` gets the loss (train and
/// test RMSE are -1: they mean nothing here). Collective; factors are bit-identical for any rank
/// count.
void run_ials(FactorModel& m, const RatingBlocks& train, const IalsParams& params, const Comm& comm,
              const std::function<void(const IterationReport&, const FactorModel&)>& on_iteration = {});

}  // namespace distcf
