#pragma once
/// @file als.hpp
/// @brief Distributed alternating least squares on explicit ratings: each rank solves its user
/// block against the item factors, the user factors are shared (model/alternating.hpp), then the
/// same for items.

#include <cstdint>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/la/row_solve.hpp"
#include "distcf/model/alternating.hpp"
#include "distcf/model/model.hpp"
#include "distcf/model/params.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// notebook: the notebook's ALS (no biases, ratings not centred, lambda I);
/// biased: centred on mu, user and item biases learned with the factors, lambda * n (ALS-WR).
enum class AlsFormulation { Notebook, Biased };
DISTCF_ENUM_NAMES(AlsFormulation, "notebook", "biased");
DISTCF_ENUM_NAMES(RowForm, "auto", "primal", "dual");

/// Older names of the formulation (model files of format version 1, `--formulation seed`).
inline const std::map<std::string, std::string> kFormulationAliases{{"seed", "notebook"}};

struct AlsParams {
    AlsFormulation formulation = AlsFormulation::Biased;
    /// Defaults chosen by 5-fold cross-validation inside MovieLens u1.base (docs/TUNING.md):
    /// lambda = 0.13 was best at every k; k = 50 is within 0.0003 of k = 100 at half the cost.
    int factors = 50;
    double lambda = 0.13;
    int iters = 20;
    double tol = 0.0;             ///< stop when the relative objective decrease falls below tol (0: never)
    std::uint64_t rng_seed = 42;  ///< initial factors N(0, init_sd) from (rng_seed, side, row)
    double init_sd = 0.1;
    /// How each row's system is solved (distcf/la/row_solve.hpp). Every form gives the exact
    /// solution; auto takes the cheaper one per row.
    RowForm row_solve = RowForm::Auto;
    /// cholesky: exact solves (the reference); cg: cg_steps conjugate-gradient steps per row and
    /// half-step from the row's current factors; auto: cg from 64 factors on (docs/TUNING.md says
    /// when it wins). The default k (50) is solved exactly.
    RowSolverKind solver = RowSolverKind::Auto;
    int cg_steps = 3;
    /// double (exact reference) or single (float kernels and exchange; conjugate gradient).
    Precision precision = Precision::Double;
    /// Objective and RMSEs every this many iterations (and at the last): they cost about as much
    /// as a sweep's Gram products on large data.
    int eval_every = 1;
    /// Hold this fraction of the training ratings out (chosen from (rng_seed, user, item): the same
    /// on any number of ranks) and report their RMSE at each evaluation; the model is fitted to
    /// the rest.
    double validation_fraction = 0.0;
    /// With a validation fraction: stop after this many evaluations without a better validation
    /// RMSE and keep the best iterate's factors (0: off).
    int early_stopping = 0;

    template <class V>
    void fields(V&& v) {
        v("formulation", formulation);
        v("factors", factors);
        v("lambda", lambda);
        v("iters", iters);
        v("tol", tol);
        v("rng_seed", rng_seed);
        v("init_sd", init_sd);
        v("row_solve", row_solve);
        v("solver", solver);
        v("cg_steps", cg_steps);
        v("precision", precision);
        v("eval_every", eval_every);
        v("validation_fraction", validation_fraction);
        v("early_stopping", early_stopping);
    }
    void validate() const;
};

/// The normal equations and the row solver of an ALS half-step: built here and nowhere else.
NormalEquations als_equations(const AlsParams& p, double mu);
RowSolver als_solver(const AlsParams& p);

/// Floating-point operations of one sweep: 2 nnz k(k+1) (Gram) + (users + items) k^3 / 3
/// (Cholesky) + 4 nnz k.
double als_sweep_flops(std::int64_t nnz, std::int64_t users, std::int64_t items, int k);

/// The ALS objective of `m` (trained with `p`) on the training ratings (unclipped), summed in row
/// order; when `train_errors` is given, the clipped prediction errors of the same pass go there.
/// Collective.
double als_objective(const FactorModel& m, const AlsParams& p, const RatingBlocks& train, const Comm& comm,
                     ErrorSums* train_errors = nullptr);

/// A model ready for run_als: mean, counts, biases, initial factors from p.rng_seed (with
/// `factors` false, none yet: run_als makes them, each rank only the rows it holds).
FactorModel init_als(const RatingBlocks& train, const AlsParams& p, bool factors = true);

/// Runs ALS sweeps from `m`'s current factors (set them first: init_als or a warm start) until
/// m.iterations_done == p.iters (or tol). `test` (CSR by user under train.users, may be empty)
/// gives the per-iteration test RMSE. `validation` (CSR by user under train.users): held-out
/// ratings for p.early_stopping. `exchange`: how factors are shared (allgather unless asked).
/// Collective.
void run_als(FactorModel& m, const RatingBlocks& train, const Csr& test, const AlsParams& p, const Comm& comm,
             const IterationCallback& on_iteration = {}, const Csr* validation = nullptr, const ExchangeRequest& exchange = {});

/// Fold-in: factors (rows x k) and biases for users given only their ratings (CSR rows, columns =
/// item indices of the model), each one exact row solve against the model's fixed item factors
/// with its regularisation -- the user half-step of ALS, without retraining. Local.
void als_fold_in(const FactorModel& m, const AlsParams& p, const Csr& rows, std::vector<double>& factors,
                 std::vector<double>& bias);

}  // namespace distcf
