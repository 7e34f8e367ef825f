#include "distcf/model/als.hpp"
#include "distcf/util/threads.hpp"

#include <algorithm>
#include <cmath>

#include "distcf/error.hpp"

namespace distcf {

void AlsParams::validate() const {
    if (factors < 1 || factors > 1024) DISTCF_THROW(ParameterError, "factors: must be in [1, 1024]");
    if (!(lambda >= 0) || !std::isfinite(lambda)) DISTCF_THROW(ParameterError, "lambda: must be >= 0");
    if (formulation == AlsFormulation::Notebook && lambda <= 0)
        DISTCF_THROW(ParameterError, "lambda: the notebook formulation needs lambda > 0");
    if (iters < 1) DISTCF_THROW(ParameterError, "iters: must be >= 1 (0 would train nothing and still write a model)");
    if (!(tol >= 0)) DISTCF_THROW(ParameterError, "tol: must be >= 0");
    if (!(init_sd > 0)) DISTCF_THROW(ParameterError, "init_sd: must be > 0");
    if (row_solve == RowForm::Dual && !(lambda > 0)) DISTCF_THROW(ParameterError, "row_solve: the dual form needs lambda > 0");
    if (precision == Precision::Single && solver == RowSolverKind::Cholesky)
        DISTCF_THROW(ParameterError, "precision: single runs the conjugate-gradient solver (--solver cg or auto); cholesky is double only");
    if (solver != RowSolverKind::Cholesky && (cg_steps < 1 || cg_steps > 1000)) DISTCF_THROW(ParameterError, "cg_steps: must be in [1, 1000]");
    if (eval_every < 1) DISTCF_THROW(ParameterError, "eval_every: must be >= 1");
    if (!(validation_fraction >= 0 && validation_fraction < 0.5))
        DISTCF_THROW(ParameterError, "validation_fraction: must be in [0, 0.5)");
    if (early_stopping < 0) DISTCF_THROW(ParameterError, "early_stopping: must be >= 0 (0: off)");
    if (early_stopping > 0 && !(validation_fraction > 0))
        DISTCF_THROW(ParameterError, "early_stopping: needs validation_fraction > 0 (ratings to stop on)");
}

NormalEquations als_equations(const AlsParams& p, double mu) {
    NormalEquations eq;
    eq.factors = p.factors;
    eq.lambda = p.lambda;
    const bool biased = p.formulation == AlsFormulation::Biased;
    eq.weighted_lambda = biased;
    eq.learn_bias = biased;
    eq.offset = mu;
    return eq;
}

RowSolver als_solver(const AlsParams& p) {
    RowSolver how;
    how.form = p.row_solve;
    how.cg_steps = uses_cg(p.solver, p.factors, p.precision) ? p.cg_steps : 0;
    return how;
}

double als_sweep_flops(std::int64_t nnz, std::int64_t users, std::int64_t items, int k) {
    const double K = k, N = static_cast<double>(nnz);
    return 2.0 * N * K * (K + 1) + static_cast<double>(users + items) * K * K * K / 3.0 + 4.0 * N * K;
}

FactorModel init_als(const RatingBlocks& train, const AlsParams& p, bool factors) {
    p.validate();
    FactorModel m = FactorModel::for_data(train, "als");
    m.params = to_record(p);
    m.n_factors = p.factors;
    const bool biased = p.formulation == AlsFormulation::Biased;
    if (!biased) m.mu = 0.0;  // the notebook's ALS does not centre the ratings
    if (biased) {
        m.user_bias.assign(static_cast<std::size_t>(train.n_users), 0.0);
        m.item_bias.assign(static_cast<std::size_t>(train.n_items), 0.0);
    }
    if (!factors) return m;
    m.U = initial_factors(p.rng_seed, Side::Users, train.n_users, p.factors, p.init_sd);
    m.V = initial_factors(p.rng_seed, Side::Items, train.n_items, p.factors, p.init_sd);
    return m;
}

namespace {

double row_regularisation(const FactorModel& m, const AlsParams& p, const std::vector<double>& F,
                          const std::vector<double>& bias, std::int64_t row, std::int64_t n) {
    const int k = m.n_factors;
    double s = 0;
    for (int c = 0; c < k; ++c) s += F[static_cast<std::size_t>(row * k + c)] * F[static_cast<std::size_t>(row * k + c)];
    if (!bias.empty()) s += bias[row] * bias[row];
    const double reg = p.formulation == AlsFormulation::Biased ? p.lambda * static_cast<double>(n) : p.lambda;
    return reg * s;
}

// Explicit ALS for the shared loop: the same equations for both sides, exact solves.
class ExplicitAls final : public AlternatingProblem {
public:
    ExplicitAls(const AlsParams& p, double mu, const Csr& test, const Comm& comm)
        : p_(p), eq_(als_equations(p, mu)), have_test_(comm.sum<std::int64_t>(test.nnz()) > 0) {}
    NormalEquations equations(Side, const FactorModel&, const RatingBlocks&, const Comm&) override { return eq_; }
    RowSolver solver(Side, const FactorModel&) const override { return als_solver(p_); }
    SweepFigures after_sweep(FactorModel& m, const RatingBlocks& train, const Csr& test, const Comm& comm) override {
        ErrorSums fit;
        SweepFigures f;
        f.objective = als_objective(m, p_, train, comm, &fit);
        f.train_rmse = rmse(fit);
        f.test_rmse = have_test_ ? rmse(error_sums(m, test, train.users, comm)) : -1.0;
        return f;
    }
    double sweep_flops(const RatingBlocks& t, int k) const override {
        if (uses_cg(p_.solver, p_.factors, p_.precision))  // per side: gather and G^T t (2 n d), then 4 n d per step
            return 2.0 * static_cast<double>(t.nnz) * (k + 1) * (2.0 + 4.0 * p_.cg_steps);
        return als_sweep_flops(t.nnz, t.n_users, t.n_items, k);
    }
    Precision precision() const override { return p_.precision; }

private:
    AlsParams p_;
    NormalEquations eq_;
    bool have_test_;
};

}  // namespace

void als_fold_in(const FactorModel& m, const AlsParams& p, const Csr& rows, std::vector<double>& factors,
                 std::vector<double>& bias) {
    const NormalEquations eq = als_equations(p, m.mu);
    RowSolver exact = als_solver(p);  // a new row has no current factors to start CG from
    exact.cg_steps = 0;
    solve_rows(rows, m.V, eq.learn_bias ? m.item_bias : std::vector<double>{}, eq, exact, factors, bias);
    if (!eq.learn_bias) bias.assign(static_cast<std::size_t>(rows.rows()), 0.0);
}

double als_objective(const FactorModel& m, const AlsParams& p, const RatingBlocks& t, const Comm& comm,
                     ErrorSums* train_errors) {
    const auto n_rows = static_cast<std::size_t>(t.by_user.rows());
    std::vector<double> users(n_rows, 0.0), items(static_cast<std::size_t>(t.by_item.rows()), 0.0), sq(n_rows, 0.0),
        ab(n_rows, 0.0);
    // The items' regularisation in the same region as the users' errors: serial, it was time
    // between regions in which the other thread waits.
#pragma omp parallel if (worth_threads(static_cast<double>(t.by_user.nnz()) * (m.n_factors + 4)))
    {
#pragma omp for schedule(dynamic, 64) nowait
    for (std::int64_t r = 0; r < t.by_user.rows(); ++r) {
        const std::int64_t u = t.by_user.row0 + r;
        double s = 0, c2 = 0, c1 = 0;
        for (auto q = t.by_user.ptr[r]; q < t.by_user.ptr[r + 1]; ++q) {
            const double score = m.score(u, t.by_user.col[q]);
            const double e = t.by_user.val[q] - score;
            const double clipped = std::clamp(score, m.rating_min, m.rating_max) - t.by_user.val[q];
            s += e * e;
            c2 += clipped * clipped;
            c1 += std::fabs(clipped);
        }
        users[r] = s + row_regularisation(m, p, m.U, m.user_bias, u, t.by_user.row_nnz(r));
        sq[r] = c2;
        ab[r] = c1;
    }
#pragma omp for schedule(static)
    for (std::int64_t r = 0; r < t.by_item.rows(); ++r)
        items[r] = row_regularisation(m, p, m.V, m.item_bias, t.by_item.row0 + r, t.by_item.row_nnz(r));
    }
    if (train_errors) {
        train_errors->sse = ordered_sum(sq, t.users, comm);
        train_errors->sae = ordered_sum(ab, t.users, comm);
        train_errors->n = t.nnz;
    }
    return ordered_sum(users, t.users, comm) + ordered_sum(items, t.items, comm);
}

void run_als(FactorModel& m, const RatingBlocks& train, const Csr& test, const AlsParams& p, const Comm& comm,
             const IterationCallback& on_iteration, const Csr* validation, const ExchangeRequest& exchange) {
    p.validate();
    ExplicitAls problem(p, m.mu, test, comm);
    LoopControl loop;
    loop.exchange = exchange.options;
    loop.tell_exchange = exchange.tell;
    loop.whole_result = exchange.whole_result;
    loop.initial_row = [&p](Side side, std::int64_t row, double* out) { initial_factor_row(p.rng_seed, side, row, p.factors, p.init_sd, out); };
    loop.iters = p.iters;
    loop.tol = p.tol;
    loop.eval_every = p.eval_every;
    loop.validation = validation;
    loop.patience = validation ? p.early_stopping : 0;
    run_alternating(m, train, test, problem, loop, comm, on_iteration);
}

}  // namespace distcf
