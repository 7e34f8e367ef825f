#include "distcf/model/svd.hpp"
#include "distcf/util/threads.hpp"

#include <armadillo>

#include <algorithm>
#include <cmath>
#include <string>

#include "distcf/data/distribute.hpp"
#include "distcf/data/rng.hpp"
#include "distcf/data/split.hpp"
#include "distcf/error.hpp"
#include "distcf/util/progress.hpp"
#include "distcf/la/row_solve.hpp"
#include "distcf/la/scalapack.hpp"

namespace distcf {

void SvdParams::validate() const {
    if (factor_grid.empty()) DISTCF_THROW(ParameterError, "factor_grid: need at least one k");
    for (int k : factor_grid)
        if (k < 1) DISTCF_THROW(ParameterError, "factor_grid: every k must be >= 1, got " + std::to_string(k));
    if (block_size < 1) DISTCF_THROW(ParameterError, "block_size: must be >= 1");
    if (!(dense_budget_mb > 0)) DISTCF_THROW(ParameterError, "dense_budget_mb: must be > 0");
    if (oversample < 0) DISTCF_THROW(ParameterError, "oversample: must be >= 0");
    if (power_iters < 0) DISTCF_THROW(ParameterError, "power_iters: must be >= 0");
    if (!(validation_fraction > 0 && validation_fraction < 1))
        DISTCF_THROW(ParameterError, "validation_fraction: must be in (0, 1)");
    try {
        baseline.validate();
    } catch (const InputError& e) {  // the baseline's fields are baseline_* here
        throw ParameterError(std::string("baseline_") + e.what(), e.file().c_str(), e.line());
    }
}

SvdSolver resolve_svd_solver(const SvdParams& p, std::int64_t n_users, std::int64_t n_items, int ranks) {
    if (p.solver != SvdSolver::Auto) return p.solver;
    // pdgesvd computes every singular vector: O(users x items x min(users, items)) work, 20 s at
    // 4000 x 2000 on 2 ranks here. Dense only while the matrix fits and that stays small.
    const double bytes_per_rank = static_cast<double>(n_users) * static_cast<double>(n_items) * 8.0 / ranks;
    const bool fits = bytes_per_rank <= p.dense_budget_mb * 1024.0 * 1024.0;
    return fits && std::min(n_users, n_items) <= p.dense_max_min_dim ? SvdSolver::Dense : SvdSolver::Randomized;
}

Csr residual_rows(const Csr& rows, bool users_are_rows, const FactorModel& b) {
    Csr out = rows;
    for (std::int64_t r = 0; r < rows.rows(); ++r)
        for (auto p = rows.ptr[r]; p < rows.ptr[r + 1]; ++p) {
            const std::int64_t row = rows.row0 + r, col = rows.col[p];
            out.val[p] -= users_are_rows ? b.score(row, col) : b.score(col, row);
        }
    return out;
}

TruncatedSvd dense_svd(const Csr& res, std::int64_t n_users, std::int64_t n_items, int r, int block_size,
                       const Comm& comm, std::vector<double>* all_s) {
    using namespace scalapack;
    const BlacsGrid grid(comm, square_grid(comm.size()));
    DistMatrix A(grid, n_users, n_items, block_size, block_size);
    // Each rating goes straight to the process owning its block; no rank holds the whole matrix.
    const int P = comm.size();
    std::vector<std::int64_t> count(static_cast<std::size_t>(P), 0), offset(static_cast<std::size_t>(P) + 1, 0);
    std::vector<int> dest(static_cast<std::size_t>(res.nnz()));
    for (std::int64_t q = 0; q < res.rows(); ++q)
        for (auto p = res.ptr[q]; p < res.ptr[q + 1]; ++p) {
            dest[p] = grid.rank_of(A.owner_row(res.row0 + q), A.owner_col(res.col[p]));
            ++count[dest[p]];
        }
    for (int p = 0; p < P; ++p) offset[p + 1] = offset[p] + count[p];
    std::vector<std::int32_t> su(dest.size()), si(dest.size());
    std::vector<double> sv(dest.size());
    for (std::int64_t q = 0; q < res.rows(); ++q)
        for (auto p = res.ptr[q]; p < res.ptr[q + 1]; ++p) {
            const auto at = offset[dest[p]]++;
            su[at] = static_cast<std::int32_t>(res.row0 + q);
            si[at] = res.col[p];
            sv[at] = res.val[p];
        }
    const auto ru = comm.alltoallv(su, count), ri = comm.alltoallv(si, count);
    const auto rv = comm.alltoallv(sv, count);
    for (std::size_t e = 0; e < rv.size(); ++e) A.local(A.local_row(ru[e]), A.local_col(ri[e])) = rv[e];

    const std::int64_t full = std::min(n_users, n_items);
    DistMatrix U(grid, n_users, full, block_size, block_size), VT(grid, full, n_items, block_size, block_size);
    const SvdResult s = pdgesvd(A, &U, &VT);
    TruncatedSvd out;
    out.solver = SvdSolver::Dense;
    out.r = static_cast<int>(std::min<std::int64_t>(r, full));
    out.s.assign(s.s.begin(), s.s.begin() + out.r);
    out.U = U.gather_columns(out.r);
    out.V = VT.gather_rows_transposed(out.r);
    if (all_s) *all_s = s.s;
    return out;
}

namespace {

// Bases are kept transposed (l x rows, column-major), i.e. rows x l row-major: one row per user
// or item, contiguous, as the sparse products and Allgatherv want them.

// This rank's rows of A X, X given transposed and whole: out(:, local r) = sum_c a_rc X(:, c).
void sparse_times(const Csr& A, const arma::mat& Xt, const BlockPartition& part, const Comm& comm, arma::mat& out_t) {
    out_t.zeros(Xt.n_rows, static_cast<arma::uword>(part.total()));
    const auto b = part.begin(comm.rank());
#pragma omp parallel for schedule(dynamic, 64) if (worth_threads(static_cast<double>(A.nnz()) * Xt.n_rows))
    for (std::int64_t r = 0; r < A.rows(); ++r) {
        double* o = out_t.colptr(static_cast<arma::uword>(b + r));
        for (auto p = A.ptr[r]; p < A.ptr[r + 1]; ++p) {
            const double v = A.val[p];
            const double* x = Xt.colptr(static_cast<arma::uword>(A.col[p]));
            for (arma::uword c = 0; c < Xt.n_rows; ++c) o[c] += v * x[c];
        }
    }
    comm.allgather_blocks(out_t.memptr(), part, static_cast<std::int64_t>(Xt.n_rows));
}

// Orthonormal basis of the columns of X (given transposed), by SVQB: scale the Gram to unit
// diagonal, eigendecompose, drop directions below round-off (a rank-deficient X gives fewer
// columns). Every rank holds X whole and computes the same thing.
arma::mat svqb(const arma::mat& Xt) {
    const arma::mat G = Xt * Xt.t();
    arma::vec d = G.diag();
    for (auto& x : d) x = x > 0 ? 1.0 / std::sqrt(x) : 0.0;
    const arma::mat Gs = arma::diagmat(d) * G * arma::diagmat(d);
    arma::vec lam;
    arma::mat W;
    if (!arma::eig_sym(lam, W, Gs)) DISTCF_THROW(LinalgError, "eig_sym (LAPACK dsyevd) failed in SVQB");
    const double cut = std::max(lam.max(), 0.0) * 1e-13;
    const arma::uvec keep = arma::find(lam > cut);
    if (keep.is_empty()) DISTCF_THROW(LinalgError, "randomized SVD: the residual is zero");
    const arma::mat T = arma::diagmat(d) * W.cols(keep) * arma::diagmat(1.0 / arma::sqrt(lam.elem(keep)));
    return T.t() * Xt;
}
arma::mat orthonormal(const arma::mat& Xt) { return svqb(svqb(Xt)); }

std::vector<double> row_major(const arma::mat& Xt, int r) {
    const arma::mat head = Xt.rows(0, static_cast<arma::uword>(r) - 1);
    return std::vector<double>(head.begin(), head.end());
}

}  // namespace

TruncatedSvd randomized_svd(const Csr& by_user, const BlockPartition& users, const Csr& by_item,
                            const BlockPartition& items, int r, int oversample, int power_iters, std::uint64_t seed,
                            const Comm& comm) {
    const std::int64_t m = users.total(), n = items.total();
    const auto l = static_cast<arma::uword>(std::min<std::int64_t>(r + oversample, std::min(m, n)));
    SingleThreadedBlas one_thread;  // replicated dense work: identical on every rank
    arma::mat omega_t(l, static_cast<arma::uword>(n));
    for (std::int64_t j = 0; j < n; ++j) {
        RowRng g(seed, Stream::Sketch, static_cast<std::uint64_t>(j));
        for (arma::uword c = 0; c < l; ++c) omega_t(c, static_cast<arma::uword>(j)) = g.normal(0.0, 1.0);
    }
    arma::mat y_t, z_t;
    sparse_times(by_user, omega_t, users, comm, y_t);
    arma::mat q_t = orthonormal(y_t);
    for (int it = 0; it < power_iters; ++it) {
        sparse_times(by_item, q_t, items, comm, z_t);
        const arma::mat z = orthonormal(z_t);
        sparse_times(by_user, z, users, comm, y_t);
        q_t = orthonormal(y_t);
    }
    sparse_times(by_item, q_t, items, comm, z_t);  // (A^T Q)^T
    const arma::mat q2_t = orthonormal(z_t);
    const arma::mat R2 = q2_t * z_t.t();         // A^T Q = Q2 R2
    arma::mat Ur, Vr;
    arma::vec s;
    if (!arma::svd(Ur, s, Vr, R2)) DISTCF_THROW(LinalgError, "svd (LAPACK) of the projected matrix failed");
    // A ~ Q Q^T A = (Q Vr) diag(s) (Q2 Ur)^T
    const arma::mat u_t = Vr.t() * q_t, v_t = Ur.t() * q2_t;
    TruncatedSvd out;
    out.solver = SvdSolver::Randomized;
    out.r = std::min<int>(r, static_cast<int>(s.n_elem));
    out.s.assign(s.begin(), s.begin() + out.r);
    out.U = row_major(u_t, out.r);
    out.V = row_major(v_t, out.r);
    return out;
}

FactorModel svd_model(const FactorModel& baseline, const TruncatedSvd& svd, int k) {
    if (k < 1 || k > svd.r) DISTCF_THROW(InputError, "k: must be in [1, " + std::to_string(svd.r) + "], got " + std::to_string(k));
    FactorModel m = baseline;
    m.method = "svd";
    m.n_factors = k;
    m.U.assign(static_cast<std::size_t>(m.n_users * k), 0.0);
    m.V.assign(static_cast<std::size_t>(m.n_items * k), 0.0);
    for (std::int64_t u = 0; u < m.n_users; ++u)
        for (int c = 0; c < k; ++c) m.U[u * k + c] = svd.U[u * svd.r + c] * svd.s[c];
    for (std::int64_t i = 0; i < m.n_items; ++i)
        for (int c = 0; c < k; ++c) m.V[i * k + c] = svd.V[i * svd.r + c];
    return m;
}

namespace {
// RMSE of prediction_k for every k in `ks` (ascending) over the CSR rows (users), one pass.
std::vector<double> rmse_per_k(const FactorModel& full, const std::vector<int>& ks, const Csr& rows,
                               const BlockPartition& users, const Comm& comm) {
    std::vector<std::vector<double>> sq(ks.size(), std::vector<double>(static_cast<std::size_t>(rows.rows()), 0.0));
    const int K = full.n_factors;
    for (std::int64_t r = 0; r < rows.rows(); ++r) {
        const std::int64_t u = rows.row0 + r;
        for (auto p = rows.ptr[r]; p < rows.ptr[r + 1]; ++p) {
            const std::int64_t i = rows.col[p];
            double s = full.mu + full.user_bias[u] + full.item_bias[i];
            std::size_t next = 0;
            for (int c = 0; c < K && next < ks.size(); ++c) {
                s += full.U[u * K + c] * full.V[i * K + c];
                while (next < ks.size() && ks[next] == c + 1) {
                    const double e = std::clamp(s, full.rating_min, full.rating_max) - rows.val[p];
                    sq[next++][r] += e * e;
                }
            }
        }
    }
    const double n = static_cast<double>(comm.sum<std::int64_t>(rows.nnz()));
    std::vector<double> out;
    for (const auto& v : sq) out.push_back(n > 0 ? std::sqrt(ordered_sum(v, users, comm) / n) : 0.0);
    return out;
}
}  // namespace

RankTable rank_table(const FactorModel& baseline, const TruncatedSvd& svd, const std::vector<int>& factor_grid,
                     const RatingBlocks& train, const Csr& test, const Comm& comm) {
    RankTable t;
    t.k = factor_grid;
    std::sort(t.k.begin(), t.k.end());
    t.k.erase(std::unique(t.k.begin(), t.k.end()), t.k.end());
    const FactorModel full = svd_model(baseline, svd, t.k.back());
    t.train_rmse = rmse_per_k(full, t.k, train.by_user, train.users, comm);
    if (comm.sum<std::int64_t>(test.nnz()) > 0) t.test_rmse = rmse_per_k(full, t.k, test, train.users, comm);
    return t;
}

namespace {
struct Decomposition {
    FactorModel baseline;
    TruncatedSvd svd;
    std::vector<double> all_s;
};

Decomposition decompose(const RatingBlocks& t, const SvdParams& p, int kmax, const Comm& comm) {
    Decomposition d;
    d.baseline = fit_baseline(t, p.baseline, comm);
    const Csr by_user = residual_rows(t.by_user, true, d.baseline);
    const SvdSolver solver = resolve_svd_solver(p, t.n_users, t.n_items, comm.size());
    report_stage("svd: decompose", {{"solver", solver == SvdSolver::Dense ? "dense (ScaLAPACK pdgesvd)" : "randomized"},
                                    {"users", t.n_users}, {"items", t.n_items}, {"ratings", t.nnz}, {"k", kmax}});
    if (solver == SvdSolver::Dense) {
        d.svd = dense_svd(by_user, t.n_users, t.n_items, kmax, p.block_size, comm, &d.all_s);
    } else {
        const Csr by_item = residual_rows(t.by_item, false, d.baseline);
        d.svd = randomized_svd(by_user, t.users, by_item, t.items, kmax, p.oversample, p.power_iters, p.rng_seed, comm);
        d.all_s = d.svd.s;
    }
    return d;
}

int argmin_k(const std::vector<int>& ks, const std::vector<double>& rmse) {
    return ks[static_cast<std::size_t>(std::min_element(rmse.begin(), rmse.end()) - rmse.begin())];
}
}  // namespace

SvdFit fit_svd(const RatingBlocks& train, const Csr& test, const SvdParams& p, const Comm& comm) {
    p.validate();
    const int kmax = *std::max_element(p.factor_grid.begin(), p.factor_grid.end());
    const std::int64_t full = std::min(train.n_users, train.n_items);
    if (kmax > full)
        DISTCF_THROW(InputError, "factor_grid: k = " + std::to_string(kmax) + " exceeds min(users, items) = " + std::to_string(full));
    SvdFit out;
    if (p.select_k == SelectK::Validation) {
        // The same method on a hold-out of the training ratings; test data are never looked at.
        const HoldOut h = hold_out(train, p.validation_fraction, p.split_seed, comm);
        const RatingBlocks& fb = h.fit;
        const Csr& vc = h.held_out;
        report_stage("svd: choosing k on a validation hold-out", {{"fraction", p.validation_fraction}, {"held_out", comm.sum(vc.nnz())}});
        const Decomposition dv = decompose(fb, p, kmax, comm);
        const RankTable tv = rank_table(dv.baseline, dv.svd, p.factor_grid, fb, vc, comm);
        out.validation_rmse = tv.test_rmse;
        out.k_selected = argmin_k(tv.k, tv.test_rmse);
    }
    report_stage("svd: the model on all training ratings", {});
    const Decomposition d = decompose(train, p, kmax, comm);
    out.svd = d.svd;
    out.singular_values = d.all_s;
    out.table = rank_table(d.baseline, d.svd, p.factor_grid, train, test, comm);
    if (p.select_k == SelectK::Test) {
        if (out.table.test_rmse.empty()) DISTCF_THROW(InputError, "select-k test: there are no test ratings");
        out.k_selected = argmin_k(out.table.k, out.table.test_rmse);
    } else if (p.select_k == SelectK::Largest) {
        out.k_selected = kmax;
    }
    out.model = svd_model(d.baseline, d.svd, std::min(kmax, d.svd.r));
    out.model.params = to_record(p);
    out.model.k_selected = out.k_selected;
    return out;
}

}  // namespace distcf
