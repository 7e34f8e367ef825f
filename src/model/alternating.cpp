#include "distcf/model/alternating.hpp"

#include <limits>
#include <memory>
#include <span>
#include "distcf/util/threads.hpp"

#include <algorithm>
#include <cmath>

#include "distcf/data/rng.hpp"
#include "distcf/error.hpp"
#include "distcf/model/recommend.hpp"

namespace distcf {

void initial_factor_row(std::uint64_t rng_seed, Side side, std::int64_t row, int k, double sd, double* out) {
    RowRng g(rng_seed, side == Side::Items ? Stream::InitItem : Stream::InitUser, static_cast<std::uint64_t>(row));
    for (int c = 0; c < k; ++c) out[c] = g.normal(0.0, sd);
}

std::vector<double> initial_factors(std::uint64_t rng_seed, Side side, std::int64_t rows, int k, double sd) {
    std::vector<double> f(static_cast<std::size_t>(rows * k));
#pragma omp parallel for schedule(static) if (worth_threads(static_cast<double>(rows) * k * 30))
    for (std::int64_t r = 0; r < rows; ++r) initial_factor_row(rng_seed, side, r, k, sd, f.data() + r * k);
    return f;
}

namespace {

// Solves this rank's rows of one side against the other side's factors, in place (conjugate
// gradient starts from the rows' current factors), then shares them. The rows' own block sits at
// rows.row0 of `all` (the global index under allgather, the local one under a targeted exchange).
// T: the sweeps' precision.
template <class T>
void half_step(Side side, const Csr& rows, const BlockPartition& part, const std::vector<T>& other,
               const std::vector<T>& other_bias, const NormalEquations& eq, const RowSolver& how,
               FactorExchange& exchange, const Comm& comm, std::vector<T>& all, std::vector<T>& all_bias) {
    const auto k = static_cast<std::size_t>(eq.factors), r0 = static_cast<std::size_t>(rows.row0),
               n = static_cast<std::size_t>(rows.rows());
    solve_rows(rows, other, other_bias, eq, how, std::span<T>(all).subspan(r0 * k, n * k),
               eq.learn_bias ? std::span<T>(all_bias).subspan(r0, n) : std::span<T>());
    exchange.share(side, all, part, static_cast<std::int64_t>(k), comm);
    if (eq.learn_bias) exchange.share(side, all_bias, part, 1, comm);
}

// Single precision's working copies of the model's factors and biases (held rows, the model's
// layout). The model keeps the same values as doubles (float -> double is exact), refreshed after
// each half-step, so equations(), evaluation and saving read it as in double precision.
struct SingleFactors {
    std::vector<float> U, V, user_bias, item_bias;

    static std::vector<float> narrowed(std::vector<double>& d) {
        std::vector<float> f(d.size());
#pragma omp parallel for schedule(static) if (worth_threads(static_cast<double>(d.size())))
        for (std::size_t e = 0; e < d.size(); ++e) {
            f[e] = static_cast<float>(d[e]);
            d[e] = f[e];  // the model starts from the values the sweeps use
        }
        return f;
    }
    static void widen(const std::vector<float>& f, std::vector<double>& d) {
#pragma omp parallel for schedule(static) if (worth_threads(static_cast<double>(f.size())))
        for (std::size_t e = 0; e < f.size(); ++e) d[e] = f[e];
    }
    explicit SingleFactors(FactorModel& m)
        : U(narrowed(m.U)), V(narrowed(m.V)), user_bias(narrowed(m.user_bias)), item_bias(narrowed(m.item_bias)) {}
};

// The sweeps, in whichever layout `m` and `train` are in; `whole(m)` gives the model as a file
// holds it.
void sweeps(FactorModel& m, const RatingBlocks& train, const Csr& test, AlternatingProblem& problem, const LoopControl& loop,
            const Csr* validation, FactorExchange& exchange, const Comm& comm, const IterationCallback& on_iteration,
            const std::function<FactorModel(const FactorModel&)>& whole) {
    const double flops = problem.sweep_flops(train, m.n_factors);
    // What the exchanges deliver per sweep is fixed by the plan: the most any rank receives.
    const std::int64_t width = m.n_factors + (m.user_bias.empty() ? 0 : 1);
    const bool single = problem.precision() == Precision::Single;
    const double received = static_cast<double>(comm.max(
        (exchange.rows_received(Side::Users, train.users, comm) + exchange.rows_received(Side::Items, train.items, comm)) * width *
        static_cast<std::int64_t>(single ? sizeof(float) : sizeof(double))));
    std::unique_ptr<SingleFactors> f32;
    if (single) f32 = std::make_unique<SingleFactors>(m);
    double previous = -1.0;  // the last measured objective
    for (auto it = m.history.objective.rbegin(); it != m.history.objective.rend() && previous < 0; ++it) previous = *it;
    // Ranked validation: the items each user trained on stay out of its list (made once).
    SeenItems trained;
    if (validation && loop.validation_top > 0) {
        trained.row0 = train.by_user.row0;
        trained.ptr = train.by_user.ptr;
        trained.items = train.by_user.col;
    }
    // Early stopping: the best iterate so far by validation RMSE (by -NDCG, ranked), kept whole to
    // return to.
    double best = std::numeric_limits<double>::infinity();
    std::int64_t best_iteration = -1, evaluations_since_best = 0;
    FactorModel best_model;
    while (m.iterations_done < loop.iters) {
        comm.barrier();
        const double t0 = Comm::wtime();
        if (f32) {  // each side's model copy refreshed before the next equations() reads it
            SingleFactors& f = *f32;
            half_step(Side::Users, train.by_user, train.users, f.V, f.item_bias, problem.equations(Side::Users, m, train, comm),
                      problem.solver(Side::Users, m), exchange, comm, f.U, f.user_bias);
            SingleFactors::widen(f.U, m.U);
            SingleFactors::widen(f.user_bias, m.user_bias);
            half_step(Side::Items, train.by_item, train.items, f.U, f.user_bias, problem.equations(Side::Items, m, train, comm),
                      problem.solver(Side::Items, m), exchange, comm, f.V, f.item_bias);
            SingleFactors::widen(f.V, m.V);
            SingleFactors::widen(f.item_bias, m.item_bias);
        } else {
            half_step(Side::Users, train.by_user, train.users, m.V, m.item_bias, problem.equations(Side::Users, m, train, comm),
                      problem.solver(Side::Users, m), exchange, comm, m.U, m.user_bias);
            half_step(Side::Items, train.by_item, train.items, m.U, m.user_bias, problem.equations(Side::Items, m, train, comm),
                      problem.solver(Side::Items, m), exchange, comm, m.V, m.item_bias);
        }
        problem.record_sweep(m, train, comm);  // part of the sweep: a sampler keeps its sample
        comm.barrier();
        const double seconds = Comm::wtime() - t0;
        const std::int64_t done = m.iterations_done + 1;
        const bool evaluate = loop.eval_every <= 1 || done % loop.eval_every == 0 || done == loop.iters;
        SweepFigures fig{-1.0, -1.0, -1.0};
        double validation_rmse = -1.0, validation_ndcg = -1.0;
        if (evaluate) {
            fig = problem.after_sweep(m, train, test, comm);
            if (validation && loop.validation_top > 0) {
                const RankingMetrics r = ranking_metrics(m, trained, *validation, loop.validation_top, nullptr, train.users, comm, nullptr, false);
                if (r.users > 0) validation_ndcg = r.ndcg;  // none held out: no measure, rather than a 0 to stop on
            } else if (validation)
                validation_rmse = rmse(error_sums(m, *validation, train.users, comm));
        }
        comm.barrier();
        const double eval_seconds = Comm::wtime() - t0 - seconds;
        const double gflops = flops > 0 && seconds > 0 ? flops / seconds / 1e9 : 0.0;
        // The timing is rank 0's, shared, so that every rank writes the same history.
        const double sec0 = comm.bcast_value(seconds), gf0 = comm.bcast_value(gflops), ev0 = comm.bcast_value(eval_seconds);
        m.history.push(fig.objective, fig.train_rmse, fig.test_rmse, sec0, gf0);
        ++m.iterations_done;
        bool stop = false;
        const bool measured = validation_rmse >= 0 || validation_ndcg >= 0;
        if (measured && loop.patience > 0) {
            const double loss = validation_ndcg >= 0 ? -validation_ndcg : validation_rmse;  // lower is better
            if (loss < best) {
                best = loss;
                best_iteration = m.iterations_done;
                evaluations_since_best = 0;
                best_model = m;
            } else {
                stop = ++evaluations_since_best >= loop.patience;
            }
        }
        if (on_iteration) {
            IterationReport r{static_cast<int>(m.iterations_done), fig.objective, fig.train_rmse, fig.test_rmse, sec0, gf0};
            r.validation_rmse = validation_rmse;
            r.validation_ndcg = validation_ndcg;
            r.eval_seconds = ev0;
            r.received_bytes = received;
            on_iteration(r, [&] { return whole(m); });
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

// ---- the targeted layout: rows in the plans' order, CSR columns and row0 local ----------------

// Initial factors of rows `held` (null: every row of the side) when the model came without them.
std::vector<double> initial_rows(const LoopControl& loop, Side side, std::int64_t n, const std::vector<std::int64_t>* held, int k) {
    if (!loop.initial_row) DISTCF_THROW(InternalError, "run_alternating: a model without factors and no initial rows");
    const std::int64_t rows = held ? static_cast<std::int64_t>(held->size()) : n;
    std::vector<double> f(static_cast<std::size_t>(rows * k));
#pragma omp parallel for schedule(static) if (worth_threads(static_cast<double>(rows) * k * 30))
    for (std::int64_t l = 0; l < rows; ++l) loop.initial_row(side, held ? (*held)[static_cast<std::size_t>(l)] : l, f.data() + l * k);
    return f;
}

// Rows `held` (global indices) of a row-major matrix of `width` columns.
std::vector<double> pick_rows(const std::vector<double>& all, const std::vector<std::int64_t>& held, std::int64_t width) {
    std::vector<double> out(static_cast<std::size_t>(static_cast<std::int64_t>(held.size()) * width));
    if (all.empty()) return {};
#pragma omp parallel for schedule(static) if (worth_threads(static_cast<double>(out.size())))
    for (std::int64_t l = 0; l < static_cast<std::int64_t>(held.size()); ++l)
        std::copy_n(all.begin() + held[static_cast<std::size_t>(l)] * width, width, out.begin() + l * width);
    return out;
}

// Global row -> local index of a plan's held rows (-1: not held), while the CSRs are copied.
std::vector<std::int32_t> local_index(const ExchangePlan& plan, std::int64_t n_rows) {
    std::vector<std::int32_t> local(static_cast<std::size_t>(n_rows), -1);
    for (std::int64_t l = 0; l < plan.held(); ++l) local[static_cast<std::size_t>(plan.held_rows()[static_cast<std::size_t>(l)])] = static_cast<std::int32_t>(l);
    return local;
}

// The CSR with its columns as local indices (`local`: local_index of the columns' plan) and its
// rows at local row0.
Csr localized(const Csr& c, std::int64_t row0, const std::vector<std::int32_t>& local) {
    Csr out;
    out.row0 = row0;
    out.ptr = c.ptr;
    out.val = c.val;
    out.col.resize(c.col.size());
    for (std::size_t q = 0; q < c.col.size(); ++q) {
        const std::int32_t l = local[static_cast<std::size_t>(c.col[q])];
        if (l < 0) DISTCF_THROW(InternalError, "targeted exchange: a column is read but not held");
        out.col[q] = l;
    }
    return out;
}

// Every row of one side from each rank's own block of the local layout.
std::vector<double> gathered(const std::vector<double>& local, const ExchangePlan& plan, const BlockPartition& part,
                             std::int64_t width, const Comm& comm) {
    if (local.empty()) return {};
    const int me = comm.rank();
    std::vector<double> all(static_cast<std::size_t>(part.total() * width));
    std::copy_n(local.begin() + plan.own_offset() * width, part.size(me) * width, all.begin() + part.begin(me) * width);
    comm.allgather_blocks(all.data(), part, width);
    return all;
}

// This rank's own block of one side, from the local layout.
std::vector<double> own_block(const std::vector<double>& local, const ExchangePlan& plan, const BlockPartition& part,
                              std::int64_t width, const Comm& comm) {
    if (local.empty()) return {};
    const auto from = local.begin() + plan.own_offset() * width;
    return std::vector<double>(from, from + part.size(comm.rank()) * width);
}

// The model as a file holds it, from the local layout's model (taken by value: the final call
// moves it in): every row on every rank, or each rank's own blocks.
FactorModel saved_model(FactorModel m, bool whole, const TargetedExchange& x, const RatingBlocks& train, const Comm& comm) {
    const ExchangePlan &pu = *x.plan(Side::Users), &pi = *x.plan(Side::Items);
    const auto side = whole ? gathered : own_block;
    m.U = side(m.U, pu, train.users, m.n_factors, comm);
    m.V = side(m.V, pi, train.items, m.n_factors, comm);
    m.user_bias = side(m.user_bias, pu, train.users, 1, comm);
    m.item_bias = side(m.item_bias, pi, train.items, 1, comm);
    m.rows = whole ? HeldRows{} : HeldRows{train.users.begin(comm.rank()), train.items.begin(comm.rank())};
    return m;
}

void run_targeted(FactorModel& m, const RatingBlocks& train, const Csr& test, AlternatingProblem& problem, const LoopControl& loop,
                  TargetedExchange& x, const Comm& comm, const IterationCallback& on_iteration) {
    const ExchangePlan &pu = *x.plan(Side::Users), &pi = *x.plan(Side::Items);
    const int k = m.n_factors;
    // The model's held rows; its whole arrays are let go (until the end, if it must be whole).
    if (!m.U.empty() && !holds_every_row(m)) DISTCF_THROW(InternalError, "run_alternating: the starting model holds only some rows");
    FactorModel local = std::move(m);
    const bool fresh = local.U.empty() && k > 0;  // initial factors made here, held rows only
    local.U = fresh ? initial_rows(loop, Side::Users, 0, &pu.held_rows(), k) : pick_rows(local.U, pu.held_rows(), k);
    local.V = fresh ? initial_rows(loop, Side::Items, 0, &pi.held_rows(), k) : pick_rows(local.V, pi.held_rows(), k);
    local.user_bias = pick_rows(local.user_bias, pu.held_rows(), 1);
    local.item_bias = pick_rows(local.item_bias, pi.held_rows(), 1);
    {  // the data in local indices (own blocks at the plans' own offsets), gone before the end
        RatingBlocks t;
        t.n_users = train.n_users;
        t.n_items = train.n_items;
        t.nnz = train.nnz;
        t.mean = train.mean;
        t.rating_min = train.rating_min;
        t.rating_max = train.rating_max;
        t.users = train.users;
        t.items = train.items;
        t.by_item = localized(train.by_item, pi.own_offset(), local_index(pu, train.n_users));
        const std::vector<std::int32_t> items = local_index(pi, train.n_items);  // the user rows' columns
        t.by_user = localized(train.by_user, pu.own_offset(), items);
        const Csr local_test = localized(test, pu.own_offset(), items);
        const Csr local_validation = loop.validation ? localized(*loop.validation, pu.own_offset(), items) : Csr{};
        sweeps(local, t, local_test, problem, loop, loop.validation ? &local_validation : nullptr, x, comm, on_iteration,
               [&](const FactorModel& l) { return saved_model(l, loop.whole_result, x, train, comm); });
    }
    x.release_buffers();
    m = saved_model(std::move(local), loop.whole_result, x, train, comm);
}

}  // namespace

void run_alternating(FactorModel& m, const RatingBlocks& train, const Csr& test, AlternatingProblem& problem,
                     const LoopControl& loop, const Comm& comm, const IterationCallback& on_iteration) {
    ExchangeOptions asked = loop.exchange;
    if (!problem.supports_local_layout()) {
        if (asked.kind == ExchangeKind::Targeted)
            DISTCF_THROW(ParameterError, "exchange: this method keeps whole-model arrays (a sampler's kept samples); use allgather");
        asked.kind = ExchangeKind::Allgather;
    }
    if (loop.validation && loop.validation_top > 0) {
        if (asked.kind == ExchangeKind::Targeted)
            DISTCF_THROW(ParameterError, "exchange: ranking the held-out items scores every item on each rank; use allgather");
        asked.kind = ExchangeKind::Allgather;
    }
    ExchangeReads reads;
    reads.scored = {&test, loop.validation};
    reads.gram = problem.forms_gram();
    std::string said;
    const std::int64_t width = m.n_factors + (m.user_bias.empty() ? 0 : 1);
    std::unique_ptr<FactorExchange> exchange = make_exchange(asked, train, reads, width, comm, &said);
    if (loop.tell_exchange) loop.tell_exchange(said);
    if (auto* targeted = dynamic_cast<TargetedExchange*>(exchange.get())) {
        run_targeted(m, train, test, problem, loop, *targeted, comm, on_iteration);
        return;
    }
    if (m.U.empty() && m.n_factors > 0) {
        m.U = initial_rows(loop, Side::Users, train.n_users, nullptr, m.n_factors);
        m.V = initial_rows(loop, Side::Items, train.n_items, nullptr, m.n_factors);
    }
    sweeps(m, train, test, problem, loop, loop.validation, *exchange, comm, on_iteration, [](const FactorModel& w) { return w; });
}

}  // namespace distcf
