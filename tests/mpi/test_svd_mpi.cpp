// SVD through ScaLAPACK (dense) and the randomized path, against LAPACK (Armadillo) on the
// gathered matrix. Runs at every rank count of the suite: grids 1x1, 1x2, 1x3 and 2x2.
#include <gtest/gtest.h>

#include <armadillo>

#include <cmath>

#include "distcf/data/rng.hpp"
#include "distcf/la/scalapack.hpp"
#include "distcf/model/svd.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;

namespace {

arma::mat gaussian(arma::uword m, arma::uword n, std::uint64_t seed) {
    arma::mat a(m, n);
    for (arma::uword i = 0; i < m; ++i) {
        RowRng g(seed, Stream::InitUser, i);
        for (arma::uword j = 0; j < n; ++j) a(i, j) = g.normal(0.0, 1.0);
    }
    return a;
}

// Q1 diag(s) Q2^T with orthonormal Q1, Q2 from QR of Gaussian matrices.
arma::mat with_spectrum(arma::uword m, arma::uword n, const arma::vec& s, std::uint64_t seed) {
    arma::mat q1, q2, r;
    arma::qr_econ(q1, r, gaussian(m, s.n_elem, seed));
    arma::qr_econ(q2, r, gaussian(n, s.n_elem, seed + 1));
    return q1 * arma::diagmat(s) * q2.t();
}

// This rank's rows of `a` (uniform row blocks) as CSR; exact zeros are left out as in ratings.
Csr my_rows(const arma::mat& a, const BlockPartition& part, const Comm& c) {
    std::vector<std::int32_t> rows, cols;
    std::vector<double> vals;
    for (auto i = part.begin(c.rank()); i < part.end(c.rank()); ++i)
        for (arma::uword j = 0; j < a.n_cols; ++j)
            if (a(i, j) != 0) {
                rows.push_back(static_cast<std::int32_t>(i));
                cols.push_back(static_cast<std::int32_t>(j));
                vals.push_back(a(i, j));
            }
    return build_csr(part.begin(c.rank()), part.size(c.rank()), rows, cols, vals);
}

Csr my_cols(const arma::mat& a, const BlockPartition& part, const Comm& c) { return my_rows(a.t(), part, c); }

}  // namespace

TEST(SvdMpi, GridIsAsSquareAsTheRankCountAllows) {
    EXPECT_EQ(scalapack::square_grid(1).cols, 1);
    EXPECT_EQ(scalapack::square_grid(3).rows, 1);
    EXPECT_EQ(scalapack::square_grid(4).rows, 2);
    EXPECT_EQ(scalapack::square_grid(6).rows, 2);
    EXPECT_EQ(scalapack::square_grid(6).cols, 3);
    EXPECT_EQ(scalapack::square_grid(16).rows, 4);
}

TEST(SvdMpi, DenseSingularValuesEqualLapackForTallWideAndRankDeficient) {
    const Comm& c = world();
    struct Case {
        arma::uword m, n;
        int rank;  // 0: full
    };
    for (const Case& k : {Case{37, 13, 0}, Case{13, 37, 0}, Case{30, 22, 4}}) {
        arma::mat a = gaussian(k.m, k.n, 5);
        if (k.rank) a = gaussian(k.m, k.rank, 6) * gaussian(k.rank, k.n, 7);
        const auto part = BlockPartition::uniform(static_cast<std::int64_t>(k.m), c.size());
        std::vector<double> all_s;
        const int r = static_cast<int>(std::min(k.m, k.n));
        // Block size 4 puts several blocks on every process of every grid.
        const TruncatedSvd d = dense_svd(my_rows(a, part, c), k.m, k.n, r, 4, c, &all_s);
        const arma::vec ref = arma::svd(a);
        ASSERT_EQ(all_s.size(), ref.n_elem);
        for (arma::uword q = 0; q < ref.n_elem; ++q)
            EXPECT_NEAR(all_s[q], ref(q), 1e-10 * ref(0)) << k.m << "x" << k.n << " sigma_" << q;
        // And the vectors reconstruct the matrix.
        arma::mat U(d.U.data(), static_cast<arma::uword>(r), k.m), V(d.V.data(), static_cast<arma::uword>(r), k.n);
        const arma::mat back = U.t() * arma::diagmat(arma::vec(d.s)) * V;
        EXPECT_LT(arma::norm(back - a, "fro"), 1e-10 * arma::norm(a, "fro"));
    }
}

TEST(SvdMpi, RandomizedMatchesDenseAndNeedsItsPowerIterations) {
    const Comm& c = world();
    const arma::uword m = 160, n = 90;
    arma::vec s(n);
    for (arma::uword j = 0; j < n; ++j) s(j) = std::pow(0.6, static_cast<double>(j));
    const arma::mat a = with_spectrum(m, n, s, 9);
    const auto users = BlockPartition::uniform(m, c.size()), items = BlockPartition::uniform(n, c.size());
    const Csr rows = my_rows(a, users, c), cols = my_cols(a, items, c);
    const int k = 10;
    const arma::vec ref = arma::svd(a);
    auto worst = [&](const TruncatedSvd& t) {
        double e = 0;
        for (int q = 0; q < k; ++q) e = std::max(e, std::fabs(t.s[q] - ref(q)) / ref(q));
        return e;
    };
    const TruncatedSvd two = randomized_svd(rows, users, cols, items, k, 10, 2, 42, c);
    const TruncatedSvd none = randomized_svd(rows, users, cols, items, k, 10, 0, 42, c);
    EXPECT_LT(worst(two), 1e-6);
    EXPECT_GT(worst(none), 100 * std::max(worst(two), 1e-14)) << "power iterations should matter here";
    EXPECT_GT(worst(none), 1e-6);
    // The same sketch on one rank gives the same bits.
    const TruncatedSvd one = randomized_svd(my_rows(a, BlockPartition::uniform(m, 1), Comm::self()),
                                            BlockPartition::uniform(m, 1),
                                            my_cols(a, BlockPartition::uniform(n, 1), Comm::self()),
                                            BlockPartition::uniform(n, 1), k, 10, 2, 42, Comm::self());
    EXPECT_EQ(one.s, two.s);
    EXPECT_EQ(one.U, two.U);
    EXPECT_EQ(one.V, two.V);
}

TEST(SvdMpi, RankDeficientResidualGivesFewerRandomizedDirectionsNotAnError) {
    const Comm& c = world();
    const arma::mat a = gaussian(40, 3, 1) * gaussian(3, 25, 2);  // rank 3
    const auto users = BlockPartition::uniform(40, c.size()), items = BlockPartition::uniform(25, c.size());
    const TruncatedSvd t = randomized_svd(my_rows(a, users, c), users, my_cols(a, items, c), items, 5, 4, 1, 3, c);
    const arma::vec ref = arma::svd(a);
    ASSERT_GE(t.r, 3);
    for (int q = 0; q < 3; ++q) EXPECT_NEAR(t.s[q], ref(q), 1e-10 * ref(0));
}
