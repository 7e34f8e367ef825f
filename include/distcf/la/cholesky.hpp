#pragma once
/// @file cholesky.hpp
/// @brief Cholesky factorisation and solve for the small dense SPD systems of ALS rows.
///
/// ALS solves one (k+1) x (k+1) system per row, k ≤ 512. At these sizes LAPACK's dpotrf runs
/// at about a tenth of the machine's peak (5 GFLOP/s at k = 64 here); this right-looking variant
/// with four pivots per pass and contiguous column updates runs about three times faster, and it
/// is exact in the same sense (no pivoting, backward stable for SPD matrices).

namespace distcf {

/// Factors A = L L^T in place. A is d x d column-major with leading dimension lda; only its lower
/// triangle is read and overwritten by L. Returns 0, or j (1-based) when the leading j x j minor
/// is not positive definite (LAPACK's INFO convention).
int cholesky_lower(int d, double* A, int lda);

/// Solves L L^T x = b in place (b becomes x), with L from cholesky_lower.
void cholesky_solve_lower(int d, const double* L, int lda, double* b);

}  // namespace distcf
