#pragma once
/// @file alternating.hpp
/// @brief The one iteration loop and the one half-step of every alternating method (explicit ALS,
/// implicit ALS, and those to come), parameterised by what differs between them, and the seam
/// through which solved factors reach the ranks that need them.
///
/// A sweep solves this rank's user rows against the item factors, shares the new user factors
/// through the FactorExchange, then does the same for the items. What a method decides is in its
/// AlternatingProblem: the normal equations of a side (model/als.cpp builds explicit ones,
/// model/ials.cpp implicit ones with Y^T Y), how they are solved, and the figures of a sweep.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/la/row_solve.hpp"
#include "distcf/model/exchange.hpp"
#include "distcf/model/model.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// One line of progress per iteration (train and test RMSE are -1 where they mean nothing).
struct IterationReport {
    int iteration;
    double objective, train_rmse, test_rmse, seconds, gflops;
    double validation_rmse = -1;  ///< on the held-out part of the training ratings (-1: none this iteration)
    double validation_ndcg = -1;  ///< implicit feedback: NDCG@LoopControl::validation_top of the held-out items (-1: none)
    double eval_seconds = 0;      ///< objective, RMSEs and validation, outside `seconds` (the sweep)
    double received_bytes = 0;    ///< factor bytes the sweep's exchanges delivered to a rank (the most any received)
};
/// The working model as a file would hold it: every row, or each rank's own rows where the run
/// leaves them so (LoopControl::whole_result). Under a targeted exchange it is made when called:
/// collective, so every rank calls it or none does.
using SavedModel = std::function<FactorModel()>;
using IterationCallback = std::function<void(const IterationReport&, const SavedModel&)>;


/// The objective of a sweep and, where the method has them, its fit figures (-1: none).
struct SweepFigures {
    double objective = 0.0, train_rmse = -1.0, test_rmse = -1.0;
};

/// What an alternating method decides; the loop does the rest.
class AlternatingProblem {
public:
    virtual ~AlternatingProblem() = default;
    /// The normal equations for solving `side` against the other side's current factors in `m`.
    /// Called once per half-step, inside the timed sweep (implicit ALS forms Y^T Y here, from the
    /// own rows at train's CSR row0: see la/row_solve.hpp owned_gram). Collective.
    virtual NormalEquations equations(Side side, const FactorModel& m, const RatingBlocks& train, const Comm& comm) = 0;
    /// Whether equations() forms a side's Gram (the exchange then holds each Gram chunk's rows).
    virtual bool forms_gram() const { return false; }
    /// Whether the method works with factors held in a targeted exchange's local layout (rows in
    /// the exchange's order, CSR columns and row0 local, partitions and sizes global).
    virtual bool supports_local_layout() const { return true; }
    /// How the rows of `side` are solved in this half-step (a sampler draws afresh in each:
    /// m.iterations_done is the 0-based sweep under way).
    virtual RowSolver solver(Side side, const FactorModel& m) const = 0;
    /// What a method does after every sweep besides measuring it (a Gibbs sampler keeps its
    /// sample in m.state and may draw its noise precision). Called before m.iterations_done counts
    /// the sweep. Collective; rank-count invariant.
    virtual void record_sweep(FactorModel& m, const RatingBlocks& train, const Comm& comm) {}
    /// Objective and fit after a sweep, after record_sweep; it only measures, so the loop skips it
    /// between evaluations (LoopControl::eval_every). Collective; rank-count invariant.
    virtual SweepFigures after_sweep(FactorModel& m, const RatingBlocks& train, const Csr& test, const Comm& comm) = 0;
    /// Floating-point operations of one sweep, for the GFLOP/s figure (0: no figure).
    virtual double sweep_flops(const RatingBlocks& train, int factors) const = 0;
    /// The sweeps' arithmetic: single runs the solves and the exchange on float copies of the
    /// factors (the model keeps their values, exactly, as doubles).
    virtual Precision precision() const { return Precision::Double; }
};

/// When to stop: after `iters` sweeps in all (m.iterations_done counts those already done, so a
/// resumed run continues), or earlier when the relative objective decrease falls below tol (> 0).
struct LoopControl {
    int iters = 0;
    double tol = 0.0;
    /// Figures (objective, RMSEs, validation) every this many sweeps and at the last; between
    /// them the history holds -1.
    int eval_every = 1;
    /// Ratings held out of training (CSR by user under train.users) whose RMSE is measured at
    /// each evaluation; with patience > 0 the loop stops after `patience` evaluations without a
    /// better validation RMSE and the model returns to the best iterate.
    const Csr* validation = nullptr;
    int patience = 0;
    /// > 0: the held-out items are ranked instead (implicit feedback, where a rating error means
    /// nothing): each of their users' top validation_top items among those not trained on, the
    /// measure NDCG@validation_top, higher better. Scoring every item needs every item's factors
    /// on each rank: the run takes the allgather exchange.
    int validation_top = 0;
    /// How factors are shared (allgather unless asked), and where the choice is told (one line).
    ExchangeOptions exchange{ExchangeKind::Allgather};
    std::function<void(const std::string&)> tell_exchange;
    /// false: a targeted run leaves each rank its own rows (m.rows), never assembling every row
    /// on one rank; an allgather run holds every row anyway.
    bool whole_result = true;
    /// Writes row `row` of `side`'s initial factors (k values) to `out`. Used when the model comes
    /// without factors (U and V empty): each rank then makes only the rows it holds.
    std::function<void(Side side, std::int64_t row, double* out)> initial_row;
};

/// The exchange a method's caller asks for (allgather by default), who hears which ran, and
/// whether the model must come back whole (LoopControl::whole_result).
struct ExchangeRequest {
    ExchangeOptions options{ExchangeKind::Allgather};
    std::function<void(const std::string&)> tell;
    bool whole_result = true;
};

/// Runs sweeps from m's current factors. `test` (CSR by user under train.users, may be empty)
/// goes to the problem's figures. `on_iteration` is called on every rank after each sweep.
/// Under an exchange with plans (targeted) the sweeps run on a local copy of the model and the
/// data in the plans' layout, and `m` gets every row back at the end. Collective; factors are
/// bit-identical for any rank or thread count and either exchange.
void run_alternating(FactorModel& m, const RatingBlocks& train, const Csr& test, AlternatingProblem& problem,
                     const LoopControl& loop, const Comm& comm, const IterationCallback& on_iteration = {});

/// Initial factors: row r of a side is N(0, sd) draws from (rng_seed, side, r).
std::vector<double> initial_factors(std::uint64_t rng_seed, Side side, std::int64_t rows, int k, double sd);
/// Row `row` of those (k values into out).
void initial_factor_row(std::uint64_t rng_seed, Side side, std::int64_t row, int k, double sd, double* out);

}  // namespace distcf
