#include "distcf/la/row_solve.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "distcf/error.hpp"
#include "distcf/la/cholesky.hpp"

extern "C" {
void dgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
            const int* ldc);
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
}

namespace distcf {

SingleThreadedBlas::SingleThreadedBlas() : previous_(openblas_get_num_threads()) { openblas_set_num_threads(1); }
SingleThreadedBlas::~SingleThreadedBlas() { openblas_set_num_threads(previous_); }

namespace {

// Ratings per gathered chunk and Gram panel width, both measured on this machine (AMD EPYC, AVX2):
// a 256 x (k+1) chunk stays in L2, and width-8 dgemm panels over the lower triangle run at
// 42-46 GFLOP/s per core against 27-37 for OpenBLAS's dsyrk at k = 64..128, whose small-size path
// computes the full square.
constexpr int kChunk = 256;
constexpr int kPanel = 8;
constexpr int kPrefetch = 8;  // rows gathered ahead

// Accumulates the lower triangle of A += G G^T, G d x n column-major with leading dimension ld.
void gram_lower(int d, int n, const double* G, int ld, double beta, double* A) {
    const double one = 1.0;
    for (int j0 = 0; j0 < d; j0 += kPanel) {
        const int width = std::min(kPanel, d - j0), height = d - j0;
        dgemm_("N", "T", &height, &width, &n, &one, G + j0, &ld, G + j0, &ld, &beta,
               A + static_cast<std::size_t>(j0) * d + j0, &d);
    }
}

// Forms row r's normal equations in one (d+1) x (d+1) Gram, leading dimension d + 1: column e of
// the gathered matrix G is [y_j; 1 (when learning the bias); t_e] for the row's e-th rating, so
// the Gram's leading d x d block is G G^T and its last row is b^T = (G t)^T, with no second pass.
// Rows are gathered kChunk at a time, one contiguous copy each, and every chunk goes into the
// Gram by BLAS-3 (SPARK-6685), never rating by rating. Adds reg to the leading diagonal and copies
// b out; only the lower triangle of A is formed.
void assemble(const Csr& rows, std::int64_t r, const std::vector<double>& Y, const std::vector<double>& other_bias,
              const RowSolveSpec& s, std::vector<double>& G, std::vector<double>& A, std::vector<double>& b) {
    const int k = s.rank, d = k + (s.learn_bias ? 1 : 0), da = d + 1;
    const int ld = (da + 3) / 4 * 4;  // 32-byte aligned columns
    const auto p0 = rows.ptr[r], p1 = rows.ptr[r + 1], p_last = rows.ptr[rows.rows()];
    const int n = static_cast<int>(p1 - p0);
    G.resize(static_cast<std::size_t>(kChunk) * ld);
    A.resize(static_cast<std::size_t>(da) * da);
    for (int e0 = 0; e0 < n; e0 += kChunk) {
        const int m = std::min(kChunk, n - e0);
        for (int e = 0; e < m; ++e) {
            const auto p = p0 + e0 + e;
            const std::int64_t j = rows.col[p];
            if (p + kPrefetch < p_last) {  // the other side's matrix rarely fits in cache: fetch ahead,
                const double* ahead = Y.data() + rows.col[p + kPrefetch] * k;  // into the next row too
                for (int c = 0; c < k; c += 8) __builtin_prefetch(ahead + c);
            }
            double* g = G.data() + static_cast<std::size_t>(e) * ld;
            std::copy_n(Y.data() + j * k, k, g);
            if (s.learn_bias) g[k] = 1.0;
            g[d] = rows.val[p] - s.offset - (other_bias.empty() ? 0.0 : other_bias[static_cast<std::size_t>(j)]);
        }
        gram_lower(da, m, G.data(), ld, e0 == 0 ? 0.0 : 1.0, A.data());
    }
    const double reg = s.weighted_lambda ? s.lambda * n : s.lambda;
    b.resize(static_cast<std::size_t>(d));
    for (int c = 0; c < d; ++c) {
        A[static_cast<std::size_t>(c) * da + c] += reg;
        b[c] = A[static_cast<std::size_t>(c) * da + d];
    }
}

// Implicit rows: G's columns are sqrt(c_j - 1) y_j, A = Y^T Y + G G^T + lambda I (lower triangle,
// leading dimension k), b = sum_j c_j y_j accumulated during the gather.
void assemble_implicit(const Csr& rows, std::int64_t r, const std::vector<double>& Y, const RowSolveSpec& s,
                       std::vector<double>& G, std::vector<double>& A, std::vector<double>& b) {
    const int k = s.rank;
    const int ld = (k + 3) / 4 * 4;
    const auto p0 = rows.ptr[r], p1 = rows.ptr[r + 1];
    const int n = static_cast<int>(p1 - p0);
    G.resize(static_cast<std::size_t>(kChunk) * ld);
    A.assign(s.gram->begin(), s.gram->end());
    b.assign(static_cast<std::size_t>(k), 0.0);
    for (int e0 = 0; e0 < n; e0 += kChunk) {
        const int m = std::min(kChunk, n - e0);
        for (int e = 0; e < m; ++e) {
            const auto p = p0 + e0 + e;
            const double* y = Y.data() + static_cast<std::int64_t>(rows.col[p]) * k;
            const double c = confidence(s, rows.val[p]), w = std::sqrt(c - 1.0);
            double* g = G.data() + static_cast<std::size_t>(e) * ld;
            for (int q = 0; q < k; ++q) {
                g[q] = w * y[q];
                b[q] += c * y[q];
            }
        }
        gram_lower(k, m, G.data(), ld, 1.0, A.data());
    }
    for (int c = 0; c < k; ++c) A[static_cast<std::size_t>(c) * k + c] += s.lambda;
}

// Conjugate gradient on the implicit normal equations from x (the row's current factors), without
// forming A: A p = Y^T Y p + sum_j (c_j - 1)(y_j . p) y_j + lambda p. The row's y_j are gathered
// once (contiguous), so each step costs O(n_r k + k^2).
void cg_implicit(const Csr& rows, std::int64_t r, const std::vector<double>& Y, const RowSolveSpec& s, double* x,
                 std::vector<double>& G, std::vector<double>& work) {
    const int k = s.rank;
    const auto p0 = rows.ptr[r];
    const int n = static_cast<int>(rows.ptr[r + 1] - p0);
    G.resize(static_cast<std::size_t>(n) * k);
    work.assign(static_cast<std::size_t>(4 * k + n), 0.0);
    double *res = work.data(), *dir = res + k, *ad = dir + k, *bvec = ad + k, *w = bvec + k;
    for (int e = 0; e < n; ++e) {
        const double* y = Y.data() + static_cast<std::int64_t>(rows.col[p0 + e]) * k;
        const double c = confidence(s, rows.val[p0 + e]);
        w[e] = c - 1.0;
        std::copy_n(y, k, G.data() + static_cast<std::size_t>(e) * k);
        for (int i = 0; i < k; ++i) bvec[i] += c * y[i];
    }
    const double* YtY = s.gram->data();
    const auto apply = [&](const double* v, double* out) {
        for (int i = 0; i < k; ++i) {  // Y^T Y is symmetric: row i is the contiguous column i
            const double* gi = YtY + static_cast<std::size_t>(i) * k;
            double t = 0;
#pragma omp simd reduction(+ : t)
            for (int j = 0; j < k; ++j) t += gi[j] * v[j];
            out[i] = t + s.lambda * v[i];
        }
        for (int e = 0; e < n; ++e) {
            const double* y = G.data() + static_cast<std::size_t>(e) * k;
            double dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int i = 0; i < k; ++i) dot += y[i] * v[i];
            const double f = w[e] * dot;
#pragma omp simd
            for (int i = 0; i < k; ++i) out[i] += f * y[i];
        }
    };
    apply(x, ad);
    double rr = 0;
    for (int i = 0; i < k; ++i) {
        res[i] = bvec[i] - ad[i];
        dir[i] = res[i];
        rr += res[i] * res[i];
    }
    for (int step = 0; step < s.cg_steps && rr > 0; ++step) {
        apply(dir, ad);
        double pap = 0;
        for (int i = 0; i < k; ++i) pap += dir[i] * ad[i];
        if (!(pap > 0)) break;
        const double a = rr / pap;
        double rr_new = 0;
        for (int i = 0; i < k; ++i) {
            x[i] += a * dir[i];
            res[i] -= a * ad[i];
            rr_new += res[i] * res[i];
        }
        const double beta = rr_new / rr;
        rr = rr_new;
        for (int i = 0; i < k; ++i) dir[i] = res[i] + beta * dir[i];
    }
}

}  // namespace

double confidence(const RowSolveSpec& s, double r) {
    return s.log_confidence ? 1.0 + s.alpha * std::log1p(r / s.epsilon) : 1.0 + s.alpha * r;
}

std::vector<double> replicated_gram(const std::vector<double>& Y, std::int64_t rows, int k, const Comm& comm) {
    constexpr std::int64_t kRows = 4096;
    const std::int64_t chunks = (rows + kRows - 1) / kRows;
    const int P = comm.size(), me = comm.rank();
    const std::size_t kk = static_cast<std::size_t>(k) * static_cast<std::size_t>(k);
    // Chunk c is computed by rank c % P; the allgather below wants each rank's chunks contiguous.
    std::vector<std::int64_t> per_rank(static_cast<std::size_t>(P), 0);
    for (std::int64_t c = 0; c < chunks; ++c) ++per_rank[static_cast<std::size_t>(c % P)];
    std::vector<std::int64_t> offsets(static_cast<std::size_t>(P) + 1, 0);
    for (int p = 0; p < P; ++p) offsets[p + 1] = offsets[p] + per_rank[p];
    std::vector<double> all(static_cast<std::size_t>(chunks) * kk, 0.0);
    SingleThreadedBlas one_thread;
#pragma omp parallel for schedule(dynamic, 1)
    for (std::int64_t q = 0; q < per_rank[static_cast<std::size_t>(me)]; ++q) {
        const std::int64_t c = me + q * P, r0 = c * kRows, n = std::min(kRows, rows - r0);
        // Row-major rows x k is column-major k x rows: the rows are G's columns.
        gram_lower(k, static_cast<int>(n), Y.data() + r0 * k, k, 0.0, all.data() + static_cast<std::size_t>(offsets[me] + q) * kk);
    }
    comm.allgather_blocks(all.data(), BlockPartition(offsets), static_cast<std::int64_t>(kk));
    std::vector<double> g(kk, 0.0);
    for (std::int64_t c = 0; c < chunks; ++c) {  // chunk order, whoever computed it
        const auto p = static_cast<std::size_t>(c % P);
        const double* part = all.data() + static_cast<std::size_t>(offsets[p] + c / P) * kk;
        for (std::size_t e = 0; e < kk; ++e) g[e] += part[e];
    }
    for (int c = 0; c < k; ++c)
        for (int q = c + 1; q < k; ++q) g[static_cast<std::size_t>(q) * k + c] = g[static_cast<std::size_t>(c) * k + q];
    return g;
}

void row_normal_equations(const Csr& rows, std::int64_t r, const std::vector<double>& Y,
                          const std::vector<double>& other_bias, const RowSolveSpec& spec, std::vector<double>& A,
                          std::vector<double>& b) {
    std::vector<double> G, Aa;
    SingleThreadedBlas one_thread;
    if (spec.implicit) assemble_implicit(rows, r, Y, spec, G, Aa, b);
    else assemble(rows, r, Y, other_bias, spec, G, Aa, b);
    const auto d = b.size(), da = spec.implicit ? d : d + 1;  // the solver reads the lower triangle; mirror it
    A.assign(d * d, 0.0);
    for (std::size_t c = 0; c < d; ++c)
        for (std::size_t q = c; q < d; ++q) A[c * d + q] = A[q * d + c] = Aa[c * da + q];
}

void solve_rows(const Csr& rows, const std::vector<double>& Y, const std::vector<double>& other_bias,
                const RowSolveSpec& s, std::vector<double>& factors, std::vector<double>& bias) {
    if (s.rank < 1 || s.rank > 4096) DISTCF_THROW(InputError, "rank: must be in [1, 4096]");
    const int k = s.rank, d = k + (s.learn_bias ? 1 : 0);
    const std::int64_t n_rows = rows.rows();
    if (s.implicit && (s.gram == nullptr || s.gram->size() != static_cast<std::size_t>(k) * k || s.learn_bias))
        DISTCF_THROW(InputError, "solve_rows: an implicit solve needs Y^T Y (k x k) and no biases");
    if (s.implicit && s.cg_steps > 0) {
        // Warm start: `factors` holds the rows' current factors on entry.
        if (factors.size() != static_cast<std::size_t>(n_rows * k))
            DISTCF_THROW(InputError, "solve_rows: conjugate gradient needs the rows' current factors");
#pragma omp parallel
        {
            std::vector<double> G, work;
#pragma omp for schedule(dynamic, 16)
            for (std::int64_t r = 0; r < n_rows; ++r) {
                double* x = factors.data() + r * k;
                if (rows.ptr[r + 1] == rows.ptr[r]) std::fill(x, x + k, 0.0);
                else cg_implicit(rows, r, Y, s, x, G, work);
            }
        }
        return;
    }
    factors.assign(static_cast<std::size_t>(n_rows * k), 0.0);
    if (s.learn_bias) bias.assign(static_cast<std::size_t>(n_rows), 0.0);
    SingleThreadedBlas one_thread;
    std::int64_t failed = -1;
#pragma omp parallel
    {
        std::vector<double> G, A, b;
#pragma omp for schedule(dynamic, 16)
        for (std::int64_t r = 0; r < n_rows; ++r) {
            if (rows.ptr[r + 1] == rows.ptr[r]) continue;  // no ratings: zero factors
            int lda = d + 1;
            if (s.implicit) {
                assemble_implicit(rows, r, Y, s, G, A, b);
                lda = d;
            } else {
                assemble(rows, r, Y, other_bias, s, G, A, b);
            }
            const int info = cholesky_lower(d, A.data(), lda);
            if (info == 0) cholesky_solve_lower(d, A.data(), lda, b.data());
            if (info != 0) {
#pragma omp critical
                failed = rows.row0 + r;
                continue;
            }
            for (int c = 0; c < k; ++c) factors[static_cast<std::size_t>(r * k + c)] = b[c];
            if (s.learn_bias) bias[static_cast<std::size_t>(r)] = b[k];
        }
    }
    if (failed >= 0)
        DISTCF_THROW(LinalgError, "cholesky_lower: the normal equations of row " + std::to_string(failed) +
                                      " are not positive definite (lambda = " + std::to_string(s.lambda) + ")");
}

}  // namespace distcf
