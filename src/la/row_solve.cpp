#include "distcf/la/row_solve.hpp"
#include "distcf/util/threads.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string>
#include <type_traits>

#include "distcf/data/rng.hpp"
#include "distcf/error.hpp"
#include "distcf/la/cholesky.hpp"
#include "distcf/util/clones.hpp"

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
// a 256 x k chunk stays in L2, and width-8 dgemm panels over the lower triangle run at
// 42-46 GFLOP/s per core against 27-37 for OpenBLAS's dsyrk at k = 64..128, whose small-size path
// computes the full square.
constexpr int kChunk = 256;
constexpr int kPanel = 8;
// Up to this k a row's Gram is row_gram's (no BLAS call), beyond it BLAS-3 panels. ALS on a
// generated 3000 x 1500 set (600 ratings a row), 1 and 2 threads, AMD EPYC VM: k = 32 1.8-2.3x
// faster than the panels, k = 64 the same, k = 128 5-9% slower; MovieLens u1 at k = 50 1.5x.
constexpr int kFusedGram = 64;
constexpr int kPrefetch = 8;  // rows gathered ahead
// 4 doubles, 8 floats (unaligned): AVX2's width, whose 16 registers hold row_gram's tiles; the
// AVX-512 clones run the same tiles.
using V4d = double __attribute__((vector_size(32), aligned(8)));
using V8f = float __attribute__((vector_size(32), aligned(4)));


// The kernels' view of one solve: what is assembled and how it is solved, flattened once per
// half-step so that the inner loops read plain fields.
struct RowSolveSpec {
    int rank = 10;
    double lambda = 0.1;
    bool weighted_lambda = true, learn_bias = false;
    double offset = 0.0;
    bool implicit = false;
    ImplicitTerms terms;
    const std::vector<double>* gram = nullptr;
    int cg_steps = 0;
    RowForm form = RowForm::Auto;
    std::optional<GaussianPrior> prior;
    std::optional<RowDraw> draw;
};

RowSolveSpec flatten(const NormalEquations& eq, const RowSolver& how) {
    RowSolveSpec s;
    s.rank = eq.factors;
    s.lambda = eq.lambda;
    s.weighted_lambda = eq.weighted_lambda;
    s.learn_bias = eq.learn_bias;
    s.offset = eq.offset;
    s.implicit = eq.implicit.has_value();
    if (s.implicit) {
        s.terms = *eq.implicit;
        s.gram = eq.implicit->gram;
    }
    s.cg_steps = how.cg_steps;
    s.form = how.form;
    s.prior = eq.prior;
    s.draw = how.draw;
    if (s.prior) {  // the prior is all the regularisation
        s.lambda = 0.0;
        s.weighted_lambda = false;
    }
    return s;
}

bool dual_form(const RowSolveSpec& s, std::int64_t n) {
    if (s.implicit || s.prior || n == 0) return false;
    const int d = s.rank + (s.learn_bias ? 1 : 0);
    switch (s.form) {
        case RowForm::Primal: return false;
        case RowForm::Dual: return true;
        case RowForm::Auto: break;
    }
    return n < d && s.lambda > 0;
}

// One thread's buffers, reused from row to row.
struct RowWork {
    std::vector<double> G, t, A, b, sum;
};

int round8(int n) { return (n + 7) / 8 * 8; }

// Grows a reused buffer, never shrinks it: primal and dual rows alternate, and every regrowth
// would zero the new part.
template <class T>
T* at_least(std::vector<T>& v, std::size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
}

// Accumulates the lower triangle of A += G G^T, G d x n column-major with leading dimension ld,
// A with leading dimension lda.
void gram_lower(int d, int n, const double* G, int ld, double beta, double* A, int lda) {
    const double one = 1.0;
    for (int j0 = 0; j0 < d; j0 += kPanel) {
        const int width = std::min(kPanel, d - j0), height = d - j0;
        dgemm_("N", "T", &height, &width, &n, &one, G + j0, &ld, G + j0, &ld, &beta,
               A + static_cast<std::size_t>(j0) * lda + j0, &lda);
    }
}

// The Gram without BLAS: M[:, c] (+)= sum_e y_e G[c, e] for the k Gram columns (lower triangle)
// and the `tail` (0, 1 or 2) columns after them ([1,] t), y_e = G[0:k, e], G column-major (ld rows
// a column, a multiple of 4 covering k + tail). A row's Gram is small (k x k over its ratings): a
// dgemm call per chunk or panel is mostly fixed cost there -- packing both operands, and a buffer
// taken under OpenBLAS's allocation lock, which threads calling it row after row contend for: a
// Bayesian MF sweep on MovieLens u1 at k = 12 spent a third of its time in dgemm, and its two
// threads ran barely faster than one, on an AMD EPYC VM. Tiles of NR 4-double row vectors by W
// columns, from each column block's diagonal down: at most 12 accumulators, in registers on AVX2
// and AVX-512 alike. Each entry is summed over e in order (in two interleaved halves where a tile
// has too few accumulators to cover the FMA latency): the same bits whichever thread or rank
// computes a row.
template <int NR, int W>
[[gnu::always_inline]] inline void gram_tile(const double* G, int ld, int m, int row0, int c0, int c_end, bool add, double* M,
                                             int ldm) {
    constexpr int S = W * NR < 8 ? 2 : 1;
    V4d acc[S][W][NR];
    for (int h = 0; h < S; ++h)
        for (int j = 0; j < W; ++j)
            for (int r = 0; r < NR; ++r)
                acc[h][j][r] = h == 0 && add && c0 + j < c_end
                                   ? *reinterpret_cast<const V4d*>(M + static_cast<std::size_t>(c0 + j) * ldm + row0 + 4 * r)
                                   : V4d{};
    // Always inlined, as the CG products below: a lambda is compiled for the baseline CPU, so one
    // left out of line (the sanitizer build does that at -O2) runs without FMA in every clone.
    const auto step = [&](int h, int e) __attribute__((always_inline)) {
        const double* g = G + static_cast<std::size_t>(e) * ld;
        V4d y[NR];
        for (int r = 0; r < NR; ++r) y[r] = *reinterpret_cast<const V4d*>(g + row0 + 4 * r);
        for (int j = 0; j < W; ++j) {
            const double b = g[c0 + j];
            for (int r = 0; r < NR; ++r) acc[h][j][r] += y[r] * b;
        }
    };
    int e = 0;
    for (; e + S <= m; e += S)
        for (int h = 0; h < S; ++h) step(h, e + h);
    for (; e < m; ++e) step(0, e);
    for (int j = 0; j < W && c0 + j < c_end; ++j)
        for (int r = 0; r < NR; ++r) {
            V4d v = acc[0][j][r];
            if constexpr (S == 2) v += acc[1][j][r];
            *reinterpret_cast<V4d*>(M + static_cast<std::size_t>(c0 + j) * ldm + row0 + 4 * r) = v;
        }
}

// Rows [row0, row_end) (row_end a multiple of 4) of columns [c0, c0 + W), tiles of at most 3 vectors.
template <int W>
[[gnu::always_inline]] inline void gram_columns(const double* G, int ld, int m, int row0, int row_end, int c0, int c_end,
                                                bool add, double* M, int ldm) {
    for (; row0 < row_end; row0 += 12) {
        switch (std::min(3, (row_end - row0) / 4)) {
            case 3: gram_tile<3, W>(G, ld, m, row0, c0, c_end, add, M, ldm); break;
            case 2: gram_tile<2, W>(G, ld, m, row0, c0, c_end, add, M, ldm); break;
            default: gram_tile<1, W>(G, ld, m, row0, c0, c_end, add, M, ldm); break;
        }
    }
}

// M (ldm rows a column, a multiple of 4 at least k): the k x (k + tail) product G[0:k] G[0:k+tail]^T
// (the Gram's lower triangle, then [sum y_e,] G t), added to M's or in place of it.
[[gnu::always_inline]] inline void row_gram(int k, int tail, int m, const double* G, int ld, bool add, double* M, int ldm) {
    const int rows = (k + 3) / 4 * 4;
    for (int c0 = 0; c0 < k; c0 += 4) gram_columns<4>(G, ld, m, c0, rows, c0, k, add, M, ldm);  // rows above c0: not needed
    if (tail == 1) gram_columns<1>(G, ld, m, 0, rows, k, k + 1, add, M, ldm);
    else if (tail == 2) gram_columns<2>(G, ld, m, 0, rows, k, k + 2, add, M, ldm);
}

double regularisation(const RowSolveSpec& s, int n) { return s.weighted_lambda ? s.lambda * n : s.lambda; }

// A factor row into the gathered column, inline: std::copy_n of k doubles became a call to
// memmove (and a vzeroupper) per rating, a tenth of a k = 12 Bayesian MF sweep.
template <class V, class T>
[[gnu::always_inline]] inline void copy_row_by(const T* from, int k, T* to) {
    constexpr int L = static_cast<int>(sizeof(V) / sizeof(T));
    int c = 0;
#pragma GCC unroll 4
    for (; c + L <= k; c += L) *reinterpret_cast<V*>(to + c) = *reinterpret_cast<const V*>(from + c);
    for (; c < k; ++c) to[c] = from[c];
}
[[gnu::always_inline]] inline void copy_row(const double* from, int k, double* to) { copy_row_by<V4d>(from, k, to); }
[[gnu::always_inline]] inline void copy_row(const float* from, int k, float* to) { copy_row_by<V8f>(from, k, to); }

// Rating p's part left to the factors: v - offset - other_bias_j (in double).
template <class T>
[[gnu::always_inline]] inline double residual(const Csr& rows, std::int64_t p, std::int64_t j, const std::vector<T>& other_bias,
                                              const RowSolveSpec& s) {
    return rows.val[p] - s.offset - (other_bias.empty() ? 0.0 : static_cast<double>(other_bias[static_cast<std::size_t>(j)]));
}

// Gathers ratings [e0, e0 + m) of row r: column e of G (leading dimension ld) starts with y_j
// (k values); t[e * t_stride] = v - offset - other_bias_j.
// Inlined into each kernel (and so into each of its clones), in the kernel's precision T.
template <class T>
[[gnu::always_inline]] inline void gather(const Csr& rows, std::int64_t r, int e0, int m, const std::vector<T>& Y,
                                          const std::vector<T>& other_bias, const RowSolveSpec& s, T* G, int ld, T* t, int t_stride) {
    const int k = s.rank;
    const auto p0 = rows.ptr[r] + e0, p_last = rows.ptr[rows.rows()];
    for (int e = 0; e < m; ++e) {
        const auto p = p0 + e;
        const std::int64_t j = rows.col[p];
        if (p + kPrefetch < p_last) {  // the other side's matrix rarely fits in cache: fetch ahead,
            const T* ahead = Y.data() + static_cast<std::int64_t>(rows.col[p + kPrefetch]) * k;  // into the next row too
            for (int c = 0; c < k; c += 64 / static_cast<int>(sizeof(T))) __builtin_prefetch(ahead + c);
        }
        copy_row(Y.data() + j * k, k, G + static_cast<std::size_t>(e) * ld);
        t[static_cast<std::size_t>(e) * t_stride] = static_cast<T>(residual(rows, p, j, other_bias, s));
    }
}

}  // namespace

bool uses_dual_form(const NormalEquations& eq, const RowSolver& how, std::int64_t n) {
    return dual_form(flatten(eq, how), n);
}

namespace {

// Row r's k = 12 Gram and G t (no bias: Bayesian MF's default) in one pass over its ratings, read
// straight from Y -- no gathered copy, no second pass over it -- with 8-double vectors. The
// general path gathers each chunk (a copy of every y_j) and runs four tile passes over it; in a
// Bayesian MF run on MovieLens u1 (2 threads) the gather took about 17 ms and the tiles 25 ms of
// 112 ms of training. Every entry is summed as row_gram sums it (its tiles: columns 0-7 over the
// ratings in order; columns 8-11 and G t in two interleaved halves, folded every kChunk ratings
// as its chunks fold them), so the bits are those of the general path's AVX2 and AVX-512 clones:
// a chain does not change with the CPU. Its 28 accumulators need AVX-512's 32 vector registers.
// Training took 104 ms instead of 113 and the whole run 0.1325 s instead of 0.144 (12 runs
// interleaved). M: column-major, ldm >= 12; columns 0-11 (the Gram's lower triangle, rows from
// 0, 4 and 8 as row_gram's tiles write them) and column 12 (G t).
#if DISTCF_HAVE_AVX512_KERNELS
using V8d = double __attribute__((vector_size(64), aligned(8)));

// gram12_direct's sums, in registers once its helpers are inlined.
struct Gram12Sums {
    V8d lo[8] = {}, t_lo[2] = {};                  // rows 0-7: columns 0-7; G t in two halves
    V4d hi[8] = {}, tail[2][4] = {}, t_hi[2] = {};  // rows 8-11: columns 0-7; 8-11 and G t in halves
};

// One rating (its factor row y, its residual t) into the sums, half h. The helpers carry the
// kernel's target themselves, and no lambda does the work: a lambda inside the kernel is compiled
// for the baseline CPU, and where it was not inlined (the sanitizer build, -O2) it multiplied and
// added without FMA -- other bits than the general path's.
[[gnu::always_inline]] DISTCF_AVX512_KERNEL inline void gram12_add(Gram12Sums& a, int h, const double* y, double t) {
    const V8d lo = *reinterpret_cast<const V8d*>(y);
    const V4d hi = *reinterpret_cast<const V4d*>(y + 8);
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) {
        a.lo[c] += lo * y[c];
        a.hi[c] += hi * y[c];
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) a.tail[h][c] += hi * y[8 + c];
    a.t_lo[h] += lo * t;
    a.t_hi[h] += hi * t;
}

// The second half into the first, as row_gram's tiles fold theirs at the end of each chunk.
[[gnu::always_inline]] DISTCF_AVX512_KERNEL inline void gram12_fold(Gram12Sums& a) {
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
        a.tail[0][c] += a.tail[1][c];
        a.tail[1][c] = V4d{};
    }
    a.t_lo[0] += a.t_lo[1];
    a.t_hi[0] += a.t_hi[1];
    a.t_lo[1] = V8d{};
    a.t_hi[1] = V4d{};
}

// Rating p of the row into half h, fetching ahead as gather does.
[[gnu::always_inline]] DISTCF_AVX512_KERNEL inline void gram12_rating(Gram12Sums& a, int h, const Csr& rows, std::int64_t p,
                                                                     std::int64_t p_last, const double* Y,
                                                                     const std::vector<double>& other_bias, const RowSolveSpec& s) {
    if (p + kPrefetch < p_last) {
        const double* ahead = Y + static_cast<std::int64_t>(rows.col[p + kPrefetch]) * 12;
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + 8);
    }
    const std::int64_t j = rows.col[p];
    gram12_add(a, h, Y + j * 12, residual(rows, p, j, other_bias, s));
}

DISTCF_AVX512_KERNEL void gram12_direct(const Csr& rows, std::int64_t r, const std::vector<double>& Y,
                                        const std::vector<double>& other_bias, const RowSolveSpec& s, double* M, int ldm) {
    Gram12Sums a;
    const double* Yd = Y.data();
    const std::int64_t p0 = rows.ptr[r], p_end = rows.ptr[r + 1], p_last = rows.ptr[rows.rows()];
    for (std::int64_t c0 = p0; c0 < p_end; c0 += kChunk) {
        // Ratings alternate between the halves from the chunk's start; an odd last one goes to
        // the first, as in row_gram. h is a constant at each call: the halves stay in registers.
        const std::int64_t c1 = std::min<std::int64_t>(c0 + kChunk, p_end);
        std::int64_t p = c0;
        for (; p + 2 <= c1; p += 2) {
            gram12_rating(a, 0, rows, p, p_last, Yd, other_bias, s);
            gram12_rating(a, 1, rows, p + 1, p_last, Yd, other_bias, s);
        }
        if (p < c1) gram12_rating(a, 0, rows, p, p_last, Yd, other_bias, s);
        gram12_fold(a);
    }
    for (int c = 0; c < 8; ++c) {
        double* col = M + static_cast<std::size_t>(c) * ldm;
        double lanes[8];
        *reinterpret_cast<V8d*>(lanes) = a.lo[c];
        for (int q = c < 4 ? 0 : 4; q < 8; ++q) col[q] = lanes[q];  // row_gram's tiles start at row 0 or 4
        *reinterpret_cast<V4d*>(col + 8) = a.hi[c];
    }
    for (int c = 0; c < 4; ++c) *reinterpret_cast<V4d*>(M + static_cast<std::size_t>(8 + c) * ldm + 8) = a.tail[0][c];
    *reinterpret_cast<V8d*>(M + static_cast<std::size_t>(12) * ldm) = a.t_lo[0];
    *reinterpret_cast<V4d*>(M + static_cast<std::size_t>(12) * ldm + 8) = a.t_hi[0];
}

bool has_avx512() {
    static const bool yes = CpuVector::detect().avx512;
    return yes;
}
#else
// Not built by this compiler: has_avx512() says no, so assemble never calls it.
bool has_avx512() { return false; }
void gram12_direct(const Csr&, std::int64_t, const std::vector<double>&, const std::vector<double>&, const RowSolveSpec&, double*,
                   int) {
    DISTCF_THROW(InternalError, "gram12_direct: not built for this compiler");
}
#endif

// Row r's normal equations in the primal form: A (d x d, lower triangle, leading dimension lda =
// d rounded up to 8) = G G^T + reg I with G = [Y_j; 1 (when learning the bias)], b = G t. Rows are
// gathered kChunk at a time, one contiguous copy each, and every chunk goes into the Gram by BLAS-3
// (SPARK-6685), never rating by rating. Each gathered column is [y_j; 1; t_e]: the k x k Gram runs
// on k aligned rows, and one k x 2 product gives the bias row and G t.
DISTCF_CLONES void assemble(const Csr& rows, std::int64_t r, const std::vector<double>& Y, const std::vector<double>& other_bias,
              const RowSolveSpec& s, RowWork& w, int& lda, AssemblyPath path = AssemblyPath::Auto) {
    const int k = s.rank, nb = s.learn_bias ? 1 : 0, d = k + nb, ld = round8(d + 1);
    lda = round8(d);
    const int n = static_cast<int>(rows.ptr[r + 1] - rows.ptr[r]);
    const int tail = 1 + nb;
    // Up to kFusedGram: the Gram and [sum y_j,] G t in one pass of row_gram, G [y; 1; t]^T (k x (k +
    // tail), the extra columns after A's), no BLAS call.
    const bool fused = k <= kFusedGram;
    at_least(w.G, static_cast<std::size_t>(kChunk) * ld);
    at_least(w.A, static_cast<std::size_t>(lda) * (fused ? k + tail : d));
    at_least(w.sum, 2 * static_cast<std::size_t>(k));  // k x (1 + nb), column-major: [sum y_j,] G t
    const double one = 1.0;
    double sum_t = 0;
    if (k == 12 && nb == 0 && path == AssemblyPath::Auto && has_avx512()) {  // what the loop below writes, in one pass
        gram12_direct(rows, r, Y, other_bias, s, w.A.data(), lda);
    } else {
        for (int e0 = 0; e0 < n; e0 += kChunk) {
            const int m = std::min(kChunk, n - e0);
            double* G = w.G.data();
            gather(rows, r, e0, m, Y, other_bias, s, G, ld, G + d, ld);
            if (nb)  // the bias row and sum t (a serial chain of adds: only where a bias needs it)
                for (int e = 0; e < m; ++e) {
                    G[static_cast<std::size_t>(e) * ld + k] = 1.0;
                    sum_t += G[static_cast<std::size_t>(e) * ld + d];
                }
            const double beta = e0 == 0 ? 0.0 : 1.0;
            if (fused) {
                row_gram(k, tail, m, G, ld, e0 > 0, w.A.data(), lda);
            } else {
                gram_lower(k, m, G, ld, beta, w.A.data(), lda);
                // [sum y_j, G t] (with a bias) or G t in one product against the rows after y_j: [1;] t.
                dgemm_("N", "T", &k, &tail, &m, &one, G, &ld, G + k, &ld, &beta, w.sum.data(), &k);
            }
        }
    }
    if (fused)  // the product's extra columns, before the bias row overwrites the first of them
        for (int q = 0; q < tail; ++q)
            std::copy_n(w.A.begin() + static_cast<std::ptrdiff_t>(k + q) * lda, k, w.sum.begin() + static_cast<std::ptrdiff_t>(q) * k);
    const double* Gt = w.sum.data() + static_cast<std::size_t>(nb) * k;
    w.b.assign(Gt, Gt + k);
    if (nb) {
        for (int c = 0; c < k; ++c) w.A[static_cast<std::size_t>(c) * lda + k] = w.sum[c];
        w.A[static_cast<std::size_t>(k) * lda + k] = n;
        w.b.push_back(sum_t);
    }
    const double reg = regularisation(s, n);
    for (int c = 0; c < d; ++c) w.A[static_cast<std::size_t>(c) * lda + c] += reg;
}

// The Bayesian row: A = Lambda + alpha G G^T, b = alpha G t + Lambda mu, from the assembled Gram
// and right-hand side (zero for a row without ratings: then the prior alone).
void apply_prior(const RowSolveSpec& s, std::int64_t n, RowWork& w, int lda) {
    const int k = s.rank;
    const double alpha = s.prior->noise_precision;
    const std::vector<double>& L = *s.prior->precision;
    const std::vector<double>& m = *s.prior->shift;
    if (n == 0) {
        at_least(w.A, static_cast<std::size_t>(lda) * k);
        w.b.assign(static_cast<std::size_t>(k), 0.0);
        for (int c = 0; c < k; ++c)
            for (int q = c; q < k; ++q) w.A[static_cast<std::size_t>(c) * lda + q] = 0.0;
    }
    for (int c = 0; c < k; ++c) {
        double* col = w.A.data() + static_cast<std::size_t>(c) * lda;
        const double* prior = L.data() + static_cast<std::size_t>(c) * k;
        for (int q = c; q < k; ++q) col[q] = alpha * col[q] + prior[q];
        w.b[static_cast<std::size_t>(c)] = alpha * w.b[static_cast<std::size_t>(c)] + m[static_cast<std::size_t>(c)];
    }
}

// A row with fewer ratings than unknowns, solved in the dual form: (G G^T + reg I)^{-1} G t =
// G (G^T G + reg I)^{-1} t for reg > 0, so an n x n system (n = the row's ratings) replaces the
// d x d one: n^2 d + n^3 / 3 flops instead of n d^2 + d^3 / 3. With a bias, G^T G = Y_j^T Y_j + 1.
// Returns cholesky_lower's info; writes [factors; bias] to x (d values).
DISTCF_CLONES int solve_dual(const Csr& rows, std::int64_t r, const std::vector<double>& Y, const std::vector<double>& other_bias,
               const RowSolveSpec& s, RowWork& w, double* x) {
    const int k = s.rank;
    const int n = static_cast<int>(rows.ptr[r + 1] - rows.ptr[r]), ldk = round8(n);
    // The rows' factors gathered transposed, H = G^T (n x k, column c: y_j[c] of every rating):
    // K = G^T G = sum_c h_c h_c^T is then row_gram's product over k columns, no BLAS call.
    at_least(w.G, static_cast<std::size_t>(k) * ldk);
    at_least(w.t, static_cast<std::size_t>(n));
    at_least(w.A, static_cast<std::size_t>(ldk) * n);
    double* H = w.G.data();
    for (int e = 0; e < n; ++e) {
        const auto p = rows.ptr[r] + e;
        const std::int64_t j = rows.col[p];
        const double* y = Y.data() + j * k;
        for (int c = 0; c < k; ++c) H[static_cast<std::size_t>(c) * ldk + e] = y[c];
        w.t[static_cast<std::size_t>(e)] = residual(rows, p, j, other_bias, s);
    }
    row_gram(n, 0, k, H, ldk, false, w.A.data(), ldk);
    const double reg = regularisation(s, n), add = s.learn_bias ? 1.0 : 0.0;
    for (int c = 0; c < n; ++c) {
        double* col = w.A.data() + static_cast<std::size_t>(c) * ldk;
        for (int q = c; q < n; ++q) col[q] += add;
        col[c] += reg;
    }
    const int info = cholesky_lower(n, w.A.data(), ldk);
    if (info != 0) return info;
    cholesky_solve_lower(n, w.A.data(), ldk, w.t.data());
    for (int c = 0; c < k; ++c) {  // x = G z
        const double* h = H + static_cast<std::size_t>(c) * ldk;
        double v = 0;
        for (int e = 0; e < n; ++e) v += w.t[static_cast<std::size_t>(e)] * h[e];
        x[c] = v;
    }
    if (s.learn_bias) {
        double bias = 0;
        for (int e = 0; e < n; ++e) bias += w.t[static_cast<std::size_t>(e)];
        x[k] = bias;
    }
    return 0;
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
            const double c = confidence(s.terms, rows.val[p]), w = std::sqrt(c - 1.0);
            double* g = G.data() + static_cast<std::size_t>(e) * ld;
            for (int q = 0; q < k; ++q) {
                g[q] = w * y[q];
                b[q] += c * y[q];
            }
        }
        gram_lower(k, m, G.data(), ld, 1.0, A.data(), k);
    }
    for (int c = 0; c < k; ++c) A[static_cast<std::size_t>(c) * k + c] += s.lambda;
}

// `steps` conjugate-gradient steps on A x = b from the x given (warm start); `apply(v, out)`
// computes out = A v; res, dir and ad are n-value scratch. Stops early at a zero residual.
// __restrict: without it GCC versions these loops on a run-time overlap test of the buffers'
// addresses, and its scalar fallback contracts `rr += res * res` into an FMA where the vector path
// multiplies and then adds -- so the bits depended on where the heap put x (a 2-rank run differed
// from the 1-rank one about 1 run in 25; SinglePrecision.AlsGivesTheSameBits...).
template <class T, class Apply>
[[gnu::always_inline]] inline void cg_steps(int n, int steps, T* __restrict x, const T* __restrict b, T* __restrict res,
                                            T* __restrict dir, T* __restrict ad, const Apply& apply) {
    apply(x, ad);
    T rr = 0;
    for (int i = 0; i < n; ++i) {
        res[i] = b[i] - ad[i];
        dir[i] = res[i];
        rr += res[i] * res[i];
    }
    for (int step = 0; step < steps && rr > 0; ++step) {
        apply(dir, ad);
        T pap = 0;
        for (int i = 0; i < n; ++i) pap += dir[i] * ad[i];
        if (!(pap > 0)) break;
        const T a = rr / pap;
        T rr_new = 0;
        for (int i = 0; i < n; ++i) {
            x[i] += a * dir[i];
            res[i] -= a * ad[i];
            rr_new += res[i] * res[i];
        }
        const T beta = rr_new / rr;
        rr = rr_new;
        for (int i = 0; i < n; ++i) dir[i] = res[i] + beta * dir[i];
    }
}

// Conjugate gradient on the implicit normal equations from x (the row's current factors), without
// forming A: A p = Y^T Y p + sum_j (c_j - 1)(y_j . p) y_j + lambda p. The row's y_j are gathered
// once (contiguous), so each step costs O(n_r k + k^2). T: the precision of factors, Y^T Y and
// every sum (float: --precision single).
template <class T>
[[gnu::always_inline]] inline void cg_implicit_body(const Csr& rows, std::int64_t r, const std::vector<T>& Y, const T* YtY,
                                                    const RowSolveSpec& s, T* x, std::vector<T>& G, std::vector<T>& work) {
    const int k = s.rank;
    const auto p0 = rows.ptr[r];
    const int n = static_cast<int>(rows.ptr[r + 1] - p0);
    at_least(G, static_cast<std::size_t>(n) * k);
    work.assign(static_cast<std::size_t>(4 * k + n), T(0));
    T *res = work.data(), *dir = res + k, *ad = dir + k, *bvec = ad + k, *w = bvec + k;
    for (int e = 0; e < n; ++e) {
        const T* y = Y.data() + static_cast<std::int64_t>(rows.col[p0 + e]) * k;
        const T c = static_cast<T>(confidence(s.terms, rows.val[p0 + e]));
        w[e] = c - T(1);
        std::copy_n(y, k, G.data() + static_cast<std::size_t>(e) * k);
#pragma omp simd
        for (int i = 0; i < k; ++i) bvec[i] += c * y[i];
    }
    const T lambda = static_cast<T>(s.lambda);
    const auto apply = [&](const T* v, T* out) __attribute__((always_inline)) {
        for (int i = 0; i < k; ++i) {  // Y^T Y is symmetric: row i is the contiguous column i
            const T* gi = YtY + static_cast<std::size_t>(i) * k;
            T t = 0;
#pragma omp simd reduction(+ : t)
            for (int j = 0; j < k; ++j) t += gi[j] * v[j];
            out[i] = t + lambda * v[i];
        }
        for (int e = 0; e < n; ++e) {
            const T* y = G.data() + static_cast<std::size_t>(e) * k;
            T dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int i = 0; i < k; ++i) dot += y[i] * v[i];
            const T f = w[e] * dot;
#pragma omp simd
            for (int i = 0; i < k; ++i) out[i] += f * y[i];
        }
    };
    cg_steps(k, s.cg_steps, x, bvec, res, dir, ad, apply);
}

// One clone set per precision (target_clones does not take templates).
DISTCF_CLONES void cg_implicit(const Csr& rows, std::int64_t r, const std::vector<double>& Y, const double* YtY,
                               const RowSolveSpec& s, double* x, std::vector<double>& G, std::vector<double>& work) {
    cg_implicit_body(rows, r, Y, YtY, s, x, G, work);
}
DISTCF_CLONES void cg_implicit(const Csr& rows, std::int64_t r, const std::vector<float>& Y, const float* YtY,
                               const RowSolveSpec& s, float* x, std::vector<float>& G, std::vector<float>& work) {
    cg_implicit_body(rows, r, Y, YtY, s, x, G, work);
}

// Explicit rows by conjugate gradient (Takacs et al. 2011; as implicit ALS): the system
// (G^T G + reg I) x = G^T t, G = [y_j, 1 (bias)] over the row's ratings, is never formed -- each
// step multiplies by G and G^T, 4 n d flops instead of the Gram's n d^2 and Cholesky's d^3 / 3.
// x (d values: factors, then the bias) holds the row's current solution on entry (warm start).
template <class T>
[[gnu::always_inline]] inline void cg_explicit_body(const Csr& rows, std::int64_t r, const std::vector<T>& Y,
                                                    const std::vector<T>& other_bias, const RowSolveSpec& s, T* x,
                                                    std::vector<T>& G, std::vector<T>& work) {
    const int k = s.rank, nb = s.learn_bias ? 1 : 0, d = k + nb, ld = round8(d);
    const int n = static_cast<int>(rows.ptr[r + 1] - rows.ptr[r]);
    at_least(G, static_cast<std::size_t>(n) * ld);
    work.assign(static_cast<std::size_t>(4 * d + n), T(0));
    T *res = work.data(), *dir = res + d, *ad = dir + d, *bvec = ad + d, *t = bvec + d;
    gather(rows, r, 0, n, Y, other_bias, s, G.data(), ld, t, 1);
    for (int e = 0; e < n; ++e) {
        T* g = G.data() + static_cast<std::size_t>(e) * ld;
        if (nb) g[k] = T(1);
        for (int c = 0; c < d; ++c) bvec[c] += t[e] * g[c];
    }
    const T reg = static_cast<T>(regularisation(s, n));
    // out = G^T (G v) + reg v, one rating at a time: its dot with v, then that times its row. Own
    // loops, not BLAS gemv: OpenBLAS's sgemv gave last-bit differences between calls on the same
    // input (the runs were not reproducible), and these are as fast here (0.70-0.83 s a sweep
    // against 1.0-1.1 at k = 64 on 8.6M ratings).
    const auto apply = [&](const T* v, T* out) __attribute__((always_inline)) {  // out = G^T (G v) + reg v
        for (int c = 0; c < d; ++c) out[c] = reg * v[c];
        for (int e = 0; e < n; ++e) {
            const T* g = G.data() + static_cast<std::size_t>(e) * ld;
            T dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int c = 0; c < d; ++c) dot += g[c] * v[c];
#pragma omp simd
            for (int c = 0; c < d; ++c) out[c] += dot * g[c];
        }
    };
    cg_steps(d, s.cg_steps, x, bvec, res, dir, ad, apply);
}

DISTCF_CLONES void cg_explicit(const Csr& rows, std::int64_t r, const std::vector<double>& Y, const std::vector<double>& other_bias,
                               const RowSolveSpec& s, double* x, std::vector<double>& G, std::vector<double>& work) {
    cg_explicit_body(rows, r, Y, other_bias, s, x, G, work);
}
DISTCF_CLONES void cg_explicit(const Csr& rows, std::int64_t r, const std::vector<float>& Y, const std::vector<float>& other_bias,
                               const RowSolveSpec& s, float* x, std::vector<float>& G, std::vector<float>& work) {
    cg_explicit_body(rows, r, Y, other_bias, s, x, G, work);
}

}  // namespace

// Row indices, longest row first: handed out a few at a time (rows_per_grab), the costliest rows
// start first and the last ones to finish are short, so threads end together (rows of popular items
// cost 100x those of rare ones). The order changes who solves a row, never its arithmetic.
std::vector<std::int64_t> longest_first(const Csr& rows) {
    const std::int64_t n = rows.rows();
    std::int64_t longest = 0;
    for (std::int64_t r = 0; r < n; ++r) longest = std::max(longest, rows.row_nnz(r));
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    if (longest > 4 * n + 4096) {  // lengths spread far wider than the rows are many: compare
        for (std::int64_t r = 0; r < n; ++r) order[static_cast<std::size_t>(r)] = r;
        std::stable_sort(order.begin(), order.end(),
                         [&](std::int64_t a, std::int64_t b) { return rows.row_nnz(a) > rows.row_nnz(b); });
        return order;
    }
    // Otherwise a counting sort, stable as the comparison sort was: this runs at every half-step,
    // and the comparison sort with its lookups through the row pointers took about 2% of a Bayesian
    // MF sweep on MovieLens u1 (1,650 rows), on the one thread that had to finish it first.
    std::vector<std::int64_t> at(static_cast<std::size_t>(longest + 2), 0);  // by longest - length
    for (std::int64_t r = 0; r < n; ++r) ++at[static_cast<std::size_t>(longest - rows.row_nnz(r) + 1)];
    for (std::size_t b = 1; b < at.size(); ++b) at[b] += at[b - 1];
    for (std::int64_t r = 0; r < n; ++r) order[static_cast<std::size_t>(at[static_cast<std::size_t>(longest - rows.row_nnz(r))]++)] = r;
    return order;
}

int rows_per_grab(std::int64_t rows, int threads) {
    return static_cast<int>(std::clamp<std::int64_t>(rows / (16 * std::max(threads, 1)), 1, 16));
}

double confidence(const ImplicitTerms& t, double r) {
    return t.scale == ConfidenceScale::Log ? 1.0 + t.alpha * std::log1p(r / t.epsilon) : 1.0 + t.alpha * r;
}

namespace {

// Sums chunk Grams in chunk order (k x k each, held in `all` rank by rank: chunk c at `slot(c)`),
// then fills the upper triangle.
template <class Slot>
std::vector<double> add_chunks(const std::vector<double>& all, std::int64_t chunks, int k, const Slot& slot) {
    const std::size_t kk = static_cast<std::size_t>(k) * static_cast<std::size_t>(k);
    std::vector<double> g(kk, 0.0);
    for (std::int64_t c = 0; c < chunks; ++c) {  // chunk order, whoever computed it
        const double* part = all.data() + slot(c) * kk;
        for (std::size_t e = 0; e < kk; ++e) g[e] += part[e];
    }
    for (int c = 0; c < k; ++c)
        for (int q = c + 1; q < k; ++q) g[static_cast<std::size_t>(q) * k + c] = g[static_cast<std::size_t>(c) * k + q];
    return g;
}

// The Grams of chunks first, first + stride, ... (n of them) of the rows held from `base` on
// (global row `base_row` first), into `out` (k x k each, lower triangle).
void chunk_grams(const double* base, std::int64_t base_row, std::int64_t first, std::int64_t n, std::int64_t stride,
                 std::int64_t total, int k, double* out) {
    const std::size_t kk = static_cast<std::size_t>(k) * static_cast<std::size_t>(k);
    SingleThreadedBlas one_thread;
#pragma omp parallel for schedule(dynamic, 1) if (worth_threads(static_cast<double>(n) * kGramChunkRows * k * k))
    for (std::int64_t q = 0; q < n; ++q) {
        const std::int64_t c = first + q * stride, r0 = c * kGramChunkRows, rows = std::min(kGramChunkRows, total - r0);
        // Row-major rows x k is column-major k x rows: the rows are G's columns.
        gram_lower(k, static_cast<int>(rows), base + (r0 - base_row) * k, k, 0.0, out + static_cast<std::size_t>(q) * kk, k);
    }
}

}  // namespace

std::vector<double> replicated_gram(const std::vector<double>& Y, std::int64_t rows, int k, const Comm& comm) {
    const std::int64_t chunks = (rows + kGramChunkRows - 1) / kGramChunkRows;
    const int P = comm.size(), me = comm.rank();
    const std::size_t kk = static_cast<std::size_t>(k) * static_cast<std::size_t>(k);
    // Chunk c is computed by rank c % P; the allgather below wants each rank's chunks contiguous.
    std::vector<std::int64_t> per_rank(static_cast<std::size_t>(P), 0);
    for (std::int64_t c = 0; c < chunks; ++c) ++per_rank[static_cast<std::size_t>(c % P)];
    std::vector<std::int64_t> offsets(static_cast<std::size_t>(P) + 1, 0);
    for (int p = 0; p < P; ++p) offsets[p + 1] = offsets[p] + per_rank[p];
    std::vector<double> all(static_cast<std::size_t>(chunks) * kk, 0.0);
    chunk_grams(Y.data(), 0, me, per_rank[static_cast<std::size_t>(me)], P, rows, k, all.data() + offsets[me] * kk);
    comm.allgather_blocks(all.data(), BlockPartition(offsets), static_cast<std::int64_t>(kk));
    return add_chunks(all, chunks, k, [&](std::int64_t c) { return offsets[static_cast<std::size_t>(c % P)] + c / P; });
}

std::vector<double> owned_gram(const double* own, const BlockPartition& part, int k, const Comm& comm) {
    const std::int64_t total = part.total(), chunks = (total + kGramChunkRows - 1) / kGramChunkRows;
    const int P = comm.size(), me = comm.rank();
    const std::size_t kk = static_cast<std::size_t>(k) * static_cast<std::size_t>(k);
    // Rank p computes the chunks whose first row lies in its block: [first(p), first(p + 1)).
    const auto first = [&](int p) { return (part.begin(p) + kGramChunkRows - 1) / kGramChunkRows; };
    std::vector<std::int64_t> offsets(static_cast<std::size_t>(P) + 1, 0);
    for (int p = 0; p < P; ++p) offsets[p + 1] = p + 1 < P ? std::min(first(p + 1), chunks) : chunks;
    std::vector<double> all(static_cast<std::size_t>(chunks) * kk, 0.0);
    const std::int64_t mine = offsets[me + 1] - offsets[me];
    if (mine > 0)
        chunk_grams(own, part.begin(me), offsets[me], mine, 1, total, k, all.data() + offsets[me] * kk);
    comm.allgather_blocks(all.data(), BlockPartition(offsets), static_cast<std::int64_t>(kk));
    return add_chunks(all, chunks, k, [](std::int64_t c) { return c; });
}

void row_normal_equations(const Csr& rows, std::int64_t r, const std::vector<double>& Y,
                          const std::vector<double>& other_bias, const NormalEquations& eq, std::vector<double>& A,
                          std::vector<double>& b, AssemblyPath path) {
    const RowSolveSpec spec = flatten(eq, RowSolver{});
    SingleThreadedBlas one_thread;
    std::vector<double> Aa;
    int lda = 0;
    if (spec.implicit) {
        std::vector<double> G;
        assemble_implicit(rows, r, Y, spec, G, Aa, b);
        lda = spec.rank;
    } else {
        RowWork w;
        assemble(rows, r, Y, other_bias, spec, w, lda, path);
        if (spec.prior) apply_prior(spec, rows.ptr[r + 1] - rows.ptr[r], w, lda);
        Aa = std::move(w.A);
        b = std::move(w.b);
    }
    const auto d = b.size();  // the solver reads the lower triangle; mirror it
    A.assign(d * d, 0.0);
    for (std::size_t c = 0; c < d; ++c)
        for (std::size_t q = c; q < d; ++q) A[c * d + q] = A[q * d + c] = Aa[c * lda + q];
}

namespace {

// What every solve_rows call checks before any row is touched.
void check_request(const Csr& rows, const RowSolveSpec& s) {
    if (s.rank < 1 || s.rank > 4096) DISTCF_THROW(InputError, "factors: must be in [1, 4096]");
    if (s.prior && (s.implicit || s.learn_bias || !s.prior->precision || !s.prior->shift ||
                    s.prior->precision->size() != static_cast<std::size_t>(s.rank) * s.rank ||
                    s.prior->shift->size() != static_cast<std::size_t>(s.rank)))
        DISTCF_THROW(InputError, "solve_rows: a Gaussian prior needs Lambda (k x k) and Lambda mu (k), no biases");
    if (s.draw && (!s.prior || s.cg_steps > 0))
        DISTCF_THROW(InputError, "solve_rows: draws need a Gaussian prior and exact (Cholesky) solves");
    // The kernels count a row's ratings in int (BLAS's and LAPACK's type): checked once here.
    for (std::int64_t r = 0; r < rows.rows(); ++r)
        if (rows.row_nnz(r) > std::numeric_limits<int>::max())
            DISTCF_THROW(InputError, "solve_rows: row " + std::to_string(rows.row0 + r) + " has " + std::to_string(rows.row_nnz(r)) +
                                         " ratings, more than the 2^31 - 1 a row solve takes");
    if (!s.implicit && s.cg_steps > 0 && (s.prior || s.draw))
        DISTCF_THROW(InputError, "solve_rows: conjugate gradient solves plain explicit or implicit equations, not a prior's");
    if (s.implicit && (s.gram == nullptr || s.gram->size() != static_cast<std::size_t>(s.rank) * s.rank || s.learn_bias))
        DISTCF_THROW(InputError, "solve_rows: an implicit solve needs Y^T Y (k x k) and no biases");
}

// The conjugate-gradient solves in precision T, warm-started: `factors` (and `bias`) hold the
// rows' current values on entry. Each row's arithmetic depends on the row alone.
template <class T>
void solve_rows_cg(const Csr& rows, const std::vector<T>& Y, const std::vector<T>& other_bias, const RowSolveSpec& s,
                   std::span<T> factors, std::span<T> bias) {
    const int k = s.rank, d = k + (s.learn_bias ? 1 : 0);
    const std::int64_t n_rows = rows.rows();
    if (s.implicit) {
        const std::vector<T> YtY(s.gram->begin(), s.gram->end());  // in the kernels' precision
#pragma omp parallel if (worth_threads((static_cast<double>(rows.nnz()) + static_cast<double>(n_rows) * k) * k * s.cg_steps))
        {
            std::vector<T> G, work;
#pragma omp for schedule(dynamic, 16)
            for (std::int64_t r = 0; r < n_rows; ++r) {
                T* x = factors.data() + r * k;
                if (rows.ptr[r + 1] == rows.ptr[r]) std::fill(x, x + k, T(0));
                else cg_implicit(rows, r, Y, YtY.data(), s, x, G, work);
            }
        }
        return;
    }
    SingleThreadedBlas one_thread;
#pragma omp parallel if (worth_threads(static_cast<double>(rows.nnz()) * d * 4 * s.cg_steps))
    {
        std::vector<T> G, work, x(static_cast<std::size_t>(d));
#pragma omp for schedule(dynamic, 16)
        for (std::int64_t r = 0; r < n_rows; ++r) {
            T* f = factors.data() + r * k;
            if (rows.ptr[r + 1] == rows.ptr[r]) {  // no ratings: the minimiser is 0
                std::fill(f, f + k, T(0));
                if (s.learn_bias) bias[static_cast<std::size_t>(r)] = T(0);
                continue;
            }
            std::copy(f, f + k, x.begin());
            if (s.learn_bias) x[static_cast<std::size_t>(k)] = bias[static_cast<std::size_t>(r)];
            cg_explicit(rows, r, Y, other_bias, s, x.data(), G, work);
            std::copy(x.begin(), x.begin() + k, f);
            if (s.learn_bias) bias[static_cast<std::size_t>(r)] = x[static_cast<std::size_t>(k)];
        }
    }
}

// The exact (Cholesky or dual) solves, in place: every row of `factors` (and of `bias`, when
// learn_bias) is written, a row without ratings and no prior with zeros.
void solve_rows_exact(const Csr& rows, const std::vector<double>& Y, const std::vector<double>& other_bias,
                      const RowSolveSpec& s, std::span<double> factors, std::span<double> bias) {
    const int k = s.rank, d = k + (s.learn_bias ? 1 : 0);
    const std::int64_t n_rows = rows.rows();
    if (s.form == RowForm::Dual && !s.implicit && !(s.lambda > 0))
        DISTCF_THROW(InputError, "solve_rows: the dual row form needs lambda > 0");
    SingleThreadedBlas one_thread;
    std::int64_t failed = -1;
    const std::vector<std::int64_t> order = longest_first(rows);
    const int grab = rows_per_grab(n_rows, omp_get_max_threads());
#pragma omp parallel if (worth_threads(static_cast<double>(rows.nnz()) * d * d + static_cast<double>(n_rows) * d * d * d / 3))
    {
        RowWork w;
        std::vector<double> x(static_cast<std::size_t>(d));
#pragma omp for schedule(dynamic, grab)
        for (std::int64_t q = 0; q < n_rows; ++q) {
            const std::int64_t r = order[q];
            const std::int64_t n = rows.ptr[r + 1] - rows.ptr[r];
            if (n == 0 && !s.prior) {  // no ratings: zero factors (with a prior: the prior)
                std::fill_n(factors.begin() + r * k, k, 0.0);
                if (s.learn_bias) bias[static_cast<std::size_t>(r)] = 0.0;
                continue;
            }
            int info = 0;
            if (dual_form(s, n)) {
                info = solve_dual(rows, r, Y, other_bias, s, w, x.data());
            } else {
                int lda = d;
                if (s.implicit) assemble_implicit(rows, r, Y, s, w.G, w.A, w.b);
                else assemble(rows, r, Y, other_bias, s, w, lda);
                if (s.prior) apply_prior(s, n, w, lda);
                info = cholesky_lower(d, w.A.data(), lda);
                if (info == 0 && s.draw) {
                    // mean + L^{-T} z = L^{-T} (L^{-1} b + z)
                    cholesky_forward_lower(d, w.A.data(), lda, w.b.data());
                    RowRng g(s.draw->rng_seed, Stream::Gibbs, static_cast<std::uint64_t>(rows.row0 + r), s.draw->epoch);
                    for (int c = 0; c < d; ++c) w.b[static_cast<std::size_t>(c)] += g.normal();
                    cholesky_backward_lower(d, w.A.data(), lda, w.b.data());
                } else if (info == 0) {
                    cholesky_solve_lower(d, w.A.data(), lda, w.b.data());
                }
                std::copy(w.b.begin(), w.b.begin() + d, x.begin());
            }
            if (info != 0) {
#pragma omp critical
                failed = rows.row0 + r;
                continue;
            }
            std::copy_n(x.begin(), k, factors.begin() + r * k);
            if (s.learn_bias) bias[static_cast<std::size_t>(r)] = x[k];
        }
    }
    if (failed >= 0)
        DISTCF_THROW(LinalgError, "cholesky_lower: the normal equations of row " + std::to_string(failed) +
                                      " are not positive definite (lambda = " + std::to_string(s.lambda) + ")");
}

template <class T>
void solve_in_place(const Csr& rows, const std::vector<T>& Y, const std::vector<T>& other_bias, const NormalEquations& eq,
                    const RowSolver& how, std::span<T> factors, std::span<T> bias) {
    const RowSolveSpec s = flatten(eq, how);
    check_request(rows, s);
    if (std::is_same_v<T, float> && s.cg_steps < 1)
        DISTCF_THROW(InputError, "solve_rows: single precision solves by conjugate gradient only (exact solves are double)");
    const std::int64_t n_rows = rows.rows();
    if (factors.size() != static_cast<std::size_t>(n_rows * s.rank) || (s.learn_bias && bias.size() != static_cast<std::size_t>(n_rows)))
        DISTCF_THROW(InputError, s.cg_steps > 0 ? "solve_rows: conjugate gradient needs the rows' current factors (and biases)"
                                                : "solve_rows: the output holds the wrong number of rows");
    if (s.cg_steps > 0) solve_rows_cg(rows, Y, other_bias, s, factors, bias);
    else if constexpr (std::is_same_v<T, double>) solve_rows_exact(rows, Y, other_bias, s, factors, bias);
}

// The vectors' forms: exact solves size the outputs; conjugate gradient starts from their values
// (an explicit one without biases leaves zero biases). A float exact solve, which solve_in_place
// refuses, leaves the vectors as they were.
template <class T>
void solve_into_vectors(const Csr& rows, const std::vector<T>& Y, const std::vector<T>& other_bias, const NormalEquations& eq,
                        const RowSolver& how, std::vector<T>& factors, std::vector<T>& bias) {
    const RowSolveSpec s = flatten(eq, how);
    const auto n_rows = static_cast<std::size_t>(rows.rows());
    if (s.cg_steps > 0) {
        if (!s.learn_bias && !s.implicit) bias.assign(n_rows, T(0));
    } else if (std::is_same_v<T, double>) {
        factors.resize(n_rows * static_cast<std::size_t>(s.rank));
        if (s.learn_bias) bias.resize(n_rows);
    }
    solve_in_place(rows, Y, other_bias, eq, how, std::span<T>(factors), s.learn_bias ? std::span<T>(bias) : std::span<T>());
}

}  // namespace

void solve_rows(const Csr& rows, const std::vector<double>& Y, const std::vector<double>& other_bias,
                const NormalEquations& eq, const RowSolver& how, std::vector<double>& factors, std::vector<double>& bias) {
    solve_into_vectors(rows, Y, other_bias, eq, how, factors, bias);
}

void solve_rows(const Csr& rows, const std::vector<float>& Y, const std::vector<float>& other_bias, const NormalEquations& eq,
                const RowSolver& how, std::vector<float>& factors, std::vector<float>& bias) {
    solve_into_vectors(rows, Y, other_bias, eq, how, factors, bias);
}

void solve_rows(const Csr& rows, const std::vector<double>& Y, const std::vector<double>& other_bias,
                const NormalEquations& eq, const RowSolver& how, std::span<double> factors, std::span<double> bias) {
    solve_in_place(rows, Y, other_bias, eq, how, factors, bias);
}

void solve_rows(const Csr& rows, const std::vector<float>& Y, const std::vector<float>& other_bias, const NormalEquations& eq,
                const RowSolver& how, std::span<float> factors, std::span<float> bias) {
    solve_in_place(rows, Y, other_bias, eq, how, factors, bias);
}

}  // namespace distcf
