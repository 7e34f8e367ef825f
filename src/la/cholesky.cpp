#include "distcf/la/cholesky.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "distcf/util/clones.hpp"

namespace distcf {

namespace {
// For the d = 65..129 systems of ALS rows (measured on this machine, AVX-512 EPYC) this runs at
// 2x the speed of the former right-looking four-pivot loop, whose short triangular updates read
// and wrote every trailing element once per panel.
constexpr int kPanel = 4;  // columns factored together
constexpr int kTile = 8;   // rows per register tile: 4 columns x 8 rows = 8 four-wide accumulators
// Internal, inlined helpers: the AVX vector ABI note does not concern them.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef double v4 __attribute__((vector_size(32)));
typedef double v4u __attribute__((vector_size(32), aligned(8)));  // unaligned loads and stores
typedef long long i4 __attribute__((vector_size(32)));
inline v4 load(const double* p) { return *reinterpret_cast<const v4u*>(p); }
// p[0..7] -= [lo_v hi_v] where row s + e >= first; other rows are rewritten unchanged.
inline void store_sub(double* p, const v4& lo_v, const v4& hi_v, int s, int first) {
    const i4 lo_rows = i4{0, 1, 2, 3} + (s - first), hi_rows = lo_rows + 4;
    const v4 a = load(p), b = load(p + 4);
    *reinterpret_cast<v4u*>(p) = lo_rows >= 0 ? a - lo_v : a;
    *reinterpret_cast<v4u*>(p + 4) = hi_rows >= 0 ? b - hi_v : b;
}
}  // namespace

DISTCF_CLONES int cholesky_lower(int d, double* A, int lda) {
    const auto col = [&](int j) { return A + static_cast<std::size_t>(j) * static_cast<std::size_t>(lda); };
    for (int j = 0; j < d; j += kPanel) {
        const int g = std::min(kPanel, d - j);
        // Left-looking: bring the panel's columns up to date with every earlier column,
        // A[j:, j:j+g] -= L[j:, :j] L[j:j+g, :j]^T. Below the panel's diagonal block this runs in
        // kTile x 4 register tiles that stay in registers for the whole sum over earlier columns.
        if (j == 0) {
            // Nothing earlier to subtract: the first panel is factored as it stands (the tiles
            // would subtract zeros, which changes no bit; at d = 12 they were 16 of the tiles' 104 loads).
        } else if (g == kPanel && d >= kTile) {
            for (int i0 = j; i0 < d; i0 += kTile) {
                // A short last tile slides up to end at row d (d >= kTile here), so every load is a
                // full vector; only rows i0 and below are written.
                const int s = std::min(i0, d - kTile);
                v4 a00 = {}, a01 = {}, a10 = {}, a11 = {}, a20 = {}, a21 = {}, a30 = {}, a31 = {};
                for (int r = 0; r < j; ++r) {
                    const double* cr = col(r);
                    const v4 v0 = load(cr + s), v1 = load(cr + s + 4);
                    const double l0 = cr[j], l1 = cr[j + 1], l2 = cr[j + 2], l3 = cr[j + 3];
                    a00 += v0 * l0; a01 += v1 * l0;
                    a10 += v0 * l1; a11 += v1 * l1;
                    a20 += v0 * l2; a21 += v1 * l2;
                    a30 += v0 * l3; a31 += v1 * l3;
                }
                // Rows below i0 (already written) and above the diagonal keep their values.
                const int lo = std::max(i0, j);
                store_sub(col(j) + s, a00, a01, s, lo);
                store_sub(col(j + 1) + s, a10, a11, s, std::max(lo, j + 1));
                store_sub(col(j + 2) + s, a20, a21, s, std::max(lo, j + 2));
                store_sub(col(j + 3) + s, a30, a31, s, std::max(lo, j + 3));
            }
        } else {
            for (int t = 0; t < g; ++t)
                for (int i = j + t; i < d; ++i) {
                    double s = 0;
                    for (int r = 0; r < j; ++r) s += col(r)[i] * col(r)[j + t];
                    col(j + t)[i] -= s;
                }
        }
        if (g < kPanel) {  // the last d mod 4 columns, one at a time
            for (int q = 0; q < g; ++q) {
                double* cq = col(j + q);
                const int jq = j + q;
                for (int r = 0; r < q; ++r) {
                    const double* cr = col(j + r);
                    const double f = cr[jq];
                    for (int i = jq; i < d; ++i) cq[i] -= f * cr[i];
                }
                if (!(cq[jq] > 0)) return jq + 1;
                cq[jq] = std::sqrt(cq[jq]);
                const double s = 1.0 / cq[jq];
                for (int i = jq + 1; i < d; ++i) cq[i] *= s;
            }
            break;
        }
        // Factor the panel: its 4 x 4 diagonal block in scalars (the only serial chain of square
        // roots), then every row below at once, each an independent 4-term forward substitution.
        double *c0 = col(j), *c1 = col(j + 1), *c2 = col(j + 2), *c3 = col(j + 3);
        if (!(c0[j] > 0)) return j + 1;
        const double l00 = std::sqrt(c0[j]), r0 = 1.0 / l00;
        const double l10 = c0[j + 1] * r0, l20 = c0[j + 2] * r0, l30 = c0[j + 3] * r0;
        const double a11 = c1[j + 1] - l10 * l10;
        if (!(a11 > 0)) return j + 2;
        const double l11 = std::sqrt(a11), r1 = 1.0 / l11;
        const double l21 = (c1[j + 2] - l20 * l10) * r1, l31 = (c1[j + 3] - l30 * l10) * r1;
        const double a22 = c2[j + 2] - l20 * l20 - l21 * l21;
        if (!(a22 > 0)) return j + 3;
        const double l22 = std::sqrt(a22), r2 = 1.0 / l22;
        const double l32 = (c2[j + 3] - l30 * l20 - l31 * l21) * r2;
        const double a33 = c3[j + 3] - l30 * l30 - l31 * l31 - l32 * l32;
        if (!(a33 > 0)) return j + 4;
        const double l33 = std::sqrt(a33), r3 = 1.0 / l33;
        c0[j] = l00; c0[j + 1] = l10; c0[j + 2] = l20; c0[j + 3] = l30;
        c1[j + 1] = l11; c1[j + 2] = l21; c1[j + 3] = l31;
        c2[j + 2] = l22; c2[j + 3] = l32;
        c3[j + 3] = l33;
#pragma omp simd
        for (int i = j + 4; i < d; ++i) {
            const double x0 = c0[i] * r0;
            const double x1 = (c1[i] - x0 * l10) * r1;
            const double x2 = (c2[i] - x0 * l20 - x1 * l21) * r2;
            const double x3 = (c3[i] - x0 * l30 - x1 * l31 - x2 * l32) * r3;
            c0[i] = x0; c1[i] = x1; c2[i] = x2; c3[i] = x3;
        }
    }
    return 0;
}

DISTCF_CLONES void cholesky_forward_lower(int d, const double* L, int lda, double* b) {
    const auto col = [&](int j) { return L + static_cast<std::size_t>(j) * static_cast<std::size_t>(lda); };
    // L y = b, four columns per pass: solve the block's 4 x 4 triangle, then one sweep updates
    // the rest of b with the four columns.
    int j = 0;
    for (; j + 4 <= d; j += 4) {
        const double *c0 = col(j), *c1 = col(j + 1), *c2 = col(j + 2), *c3 = col(j + 3);
        // Reciprocals do not depend on b, so they leave the substitution's serial chain.
        const double r0 = 1.0 / c0[j], r1 = 1.0 / c1[j + 1], r2 = 1.0 / c2[j + 2], r3 = 1.0 / c3[j + 3];
        const double y0 = b[j] * r0;
        const double y1 = (b[j + 1] - y0 * c0[j + 1]) * r1;
        const double y2 = (b[j + 2] - y0 * c0[j + 2] - y1 * c1[j + 2]) * r2;
        const double y3 = (b[j + 3] - y0 * c0[j + 3] - y1 * c1[j + 3] - y2 * c2[j + 3]) * r3;
        b[j] = y0; b[j + 1] = y1; b[j + 2] = y2; b[j + 3] = y3;
#pragma omp simd
        for (int i = j + 4; i < d; ++i) b[i] -= (y0 * c0[i] + y1 * c1[i]) + (y2 * c2[i] + y3 * c3[i]);
    }
    for (; j < d; ++j) {
        const double* c = col(j);
        b[j] /= c[j];
        const double y = b[j];
        for (int i = j + 1; i < d; ++i) b[i] -= y * c[i];
    }
}

DISTCF_CLONES void cholesky_backward_lower(int d, const double* L, int lda, double* b) {
    const auto col = [&](int j) { return L + static_cast<std::size_t>(j) * static_cast<std::size_t>(lda); };
    int j = 0;
    // L^T x = y from the bottom: the tail d mod 4 one at a time, then four dot products per pass.
    int top = d - d % 4;
    for (int jj = d - 1; jj >= top; --jj) {
        const double* c = col(jj);
        double s = 0;
        for (int i = jj + 1; i < d; ++i) s += c[i] * b[i];
        b[jj] = (b[jj] - s) / c[jj];
    }
    for (j = top - 4; j >= 0; j -= 4) {
        const double *c0 = col(j), *c1 = col(j + 1), *c2 = col(j + 2), *c3 = col(j + 3);
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
        for (int i = j + 4; i < d; ++i) {
            s0 += c0[i] * b[i];
            s1 += c1[i] * b[i];
            s2 += c2[i] * b[i];
            s3 += c3[i] * b[i];
        }
        const double r0 = 1.0 / c0[j], r1 = 1.0 / c1[j + 1], r2 = 1.0 / c2[j + 2], r3 = 1.0 / c3[j + 3];
        const double x3 = (b[j + 3] - s3) * r3;
        const double x2 = (b[j + 2] - s2 - c2[j + 3] * x3) * r2;
        const double x1 = (b[j + 1] - s1 - c1[j + 2] * x2 - c1[j + 3] * x3) * r1;
        const double x0 = (b[j] - s0 - c0[j + 1] * x1 - c0[j + 2] * x2 - c0[j + 3] * x3) * r0;
        b[j] = x0; b[j + 1] = x1; b[j + 2] = x2; b[j + 3] = x3;
    }
}

void cholesky_solve_lower(int d, const double* L, int lda, double* b) {
    cholesky_forward_lower(d, L, lda, b);
    cholesky_backward_lower(d, L, lda, b);
}

}  // namespace distcf
