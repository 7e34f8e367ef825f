#include "distcf/model/alternating.hpp"

#include <limits>
#include "distcf/util/threads.hpp"

#include <algorithm>
#include <cmath>

#include "distcf/data/rng.hpp"

namespace distcf {

void AllgatherExchange::share(std::vector<double>& all, const BlockPartition& part, std::int64_t width, const Comm& comm) {
    comm.allgather_blocks(all.data(), part, width);
}

std::vector<double> initial_factors(std::uint64_t rng_seed, Side side, std::int64_t rows, int k, double sd) {
    std::vector<double> f(static_cast<std::size_t>(rows * k));
    const Stream stream = side == Side::Items ? Stream::InitItem : Stream::InitUser;
#pragma omp parallel for schedule(static) if (worth_threads(static_cast<double>(rows) * k * 30))
    for (std::int64_t r = 0; r < rows; ++r) {
        RowRng g(rng_seed, stream, static_cast<std::uint64_t>(r));
        for (int c = 0; c < k; ++c) f[static_cast<std::size_t>(r * k + c)] = g.normal(0.0, sd);
    }
    return f;
}

namespace {

// The solved block's buffers, kept across iterations: a fresh one each half-step cost a page
// fault per 4 KiB of factors.
struct SolvedBlock {
    std::vector<double> factors, bias;
};

// Solves this rank's rows of one side against the other side's factors, then shares them.
void half_step(const Csr& rows, const BlockPartition& part, const std::vector<double>& other,
               const std::vector<double>& other_bias, const NormalEquations& eq, const RowSolver& how,
               FactorExchange& exchange, const Comm& comm, std::vector<double>& all, std::vector<double>& all_bias,
               SolvedBlock& work) {
    const std::int64_t k = eq.factors, r0 = part.begin(comm.rank()), n = rows.rows();
    // Conjugate gradient starts from the rows' current factors.
    if (how.cg_steps > 0) {
        work.factors.assign(all.begin() + r0 * k, all.begin() + (r0 + n) * k);
        if (eq.learn_bias) work.bias.assign(all_bias.begin() + r0, all_bias.begin() + r0 + n);
    }
    solve_rows(rows, other, other_bias, eq, how, work.factors, work.bias);
    std::copy(work.factors.begin(), work.factors.end(), all.begin() + r0 * k);
    exchange.share(all, part, k, comm);
    if (eq.learn_bias) {
        std::copy(work.bias.begin(), work.bias.end(), all_bias.begin() + r0);
        exchange.share(all_bias, part, 1, comm);
    }
}

}  // namespace

void run_alternating(FactorModel& m, const RatingBlocks& train, const Csr& test, AlternatingProblem& problem,
                     const LoopControl& loop, FactorExchange& exchange, const Comm& comm,
                     const IterationCallback& on_iteration) {
    const double flops = problem.sweep_flops(train, m.n_factors);
    double previous = -1.0;  // the last measured objective
    for (auto it = m.history.objective.rbegin(); it != m.history.objective.rend() && previous < 0; ++it) previous = *it;
    SolvedBlock users, items;
    // Early stopping: the best iterate by validation RMSE so far, kept whole to return to.
    double best = std::numeric_limits<double>::infinity();
    std::int64_t best_iteration = -1, evaluations_since_best = 0;
    FactorModel best_model;
    while (m.iterations_done < loop.iters) {
        comm.barrier();
        const double t0 = Comm::wtime();
        half_step(train.by_user, train.users, m.V, m.item_bias, problem.equations(Side::Users, m, comm),
                  problem.solver(Side::Users, m), exchange, comm, m.U, m.user_bias, users);
        half_step(train.by_item, train.items, m.U, m.user_bias, problem.equations(Side::Items, m, comm),
                  problem.solver(Side::Items, m), exchange, comm, m.V, m.item_bias, items);
        comm.barrier();
        const double seconds = Comm::wtime() - t0;
        const std::int64_t done = m.iterations_done + 1;
        const bool evaluate = !problem.evaluation_optional() || loop.eval_every <= 1 || done % loop.eval_every == 0 ||
                              done == loop.iters;
        SweepFigures fig{-1.0, -1.0, -1.0};
        double validation = -1.0;
        if (evaluate) {
            fig = problem.after_sweep(m, train, test, comm);
            if (loop.validation) validation = rmse(error_sums(m, *loop.validation, train.users, comm));
        }
        comm.barrier();
        const double eval_seconds = Comm::wtime() - t0 - seconds;
        const double gflops = flops > 0 && seconds > 0 ? flops / seconds / 1e9 : 0.0;
        // The timing is rank 0's, shared, so that every rank writes the same history.
        const double sec0 = comm.bcast_value(seconds), gf0 = comm.bcast_value(gflops), ev0 = comm.bcast_value(eval_seconds);
        m.history.push(fig.objective, fig.train_rmse, fig.test_rmse, sec0, gf0);
        ++m.iterations_done;
        bool stop = false;
        if (validation >= 0 && loop.patience > 0) {
            if (validation < best) {
                best = validation;
                best_iteration = m.iterations_done;
                evaluations_since_best = 0;
                best_model = m;
            } else {
                stop = ++evaluations_since_best >= loop.patience;
            }
        }
        if (on_iteration) {
            IterationReport r{static_cast<int>(m.iterations_done), fig.objective, fig.train_rmse, fig.test_rmse, sec0, gf0};
            r.validation_rmse = validation;
            r.eval_seconds = ev0;
            on_iteration(r, m);
        }
        if (evaluate && loop.tol > 0 && previous >= 0 && (previous - fig.objective) <= loop.tol * std::fabs(previous)) break;
        if (evaluate) previous = fig.objective;
        if (stop) break;
    }
    if (best_iteration > 0 && best_iteration < m.iterations_done) {
        // Back to the best iterate's factors; the history keeps every sweep that ran.
        History h = std::move(m.history);
        const std::int64_t ran = m.iterations_done;
        m = std::move(best_model);
        m.history = std::move(h);
        m.iterations_done = ran;
        m.best_iteration = best_iteration;
    } else if (best_iteration > 0) {
        m.best_iteration = best_iteration;
    }
}

}  // namespace distcf
