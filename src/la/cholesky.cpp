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
    int j = 0;
    // Two pivots per pass: the trailing update reads each target column once for both.
    for (; j + 1 < d; j += 2) {
        double* c0 = col(j);
        double* c1 = col(j + 1);
        if (!(c0[j] > 0)) return j + 1;
        c0[j] = std::sqrt(c0[j]);
        const double s0 = 1.0 / c0[j];
        for (int i = j + 1; i < d; ++i) c0[i] *= s0;
        const double f = c0[j + 1];
        for (int i = j + 1; i < d; ++i) c1[i] -= f * c0[i];
        if (!(c1[j + 1] > 0)) return j + 2;
        c1[j + 1] = std::sqrt(c1[j + 1]);
        const double s1 = 1.0 / c1[j + 1];
        for (int i = j + 2; i < d; ++i) c1[i] *= s1;
        for (int p = j + 2; p < d; ++p) {
            double* cp = col(p);
            const double f0 = c0[p], f1 = c1[p];
#pragma omp simd
            for (int i = p; i < d; ++i) cp[i] -= f0 * c0[i] + f1 * c1[i];
        }
    }
    if (j < d) {
        double* c0 = col(j);
        if (!(c0[j] > 0)) return j + 1;
        c0[j] = std::sqrt(c0[j]);
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
