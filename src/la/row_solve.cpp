#include "distcf/la/row_solve.hpp"

#include <omp.h>

#include <algorithm>
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
    const auto p0 = rows.ptr[r], p1 = rows.ptr[r + 1];
    const int n = static_cast<int>(p1 - p0);
    G.resize(static_cast<std::size_t>(kChunk) * ld);
    A.resize(static_cast<std::size_t>(da) * da);
    for (int e0 = 0; e0 < n; e0 += kChunk) {
        const int m = std::min(kChunk, n - e0);
        for (int e = 0; e < m; ++e) {
            const auto p = p0 + e0 + e;
            const std::int64_t j = rows.col[p];
            if (e + kPrefetch < m) {  // the other side's matrix rarely fits in cache: fetch ahead
                const double* ahead = Y.data() + rows.col[p + kPrefetch] * k;
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

}  // namespace

void row_normal_equations(const Csr& rows, std::int64_t r, const std::vector<double>& Y,
                          const std::vector<double>& other_bias, const RowSolveSpec& spec, std::vector<double>& A,
                          std::vector<double>& b) {
    std::vector<double> G, Aa;
    SingleThreadedBlas one_thread;
    assemble(rows, r, Y, other_bias, spec, G, Aa, b);
    const auto d = b.size(), da = d + 1;  // the solver reads the lower triangle only; mirror it here
    A.assign(d * d, 0.0);
    for (std::size_t c = 0; c < d; ++c)
        for (std::size_t q = c; q < d; ++q) A[c * d + q] = A[q * d + c] = Aa[c * da + q];
}

void solve_rows(const Csr& rows, const std::vector<double>& Y, const std::vector<double>& other_bias,
                const RowSolveSpec& s, std::vector<double>& factors, std::vector<double>& bias) {
    if (s.rank < 1 || s.rank > 4096) DISTCF_THROW(InputError, "rank: must be in [1, 4096]");
    const int k = s.rank, d = k + (s.learn_bias ? 1 : 0);
    const std::int64_t n_rows = rows.rows();
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
            assemble(rows, r, Y, other_bias, s, G, A, b);
            const int info = cholesky_lower(d, A.data(), d + 1);
            if (info == 0) cholesky_solve_lower(d, A.data(), d + 1, b.data());
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
