#include "distcf/model/ials.hpp"

#include <mpi.h>

#include <cmath>
#include <string>

#include "distcf/data/distribute.hpp"
#include "distcf/error.hpp"
#include "distcf/la/row_solve.hpp"

namespace distcf {

void IalsParams::validate() const {
    if (rank < 1 || rank > 1024) DISTCF_THROW(InputError, "rank: must be in [1, 1024]");
    if (!(lambda > 0)) DISTCF_THROW(InputError, "lambda: must be > 0 for implicit ALS");
    if (iters < 0) DISTCF_THROW(InputError, "iters: must be >= 0");
    if (!(alpha >= 0)) DISTCF_THROW(InputError, "alpha: must be >= 0");
    if (confidence != "linear" && confidence != "log")
        DISTCF_THROW(InputError, "confidence: must be linear or log, got '" + confidence + "'");
    if (!(epsilon > 0)) DISTCF_THROW(InputError, "epsilon: must be > 0");
    if (solver != "cholesky" && solver != "cg") DISTCF_THROW(InputError, "solver: must be cholesky or cg, got '" + solver + "'");
    if (cg_steps < 1) DISTCF_THROW(InputError, "cg-steps: must be >= 1");
    if (!(init_sd > 0)) DISTCF_THROW(InputError, "init-sd: must be > 0");
}

RatingBlocks as_interactions(const RatingBlocks& r, double threshold, const Comm& comm) {
    const RatingSlice all = slice_of(r.by_user);
    RatingSlice kept;
    for (std::int64_t e = 0; e < all.size(); ++e)
        if (all.value[e] >= threshold) kept.push(all.user[e], all.item[e], 1.0);
    return distribute(kept, r.n_users, r.n_items, 0.0, 1.0, comm);
}

FactorModel init_ials(const RatingBlocks& train, const IalsParams& p) {
    p.validate();
    FactorModel m = FactorModel::for_data(train, "ials", p.confidence);
    m.mu = 0.0;
    m.rank = p.rank;
    m.lambda = p.lambda;
    m.U = initial_factors(p.seed, false, train.n_users, p.rank, p.init_sd);
    m.V = initial_factors(p.seed, true, train.n_items, p.rank, p.init_sd);
    m.params = {{"alpha", p.alpha}, {"epsilon", p.epsilon}, {"cg_steps", p.solver == "cg" ? p.cg_steps : 0}};
    return m;
}

namespace {

RowSolveSpec spec_of(const IalsParams& p, const std::vector<double>& gram) {
    RowSolveSpec s;
    s.rank = p.rank;
    s.lambda = p.lambda;
    s.weighted_lambda = false;
    s.implicit = true;
    s.log_confidence = p.confidence == "log";
    s.alpha = p.alpha;
    s.epsilon = p.epsilon;
    s.gram = &gram;
    s.cg_steps = p.solver == "cg" ? p.cg_steps : 0;
    return s;
}

// Solves this rank's rows of one side against the other side's factors, then allgathers.
void half_step(const Csr& rows, const BlockPartition& part, const std::vector<double>& other, std::int64_t n_other,
               const IalsParams& p, const Comm& comm, std::vector<double>& all) {
    const std::vector<double> gram = replicated_gram(other, n_other, p.rank, comm);
    const RowSolveSpec spec = spec_of(p, gram);
    const std::int64_t k = p.rank, r0 = part.begin(comm.rank());
    std::vector<double> mine(all.begin() + r0 * k, all.begin() + (r0 + rows.rows()) * k), no_bias;
    solve_rows(rows, other, {}, spec, mine, no_bias);
    std::copy(mine.begin(), mine.end(), all.begin() + r0 * k);
    comm.allgather_blocks(all.data(), part, k);
}

double squared_norm(const std::vector<double>& f, std::int64_t row, int k) {
    double s = 0;
    for (int c = 0; c < k; ++c) s += f[static_cast<std::size_t>(row * k + c)] * f[static_cast<std::size_t>(row * k + c)];
    return s;
}

}  // namespace

double ials_loss(const FactorModel& m, const RatingBlocks& t, const IalsParams& p, const Comm& comm) {
    const int k = m.rank;
    const std::vector<double> gv = replicated_gram(m.V, m.n_items, k, comm);
    const RowSolveSpec spec = spec_of(p, gv);
    std::vector<double> users(static_cast<std::size_t>(t.by_user.rows()), 0.0), items(static_cast<std::size_t>(t.by_item.rows()), 0.0);
#pragma omp parallel for schedule(dynamic, 64)
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
            const double s = m.score(u, t.by_user.col[q]), c = confidence(spec, t.by_user.val[q]);
            observed += c * (1 - s) * (1 - s) - s * s;
        }
        users[r] = all_pairs + observed + p.lambda * squared_norm(m.U, u, k);
    }
    for (std::int64_t r = 0; r < t.by_item.rows(); ++r) items[r] = p.lambda * squared_norm(m.V, t.by_item.row0 + r, k);
    return ordered_sum(users, t.users, comm) + ordered_sum(items, t.items, comm);
}

void run_ials(FactorModel& m, const RatingBlocks& train, const IalsParams& p, const Comm& comm,
              const std::function<void(const IterationReport&, const FactorModel&)>& on_iteration) {
    p.validate();
    const double k = p.rank, nnz = static_cast<double>(train.nnz);
    const double rows = static_cast<double>(train.n_users + train.n_items);
    // Gram of the observed rows, Y^T Y of each side, Cholesky (the CG path does other work).
    const double flops = 2.0 * nnz * k * (k + 1) + rows * k * k * (k / 3.0 + 1.0);
    while (m.iterations_done < p.iters) {
        comm.barrier();
        const double t0 = MPI_Wtime();
        half_step(train.by_user, train.users, m.V, m.n_items, p, comm, m.U);
        half_step(train.by_item, train.items, m.U, m.n_users, p, comm, m.V);
        comm.barrier();
        const double seconds = comm.bcast_value(MPI_Wtime() - t0);
        const double loss = ials_loss(m, train, p, comm);
        const double gflops = p.solver == "cholesky" && seconds > 0 ? flops / seconds / 1e9 : 0.0;
        m.history.push(loss, -1.0, -1.0, seconds, gflops);
        ++m.iterations_done;
        if (on_iteration) on_iteration({static_cast<int>(m.iterations_done), loss, -1.0, -1.0, seconds, gflops}, m);
    }
}

}  // namespace distcf
