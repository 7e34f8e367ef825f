#include "distcf/la/cholesky.hpp"

#include <cmath>
#include <cstddef>

namespace distcf {

// Compiled for AVX2/FMA and for baseline x86-64; the loader picks the one the CPU runs.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DISTCF_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define DISTCF_CLONES
#endif

DISTCF_CLONES int cholesky_lower(int d, double* A, int lda) {
    const auto col = [&](int j) { return A + static_cast<std::size_t>(j) * static_cast<std::size_t>(lda); };
    // Four pivots per pass: the group's columns are factored among themselves, then the trailing
    // matrix gets one update with four FMAs per element read and written.
    constexpr int kGroup = 4;
    int j = 0;
    for (; j + kGroup <= d; j += kGroup) {
        double* c[kGroup] = {col(j), col(j + 1), col(j + 2), col(j + 3)};
        for (int q = 0; q < kGroup; ++q) {
            double* cq = c[q];
            const int jq = j + q;
            for (int r = 0; r < q; ++r) {
                const double f = c[r][jq];
                for (int i = jq; i < d; ++i) cq[i] -= f * c[r][i];
            }
            if (!(cq[jq] > 0)) return jq + 1;
            cq[jq] = std::sqrt(cq[jq]);
            const double s = 1.0 / cq[jq];
            for (int i = jq + 1; i < d; ++i) cq[i] *= s;
        }
        const double *c0 = c[0], *c1 = c[1], *c2 = c[2], *c3 = c[3];
        for (int p = j + kGroup; p < d; ++p) {
            double* cp = col(p);
            const double f0 = c0[p], f1 = c1[p], f2 = c2[p], f3 = c3[p];
#pragma omp simd
            for (int i = p; i < d; ++i) cp[i] -= (f0 * c0[i] + f1 * c1[i]) + (f2 * c2[i] + f3 * c3[i]);
        }
    }
    for (; j < d; ++j) {  // the last d mod 4 columns, one at a time
        double* cj = col(j);
        for (int r = (j / kGroup) * kGroup; r < j; ++r) {
            const double* cr = col(r);
            const double f = cr[j];
            for (int i = j; i < d; ++i) cj[i] -= f * cr[i];
        }
        if (!(cj[j] > 0)) return j + 1;
        cj[j] = std::sqrt(cj[j]);
        const double s = 1.0 / cj[j];
        for (int i = j + 1; i < d; ++i) cj[i] *= s;
    }
    return 0;
}

DISTCF_CLONES void cholesky_solve_lower(int d, const double* L, int lda, double* b) {
    const auto col = [&](int j) { return L + static_cast<std::size_t>(j) * static_cast<std::size_t>(lda); };
    for (int j = 0; j < d; ++j) {  // L y = b, column-oriented: contiguous axpys
        const double* c = col(j);
        b[j] /= c[j];
        const double y = b[j];
#pragma omp simd
        for (int i = j + 1; i < d; ++i) b[i] -= y * c[i];
    }
    for (int j = d - 1; j >= 0; --j) {  // L^T x = y: row j of L^T is column j of L, a dot product
        const double* c = col(j);
        double s = b[j];
        for (int i = j + 1; i < d; ++i) s -= c[i] * b[i];
        b[j] = s / c[j];
    }
}

}  // namespace distcf
