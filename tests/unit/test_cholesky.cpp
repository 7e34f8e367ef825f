#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "distcf/data/rng.hpp"
#include "distcf/la/cholesky.hpp"

extern "C" void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);

namespace distcf {
namespace {

// A random SPD matrix B B^T + d I (column-major, full), ld = d + 3 to exercise the stride.
std::vector<double> spd(int d, int ld, std::uint64_t seed) {
    RowRng g(seed, Stream::InitUser, d);
    std::vector<double> B(static_cast<std::size_t>(d) * d), A(static_cast<std::size_t>(ld) * d, -7.0);
    for (auto& x : B) x = g.normal(0.0, 1.0);
    for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j) {
            double s = i == j ? d : 0.0;
            for (int q = 0; q < d; ++q) s += B[q * d + i] * B[q * d + j];
            A[static_cast<std::size_t>(j) * ld + i] = s;
        }
    return A;
}

TEST(Cholesky, FactorMatchesLapackAndSolveHasTinyResidual) {
    for (int d : {1, 2, 3, 8, 64, 65, 129}) {
        const int ld = d + 3;
        const std::vector<double> A = spd(d, ld, 11);
        std::vector<double> L = A, ref = A;
        ASSERT_EQ(cholesky_lower(d, L.data(), ld), 0) << d;
        int info = 0;
        dpotrf_("L", &d, ref.data(), &ld, &info);
        ASSERT_EQ(info, 0);
        for (int j = 0; j < d; ++j)
            for (int i = j; i < d; ++i)
                EXPECT_NEAR(L[j * ld + i], ref[j * ld + i], 1e-12 * std::fabs(ref[j * ld + j])) << d;
        std::vector<double> b(d), x(d);
        for (int i = 0; i < d; ++i) b[i] = std::sin(i + 1.0);
        x = b;
        cholesky_solve_lower(d, L.data(), ld, x.data());
        double res = 0, norm = 0;
        for (int i = 0; i < d; ++i) {
            double ax = 0;
            for (int j = 0; j < d; ++j) ax += A[(i >= j ? j * ld + i : i * ld + j)] * x[j];
            res += (ax - b[i]) * (ax - b[i]);
            norm += b[i] * b[i];
        }
        EXPECT_LT(std::sqrt(res / norm), 1e-12) << d;
    }
}

TEST(Cholesky, HandComputedTwoByTwo) {
    // [4 2; 2 5] = L L^T with L = [2 0; 1 2]; [4 2; 2 5] x = [6 7] gives x = [1 1].
    std::vector<double> A = {4, 2, 99, 5};  // column-major; the upper entry is never read
    ASSERT_EQ(cholesky_lower(2, A.data(), 2), 0);
    EXPECT_DOUBLE_EQ(A[0], 2.0);
    EXPECT_DOUBLE_EQ(A[1], 1.0);
    EXPECT_DOUBLE_EQ(A[3], 2.0);
    EXPECT_DOUBLE_EQ(A[2], 99.0);
    std::vector<double> b = {6, 7};
    cholesky_solve_lower(2, A.data(), 2, b.data());
    EXPECT_DOUBLE_EQ(b[0], 1.0);
    EXPECT_DOUBLE_EQ(b[1], 1.0);
}

TEST(Cholesky, ReportsTheFirstNonPositiveMinorAsLapackDoes) {
    // Leading 1x1 and 2x2 minors are positive, the 3x3 one is singular: INFO = 3.
    std::vector<double> A = {1, 1, 1, 0, 2, 2, 0, 0, 2};
    int info = 0, d = 3;
    std::vector<double> ref = A;
    dpotrf_("L", &d, ref.data(), &d, &info);
    EXPECT_EQ(cholesky_lower(3, A.data(), 3), info);
    EXPECT_EQ(info, 3);
    std::vector<double> neg = {-1.0};
    EXPECT_EQ(cholesky_lower(1, neg.data(), 1), 1);
}

}  // namespace
}  // namespace distcf
