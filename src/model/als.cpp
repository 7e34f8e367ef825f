#include "distcf/model/als.hpp"

#include <algorithm>

#include <mpi.h>

#include <cmath>

#include "distcf/data/rng.hpp"
#include "distcf/error.hpp"
#include "distcf/la/row_solve.hpp"

namespace distcf {

void AlsParams::validate() const {
    if (formulation != "seed" && formulation != "biased")
        DISTCF_THROW(InputError, "formulation: must be seed or biased, got '" + formulation + "'");
    if (rank < 1 || rank > 1024) DISTCF_THROW(InputError, "rank: must be in [1, 1024]");
    if (!(lambda >= 0) || !std::isfinite(lambda)) DISTCF_THROW(InputError, "lambda: must be >= 0");
    if (formulation == "seed" && lambda <= 0) DISTCF_THROW(InputError, "lambda: the seed formulation needs lambda > 0");
    if (iters < 0) DISTCF_THROW(InputError, "iters: must be >= 0");
    if (!(tol >= 0)) DISTCF_THROW(InputError, "tol: must be >= 0");
    if (!(init_sd > 0)) DISTCF_THROW(InputError, "init-sd: must be > 0");
    if (row_solve != "auto" && row_solve != "primal" && row_solve != "dual")
        DISTCF_THROW(InputError, "row-solve: must be auto, primal or dual, got '" + row_solve + "'");
    if (row_solve == "dual" && !(lambda > 0)) DISTCF_THROW(InputError, "row-solve: the dual form needs lambda > 0");
}

int row_solve_code(const std::string& row_solve) { return row_solve == "primal" ? 1 : row_solve == "dual" ? 2 : 0; }

double als_sweep_flops(std::int64_t nnz, std::int64_t users, std::int64_t items, int k) {
    const double K = k, N = static_cast<double>(nnz);
    return 2.0 * N * K * (K + 1) + static_cast<double>(users + items) * K * K * K / 3.0 + 4.0 * N * K;
}

std::vector<double> initial_factors(std::uint64_t seed, bool items, std::int64_t rows, int k, double sd) {
    std::vector<double> f(static_cast<std::size_t>(rows * k));
#pragma omp parallel for schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) {
        RowRng g(seed, items ? Stream::InitItem : Stream::InitUser, static_cast<std::uint64_t>(r));
        for (int c = 0; c < k; ++c) f[static_cast<std::size_t>(r * k + c)] = g.normal(0.0, sd);
    }
    return f;
}

FactorModel init_als(const RatingBlocks& train, const AlsParams& p) {
    p.validate();
    FactorModel m = FactorModel::for_data(train, "als", p.formulation);
    m.rank = p.rank;
    m.lambda = p.lambda;
    const bool biased = p.formulation == "biased";
    if (!biased) m.mu = 0.0;  // the notebook's ALS does not centre the ratings
    if (biased) {
        m.user_bias.assign(static_cast<std::size_t>(train.n_users), 0.0);
        m.item_bias.assign(static_cast<std::size_t>(train.n_items), 0.0);
    }
    m.U = initial_factors(p.seed, false, train.n_users, p.rank, p.init_sd);
    m.V = initial_factors(p.seed, true, train.n_items, p.rank, p.init_sd);
    m.params = {{"iters", double(p.iters)}, {"tol", p.tol}, {"seed", double(p.seed)}, {"init_sd", p.init_sd},
                {"row_solve", double(row_solve_code(p.row_solve))}};
    return m;
}

namespace {

RowSolveSpec spec_of(const FactorModel& m) {
    RowSolveSpec s;
    s.rank = m.rank;
    s.lambda = m.lambda;
    const bool biased = m.formulation == "biased";
    s.weighted_lambda = biased;
    s.learn_bias = biased;
    s.offset = m.mu;
    return s;
}

// Solves my rows of one side and allgathers that side's factors (and biases) into `mine`/`bias`.
// The solved block's buffers, kept across iterations: a fresh one each half-step cost a page
// fault per 4 KiB of factors.
struct SolvedBlock {
    std::vector<double> f, b;
};

void half_step(const Csr& rows, const BlockPartition& part, const std::vector<double>& other,
               const std::vector<double>& other_bias, const RowSolveSpec& spec, const Comm& comm,
               std::vector<double>& all, std::vector<double>& all_bias, SolvedBlock& work) {
    auto& [f, b] = work;
    solve_rows(rows, other, other_bias, spec, f, b);
    const std::int64_t k = spec.rank, r0 = part.begin(comm.rank());
    std::copy(f.begin(), f.end(), all.begin() + r0 * k);
    comm.allgather_blocks(all.data(), part, k);
    if (spec.learn_bias) {
        std::copy(b.begin(), b.end(), all_bias.begin() + r0);
        comm.allgather_blocks(all_bias.data(), part, 1);
    }
}

double row_regularisation(const FactorModel& m, const std::vector<double>& F, const std::vector<double>& bias,
                          std::int64_t row, std::int64_t n) {
    double s = 0;
    for (int c = 0; c < m.rank; ++c) s += F[static_cast<std::size_t>(row * m.rank + c)] * F[static_cast<std::size_t>(row * m.rank + c)];
    if (!bias.empty()) s += bias[row] * bias[row];
    const double reg = m.formulation == "biased" ? m.lambda * static_cast<double>(n) : m.lambda;
    return reg * s;
}

}  // namespace

void fold_in_users(const FactorModel& m, const Csr& rows, std::vector<double>& factors, std::vector<double>& bias) {
    if (m.method != "als" && m.method != "ials")
        DISTCF_THROW(InputError, "fold-in: needs an ALS or implicit-ALS model, this one is '" + m.method + "'");
    RowSolveSpec s = spec_of(m);
    std::vector<double> gram;
    if (m.method == "ials") {
        s.weighted_lambda = s.learn_bias = false;
        s.offset = 0;
        s.implicit = true;
        s.log_confidence = m.formulation == "log";
        for (const auto& [name, v] : m.params) {
            if (name == "alpha") s.alpha = v;
            if (name == "epsilon") s.epsilon = v;
        }
        gram = replicated_gram(m.V, m.n_items, m.rank, Comm::self());
        s.gram = &gram;
    }
    solve_rows(rows, m.V, s.learn_bias ? m.item_bias : std::vector<double>{}, s, factors, bias);
    if (!s.learn_bias) bias.assign(static_cast<std::size_t>(rows.rows()), 0.0);
}

double als_objective(const FactorModel& m, const RatingBlocks& t, const Comm& comm, ErrorSums* train_errors) {
    const auto n_rows = static_cast<std::size_t>(t.by_user.rows());
    std::vector<double> users(n_rows, 0.0), items(static_cast<std::size_t>(t.by_item.rows()), 0.0), sq(n_rows, 0.0),
        ab(n_rows, 0.0);
#pragma omp parallel for schedule(dynamic, 64)
    for (std::int64_t r = 0; r < t.by_user.rows(); ++r) {
        const std::int64_t u = t.by_user.row0 + r;
        double s = 0, c2 = 0, c1 = 0;
        for (auto p = t.by_user.ptr[r]; p < t.by_user.ptr[r + 1]; ++p) {
            const double score = m.score(u, t.by_user.col[p]);
            const double e = t.by_user.val[p] - score;
            const double clipped = std::clamp(score, m.rating_min, m.rating_max) - t.by_user.val[p];
            s += e * e;
            c2 += clipped * clipped;
            c1 += std::fabs(clipped);
        }
        users[r] = s + row_regularisation(m, m.U, m.user_bias, u, t.by_user.row_nnz(r));
        sq[r] = c2;
        ab[r] = c1;
    }
    for (std::int64_t r = 0; r < t.by_item.rows(); ++r)
        items[r] = row_regularisation(m, m.V, m.item_bias, t.by_item.row0 + r, t.by_item.row_nnz(r));
    if (train_errors) {
        train_errors->sse = ordered_sum(sq, t.users, comm);
        train_errors->sae = ordered_sum(ab, t.users, comm);
        train_errors->n = t.nnz;
    }
    return ordered_sum(users, t.users, comm) + ordered_sum(items, t.items, comm);
}

void run_als(FactorModel& m, const RatingBlocks& train, const Csr& test, const AlsParams& params, const Comm& comm,
             const std::function<void(const IterationReport&, const FactorModel&)>& on_iteration) {
    params.validate();
    RowSolveSpec spec = spec_of(m);
    const RowForm forms[] = {RowForm::Auto, RowForm::Primal, RowForm::Dual};
    spec.form = forms[row_solve_code(params.row_solve)];
    const double flops = als_sweep_flops(train.nnz, train.n_users, train.n_items, m.rank);
    const bool have_test = comm.sum<std::int64_t>(test.nnz()) > 0;
    double previous = m.history.objective.empty() ? 0.0 : m.history.objective.back();
    SolvedBlock users, items;
    while (m.iterations_done < params.iters) {
        comm.barrier();
        const double t0 = MPI_Wtime();
        half_step(train.by_user, train.users, m.V, m.item_bias, spec, comm, m.U, m.user_bias, users);
        half_step(train.by_item, train.items, m.U, m.user_bias, spec, comm, m.V, m.item_bias, items);
        comm.barrier();
        const double seconds = MPI_Wtime() - t0;
        ErrorSums fit;
        const double objective = als_objective(m, train, comm, &fit);
        const double train_rmse = rmse(fit);
        const double test_rmse = have_test ? rmse(error_sums(m, test, train.users, comm)) : -1.0;
        const double gflops = seconds > 0 ? flops / seconds / 1e9 : 0.0;
        // The timing is rank 0's, shared, so that every rank writes the same history.
        const double sec0 = comm.bcast_value(seconds), gf0 = comm.bcast_value(gflops);
        m.history.push(objective, train_rmse, test_rmse, sec0, gf0);
        ++m.iterations_done;
        if (on_iteration)
            on_iteration({static_cast<int>(m.iterations_done), objective, train_rmse, test_rmse, sec0, gf0}, m);
        if (params.tol > 0 && m.history.size() > 1 && (previous - objective) <= params.tol * std::fabs(previous)) break;
        previous = objective;
    }
}

}  // namespace distcf
