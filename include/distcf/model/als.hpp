#pragma once
/// @file als.hpp
/// @brief Distributed alternating least squares: each rank solves its user block against all item
/// factors, the user factors are allgathered, then the same for items.

#include <cstdint>
#include <functional>
#include <string>

#include "distcf/data/ratings.hpp"
#include "distcf/model/model.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct AlsParams {
    /// seed: the notebook's ALS (no biases, ratings not centred, lambda I);
    /// biased: centred on mu, user and item biases learned with the factors, lambda * n (ALS-WR).
    std::string formulation = "biased";
    /// Defaults chosen by 5-fold cross-validation inside MovieLens u1.base (docs/TUNING.md):
    /// lambda = 0.13 was best at every k; k = 50 is within 0.0003 of k = 100 at half the cost.
    int rank = 50;
    double lambda = 0.13;
    int iters = 20;
    double tol = 0.0;          ///< stop when the relative objective decrease falls below tol (0: never)
    std::uint64_t seed = 42;   ///< initial factors N(0, 0.1) from (seed, row)
    double init_sd = 0.1;
    /// auto | primal | dual: how each row's system is solved (distcf/la/row_solve.hpp). Every form
    /// gives the exact solution; auto takes the cheaper one per row.
    std::string row_solve = "auto";
    void validate() const;
};

/// The model file's param_row_solve: 0 auto, 1 primal, 2 dual.
int row_solve_code(const std::string& row_solve);

/// One line of progress per iteration.
struct IterationReport {
    int iteration;
    double objective, train_rmse, test_rmse, seconds, gflops;
};

/// Floating-point operations of one sweep: 2 nnz k(k+1) (Gram) + (users + items) k^3 / 3
/// (Cholesky) + 4 nnz k.
double als_sweep_flops(std::int64_t nnz, std::int64_t users, std::int64_t items, int k);

/// Initial factors: row r of side `s` is N(0, sd) draws from (seed, s, r).
std::vector<double> initial_factors(std::uint64_t seed, bool items, std::int64_t rows, int k, double sd);

/// The ALS objective of `m` on the training ratings (unclipped), summed in row order; when
/// `train_errors` is given, the clipped prediction errors of the same pass go there. Collective.
double als_objective(const FactorModel& m, const RatingBlocks& train, const Comm& comm, ErrorSums* train_errors = nullptr);

/// Runs ALS iterations from `m`'s current factors (set them first: initial_factors or a warm start)
/// until m.iterations_done == params.iters (or tol). `test` (CSR by user under train.users, may be
/// empty) gives the per-iteration test RMSE. `on_iteration` is called on every rank after each
/// iteration (progress lines, checkpoints). Collective.
void run_als(FactorModel& m, const RatingBlocks& train, const Csr& test, const AlsParams& params, const Comm& comm,
             const std::function<void(const IterationReport&, const FactorModel&)>& on_iteration = {});

/// Fold-in: factors (rows x rank) and biases for users given only their ratings (CSR rows, columns
/// = item indices of the model), each one exact row solve against the model's fixed item factors
/// with the model's regularisation -- the user half-step of ALS (or implicit ALS), without
/// retraining. Works for methods als and ials; local (no communication).
void fold_in_users(const FactorModel& m, const Csr& rows, std::vector<double>& factors, std::vector<double>& bias);

/// A model ready for run_als: mean, counts, biases, initial factors from params.seed.
FactorModel init_als(const RatingBlocks& train, const AlsParams& params);

}  // namespace distcf
