#pragma once
/// @file ials.hpp
/// @brief Implicit-feedback ALS (Hu, Koren, Volinsky 2008) on the distributed blocks: the same
/// loop, half-step and row solver as explicit ALS (model/alternating.hpp); Y^T Y is shared by
/// every row and reduced in a rank-count-invariant order.

#include <cstdint>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/la/row_solve.hpp"
#include "distcf/model/alternating.hpp"
#include "distcf/model/model.hpp"
#include "distcf/model/params.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// Implicit ALS's row solver: RowSolverKind (distcf/model/params.hpp), shared with ALS.
using IalsSolver = RowSolverKind;
DISTCF_ENUM_NAMES(ConfidenceScale, "linear", "log");

struct IalsParams {
    int factors = 64;
    double lambda = 0.1;
    int iters = 15;
    double alpha = 40.0;
    /// linear: c = 1 + alpha r; log: c = 1 + alpha log(1 + r / epsilon)
    ConfidenceScale confidence = ConfidenceScale::Linear;
    double epsilon = 1.0;
    /// auto: exact (Cholesky) below 64 factors, conjugate gradient from 64 on and in single precision.
    IalsSolver solver = IalsSolver::Auto;
    int cg_steps = 3;
    /// double (exact reference) or single (float kernels and exchange; conjugate gradient).
    Precision precision = Precision::Double;
    /// The loss every this many iterations (and at the last): it costs about a third of a CG sweep.
    int eval_every = 1;
    std::uint64_t rng_seed = 42;
    double init_sd = 0.01;
    /// Hold this fraction of the training interactions out (chosen from (rng_seed, user, item): the
    /// same on any number of ranks) and rank them at each evaluation: NDCG@10 of each sampled
    /// user's held-out items among the items it did not train on. The model is fitted to the rest.
    double validation_fraction = 0.0;
    /// With a validation fraction: stop after this many evaluations without a better validation
    /// NDCG@10 and keep the best iterate's factors (0: off).
    int early_stopping = 0;
    /// About this many users with held-out items are ranked (a rank-invariant sample by user; all
    /// of them when fewer): ranking a user scores every item, and every user would cost more than
    /// a sweep.
    std::int64_t validation_users = 2000;

    template <class V>
    void fields(V&& v) {
        v("factors", factors);
        v("lambda", lambda);
        v("iters", iters);
        v("alpha", alpha);
        v("confidence", confidence);
        v("epsilon", epsilon);
        v("solver", solver);
        v("cg_steps", cg_steps);
        v("precision", precision);
        v("eval_every", eval_every);
        v("rng_seed", rng_seed);
        v("init_sd", init_sd);
        v("validation_fraction", validation_fraction);
        v("early_stopping", early_stopping);
        v("validation_users", validation_users);
    }
    void validate() const;
};

/// The validation measure's list length: NDCG@10.
inline constexpr int kIalsValidationTop = 10;

/// The normal equations (with `gram` = Y^T Y of the other side) and the row solver of an
/// implicit half-step: built here and nowhere else.
NormalEquations ials_equations(const IalsParams& p, const std::vector<double>& gram);
RowSolver ials_solver(const IalsParams& p);

/// Explicit ratings read as implicit interactions: ratings >= threshold become interactions of
/// strength 1, the rest are dropped. Collective (counts and mean are recomputed).
RatingBlocks as_interactions(const RatingBlocks& ratings, double threshold, const Comm& comm);

/// A model ready for run_ials: method "ials", no biases, initial factors N(0, init_sd) from the
/// same (rng_seed, side, row) streams as ALS.
/// With `factors` false, none yet: run_ials makes them, each rank only the rows it holds.
FactorModel init_ials(const RatingBlocks& train, const IalsParams& p, bool factors = true);

/// The implicit loss sum_{all u,i} c_ui (p_ui - x_u.y_i)^2 + lambda (|X|^2 + |Y|^2), computed in
/// O(nnz k + (users + items) k^2) through sum_u x_u^T (Y^T Y) x_u. `m` holds each rank's own rows
/// at the CSRs' row0 (either exchange's layout). Collective.
double ials_loss(const FactorModel& m, const RatingBlocks& train, const IalsParams& p, const Comm& comm);

/// Runs sweeps until m.iterations_done == p.iters; `on_iteration` gets the loss (train and test
/// RMSE are -1: they mean nothing here). `exchange`: how factors are shared (allgather unless asked).
/// `validation` (CSR by user under train.users): held-out interactions, ranked at each evaluation
/// for p.early_stopping (about p.validation_users of their users; the run takes the allgather
/// exchange). Collective; factors are bit-identical for any rank count.
void run_ials(FactorModel& m, const RatingBlocks& train, const IalsParams& p, const Comm& comm,
              const IterationCallback& on_iteration = {}, const ExchangeRequest& exchange = {},
              const Csr* validation = nullptr);

/// The rows of `held` (CSR by user under `users`) of about `about` of the users that have any, a
/// sample by (seed, user) -- the same on any number of ranks -- the other rows emptied; every row
/// when `about` covers them all. Collective.
Csr sample_validation_users(const Csr& held, std::int64_t about, std::uint64_t seed, const Comm& comm);

/// Fold-in: the user half-step of implicit ALS against the model's fixed item factors. Local.
void ials_fold_in(const FactorModel& m, const IalsParams& p, const Csr& rows, std::vector<double>& factors,
                  std::vector<double>& bias);

}  // namespace distcf
