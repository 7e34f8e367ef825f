#include "distcf/la/row_solve.hpp"

#include <omp.h>

#include <string>

#include "distcf/error.hpp"

extern "C" {
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha, const double* a,
            const int* lda, const double* beta, double* c, const int* ldc);
void dgemv_(const char* trans, const int* m, const int* n, const double* alpha, const double* a, const int* lda,
            const double* x, const int* incx, const double* beta, double* y, const int* incy);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dpotrs_(const char* uplo, const int* n, const int* nrhs, const double* a, const int* lda, double* b,
             const int* ldb, int* info);
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
}

namespace distcf {

SingleThreadedBlas::SingleThreadedBlas() : previous_(openblas_get_num_threads()) { openblas_set_num_threads(1); }
SingleThreadedBlas::~SingleThreadedBlas() { openblas_set_num_threads(previous_); }

namespace {

// Gathers row r's G (n x d, column-major: column c holds Y[., c], last column ones) and t, then
// forms A = G^T G + reg I (upper triangle, then mirrored) and b = G^T t.
void assemble(const Csr& rows, std::int64_t r, const std::vector<double>& Y, const std::vector<double>& other_bias,
              const RowSolveSpec& s, std::vector<double>& G, std::vector<double>& t, std::vector<double>& A,
              std::vector<double>& b) {
    const int k = s.rank, d = k + (s.learn_bias ? 1 : 0);
    const auto p0 = rows.ptr[r], p1 = rows.ptr[r + 1];
    const int n = static_cast<int>(p1 - p0);
    G.resize(static_cast<std::size_t>(n) * d);
    t.resize(static_cast<std::size_t>(n));
    for (int e = 0; e < n; ++e) {
        const std::int64_t j = rows.col[p0 + e];
        const double* y = Y.data() + j * k;
        for (int c = 0; c < k; ++c) G[static_cast<std::size_t>(c) * n + e] = y[c];
        if (s.learn_bias) G[static_cast<std::size_t>(k) * n + e] = 1.0;
        t[e] = rows.val[p0 + e] - s.offset - (other_bias.empty() ? 0.0 : other_bias[static_cast<std::size_t>(j)]);
    }
    A.assign(static_cast<std::size_t>(d) * d, 0.0);
    b.assign(static_cast<std::size_t>(d), 0.0);
    const double one = 1.0, zero = 0.0;
    const int inc = 1;
    dsyrk_("U", "T", &d, &n, &one, G.data(), &n, &zero, A.data(), &d);
    dgemv_("T", &n, &d, &one, G.data(), &n, t.data(), &inc, &zero, b.data(), &inc);
    const double reg = s.weighted_lambda ? s.lambda * n : s.lambda;
    for (int c = 0; c < d; ++c) {
        A[static_cast<std::size_t>(c) * d + c] += reg;
        for (int q = c + 1; q < d; ++q) A[static_cast<std::size_t>(c) * d + q] = A[static_cast<std::size_t>(q) * d + c];
    }
}

}  // namespace

void row_normal_equations(const Csr& rows, std::int64_t r, const std::vector<double>& Y,
                          const std::vector<double>& other_bias, const RowSolveSpec& spec, std::vector<double>& A,
                          std::vector<double>& b) {
    std::vector<double> G, t;
    SingleThreadedBlas one_thread;
    assemble(rows, r, Y, other_bias, spec, G, t, A, b);
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
        std::vector<double> G, t, A, b;
#pragma omp for schedule(dynamic, 16)
        for (std::int64_t r = 0; r < n_rows; ++r) {
            if (rows.ptr[r + 1] == rows.ptr[r]) continue;  // no ratings: zero factors
            assemble(rows, r, Y, other_bias, s, G, t, A, b);
            int info = 0;
            const int nrhs = 1;
            dpotrf_("U", &d, A.data(), &d, &info);
            if (info == 0) dpotrs_("U", &d, &nrhs, A.data(), &d, b.data(), &d, &info);
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
        DISTCF_THROW(LinalgError, "dpotrf/dpotrs: the normal equations of row " + std::to_string(failed) +
                                      " are not positive definite (lambda = " + std::to_string(s.lambda) + ")");
}

}  // namespace distcf
