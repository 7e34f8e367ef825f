#include "distcf/model/ials.hpp"
#include "distcf/util/threads.hpp"

#include <cmath>
#include <string>

#include "distcf/data/distribute.hpp"
#include "distcf/data/rng.hpp"
#include "distcf/error.hpp"

namespace distcf {

void IalsParams::validate() const {
    if (factors < 1 || factors > 1024) DISTCF_THROW(ParameterError, "factors: must be in [1, 1024]");
    if (!(lambda > 0)) DISTCF_THROW(ParameterError, "lambda: must be > 0 for implicit ALS");
    if (iters < 1) DISTCF_THROW(ParameterError, "iters: must be >= 1 (0 would train nothing and still write a model)");
    if (!(alpha >= 0)) DISTCF_THROW(ParameterError, "alpha: must be >= 0");
    if (!(epsilon > 0)) DISTCF_THROW(ParameterError, "epsilon: must be > 0");
    if (precision == Precision::Single && solver == RowSolverKind::Cholesky)
        DISTCF_THROW(ParameterError, "precision: single runs the conjugate-gradient solver (--solver cg or auto); cholesky is double only");
    if (cg_steps < 1) DISTCF_THROW(ParameterError, "cg_steps: must be >= 1");
    if (eval_every < 1) DISTCF_THROW(ParameterError, "eval_every: must be >= 1");
    if (!(init_sd > 0)) DISTCF_THROW(ParameterError, "init_sd: must be > 0");
    if (!(validation_fraction >= 0 && validation_fraction < 0.5))
        DISTCF_THROW(ParameterError, "validation_fraction: must be in [0, 0.5)");
    if (early_stopping < 0) DISTCF_THROW(ParameterError, "early_stopping: must be >= 0 (0: off)");
    if (early_stopping > 0 && !(validation_fraction > 0))
        DISTCF_THROW(ParameterError, "early_stopping: needs validation_fraction > 0 (interactions to stop on)");
    if (validation_users < 1) DISTCF_THROW(ParameterError, "validation_users: must be >= 1");
}

NormalEquations ials_equations(const IalsParams& p, const std::vector<double>& gram) {
    NormalEquations eq;
    eq.factors = p.factors;
    eq.lambda = p.lambda;
    eq.weighted_lambda = false;
    eq.implicit = ImplicitTerms{p.confidence, p.alpha, p.epsilon, &gram};
    return eq;
}

RowSolver ials_solver(const IalsParams& p) {
    RowSolver how;
    how.cg_steps = uses_cg(p.solver, p.factors, p.precision) ? p.cg_steps : 0;
    return how;
}

RatingBlocks as_interactions(const RatingBlocks& r, double threshold, const Comm& comm) {
    const RatingSlice all = slice_of(r.by_user);
    RatingSlice kept;
    for (std::int64_t e = 0; e < all.size(); ++e)
        if (all.value[e] >= threshold) kept.push(all.user[e], all.item[e], 1.0);
    return distribute(std::move(kept), r.n_users, r.n_items, 0.0, 1.0, comm);
}

FactorModel init_ials(const RatingBlocks& train, const IalsParams& p, bool factors) {
    p.validate();
    FactorModel m = FactorModel::for_data(train, "ials");
    m.params = to_record(p);
    m.mu = 0.0;
    // It predicts preferences (1: interacted, 0: not), not the counts it was given: clipping to
    // the count range would show every score as its lower end.
    m.global_mean = 0.0;
    m.rating_min = 0.0;
    m.rating_max = 1.0;
    m.n_factors = p.factors;
    if (!factors) return m;
    m.U = initial_factors(p.rng_seed, Side::Users, train.n_users, p.factors, p.init_sd);
    m.V = initial_factors(p.rng_seed, Side::Items, train.n_items, p.factors, p.init_sd);
    return m;
}

namespace {

double squared_norm(const std::vector<double>& f, std::int64_t row, int k) {
    double s = 0;
    for (int c = 0; c < k; ++c) s += f[static_cast<std::size_t>(row * k + c)] * f[static_cast<std::size_t>(row * k + c)];
    return s;
}

// Implicit ALS for the shared loop: each half-step's equations carry the other side's Y^T Y.
class ImplicitAls final : public AlternatingProblem {
public:
    explicit ImplicitAls(const IalsParams& p) : p_(p) {}
    NormalEquations equations(Side side, const FactorModel& m, const RatingBlocks& t, const Comm& comm) override {
        // The other side's Y^T Y from each rank's own rows (whichever exchange holds the rest).
        gram_ = side == Side::Users ? owned_gram(m.V.data() + t.by_item.row0 * p_.factors, t.items, p_.factors, comm)
                                    : owned_gram(m.U.data() + t.by_user.row0 * p_.factors, t.users, p_.factors, comm);
        return ials_equations(p_, gram_);
    }
    bool forms_gram() const override { return true; }
    RowSolver solver(Side, const FactorModel&) const override { return ials_solver(p_); }
    SweepFigures after_sweep(FactorModel& m, const RatingBlocks& train, const Csr&, const Comm& comm) override {
        SweepFigures f;
        f.objective = ials_loss(m, train, p_, comm);
        return f;
    }
    Precision precision() const override { return p_.precision; }
    double sweep_flops(const RatingBlocks& t, int factors) const override {
        if (uses_cg(p_.solver, p_.factors, p_.precision)) return 0.0;  // the CG path does other work
        const double k = factors, nnz = static_cast<double>(t.nnz), rows = static_cast<double>(t.n_users + t.n_items);
        // Gram of the observed rows, Y^T Y of each side, Cholesky.
        return 2.0 * nnz * k * (k + 1) + rows * k * k * (k / 3.0 + 1.0);
    }

private:
    IalsParams p_;
    std::vector<double> gram_;
};

}  // namespace

double ials_loss(const FactorModel& m, const RatingBlocks& t, const IalsParams& p, const Comm& comm) {
    const int k = m.n_factors;
    const std::vector<double> gv = owned_gram(m.V.data() + t.by_item.row0 * k, t.items, k, comm);
    const ImplicitTerms terms = *ials_equations(p, gv).implicit;
    std::vector<double> users(static_cast<std::size_t>(t.by_user.rows()), 0.0), items(static_cast<std::size_t>(t.by_item.rows()), 0.0);
#pragma omp parallel for schedule(dynamic, 64) if (worth_threads((static_cast<double>(t.by_user.rows()) * k + static_cast<double>(t.by_user.nnz())) * k))
    for (std::int64_t r = 0; r < t.by_user.rows(); ++r) {
        const std::int64_t u = t.by_user.row0 + r;
        const double* x = m.U.data() + u * k;
        double all_pairs = 0;  // x^T (Y^T Y) x: every pair as if unobserved (c = 1, p = 0)
        for (int i = 0; i < k; ++i) {
            double gi = 0;
            for (int j = 0; j < k; ++j) gi += gv[static_cast<std::size_t>(j) * k + i] * x[j];
            all_pairs += x[i] * gi;
        }
        double observed = 0;  // correct the observed pairs to c (1 - s)^2
        for (auto q = t.by_user.ptr[r]; q < t.by_user.ptr[r + 1]; ++q) {
            const double s = m.score(u, t.by_user.col[q]), c = confidence(terms, t.by_user.val[q]);
            observed += c * (1 - s) * (1 - s) - s * s;
        }
        users[r] = all_pairs + observed + p.lambda * squared_norm(m.U, u, k);
    }
    for (std::int64_t r = 0; r < t.by_item.rows(); ++r) items[r] = p.lambda * squared_norm(m.V, t.by_item.row0 + r, k);
    return ordered_sum(users, t.users, comm) + ordered_sum(items, t.items, comm);
}

void run_ials(FactorModel& m, const RatingBlocks& train, const IalsParams& p, const Comm& comm,
              const IterationCallback& on_iteration, const ExchangeRequest& exchange, const Csr* validation) {
    p.validate();
    ImplicitAls problem(p);
    LoopControl loop;
    loop.iters = p.iters;
    loop.eval_every = p.eval_every;
    loop.exchange = exchange.options;
    loop.tell_exchange = exchange.tell;
    loop.whole_result = exchange.whole_result;
    loop.initial_row = [&p](Side side, std::int64_t row, double* out) { initial_factor_row(p.rng_seed, side, row, p.factors, p.init_sd, out); };
    Csr ranked;
    if (validation) {
        ranked = sample_validation_users(*validation, p.validation_users, p.rng_seed, comm);
        loop.validation = &ranked;
        loop.validation_top = kIalsValidationTop;
        loop.patience = p.early_stopping;
    }
    run_alternating(m, train, Csr{}, problem, loop, comm, on_iteration);
}

Csr sample_validation_users(const Csr& held, std::int64_t about, std::uint64_t seed, const Comm& comm) {
    std::int64_t with = 0;
    for (std::int64_t r = 0; r < held.rows(); ++r) with += held.row_nnz(r) > 0 ? 1 : 0;
    with = comm.sum(with);
    if (about >= with) return held;
    // A user is in the sample when its key falls below this share of 2^64.
    const auto cut = static_cast<long double>(about) / static_cast<long double>(with) * 18446744073709551616.0L;
    Csr out;
    out.row0 = held.row0;
    out.ptr.assign(1, 0);
    for (std::int64_t r = 0; r < held.rows(); ++r) {
        const auto u = static_cast<std::uint64_t>(held.row0 + r);
        if (static_cast<long double>(random_word(seed, Stream::ValidationSample, u, 0)) < cut)
            for (auto q = held.ptr[r]; q < held.ptr[r + 1]; ++q) {
                out.col.push_back(held.col[q]);
                out.val.push_back(held.val[q]);
            }
        out.ptr.push_back(static_cast<std::int64_t>(out.col.size()));
    }
    return out;
}

void ials_fold_in(const FactorModel& m, const IalsParams& p, const Csr& rows, std::vector<double>& factors,
                  std::vector<double>& bias) {
    const std::vector<double> gram = replicated_gram(m.V, m.n_items, m.n_factors, Comm::self());
    RowSolver exact;  // folded-in rows have no current factors to warm-start from
    solve_rows(rows, m.V, {}, ials_equations(p, gram), exact, factors, bias);
    bias.assign(static_cast<std::size_t>(rows.rows()), 0.0);
}

}  // namespace distcf
