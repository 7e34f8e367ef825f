#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <span>

#include "distcf/data/distribute.hpp"
#include "distcf/data/generate.hpp"
#include "distcf/la/row_solve.hpp"
#include "distcf/model/als.hpp"
#include "distcf/model/baseline.hpp"
#include "distcf/util/clones.hpp"
#include "distcf/util/threads.hpp"
#include "helpers.hpp"

using namespace distcf;

namespace {

RatingBlocks small_blocks() {
    GenerateParams p;
    p.users = 60;
    p.items = 40;
    p.density = 0.3;
    const GenreModel m = make_genre_model(p, Comm::self());
    const GeneratedBlock b = generate_block(p, m, Comm::self());
    return distribute(b.ratings, p.users, p.items, 1, 5, Comm::self());
}

}  // namespace

namespace {

// Relative residual ||A x - b|| / ||b|| of row r's normal equations, formed independently of the solver.
double normal_equation_residual(const Csr& rows, std::int64_t r, const std::vector<double>& Y,
                                const std::vector<double>& other_bias, const NormalEquations& s,
                                const std::vector<double>& f, const std::vector<double>& bias) {
    std::vector<double> A, rhs;
    row_normal_equations(rows, r, Y, other_bias, s, A, rhs);
    const int d = static_cast<int>(rhs.size());
    std::vector<double> x(f.begin() + r * s.factors, f.begin() + (r + 1) * s.factors);
    if (s.learn_bias) x.push_back(bias[r]);
    double res = 0, norm = 0;
    for (int i = 0; i < d; ++i) {
        double ax = 0;
        for (int j = 0; j < d; ++j) ax += A[j * d + i] * x[j];
        res += (ax - rhs[i]) * (ax - rhs[i]);
        norm += rhs[i] * rhs[i];
    }
    return std::sqrt(res / norm);
}

constexpr AlsFormulation kFormulations[] = {AlsFormulation::Notebook, AlsFormulation::Biased};

// ALS's parameters, starting model and row equations for one formulation, k and lambda.
struct RowCase {
    AlsParams p;
    FactorModel m;
    NormalEquations s;
};
RowCase row_case(const RatingBlocks& b, AlsFormulation formulation, int k, double lambda) {
    RowCase c;
    c.p.formulation = formulation;
    c.p.factors = k;
    c.p.lambda = lambda;
    c.m = init_als(b, c.p);
    c.s = als_equations(c.p, c.m.mu);
    return c;
}

}  // namespace

TEST(RowSolve, NormalEquationsHoldAtEverySolvedRow) {
    // Users here have about 12 ratings each: at k = 12 the shorter rows take the dual form and the
    // longer ones the primal form, and both must satisfy the primal normal equations.
    const RatingBlocks b = small_blocks();
    for (AlsFormulation formulation : kFormulations) {
        for (int rank : {7, 12}) {
            const auto [p, m, s] = row_case(b, formulation, rank, 0.3);
            std::vector<double> f, bias;
            solve_rows(b.by_user, m.V, m.item_bias, s, als_solver(p), f, bias);
            int dual = 0;
            for (std::int64_t r = 0; r < b.by_user.rows(); ++r) {
                dual += uses_dual_form(s, als_solver(p), b.by_user.row_nnz(r));
                EXPECT_LT(normal_equation_residual(b.by_user, r, m.V, m.item_bias, s, f, bias), 1e-10)
                    << enum_name(formulation) << " k = " << rank << " row " << r;
            }
            if (rank == 12) {
                EXPECT_GT(dual, 0) << enum_name(formulation);
                EXPECT_LT(dual, b.by_user.rows()) << enum_name(formulation);
            }
        }
    }
}

TEST(RowSolve, DualAndPrimalFormsGiveTheSameSolution) {
    const RatingBlocks b = small_blocks();
    for (AlsFormulation formulation : kFormulations) {
        for (int k : {7, 30, 70}) {  // at 30 and 70 every item row is solved both ways, whichever auto would pick
            const auto [p, m, s] = row_case(b, formulation, k, 0.2);
            RowSolver how;
            std::vector<double> fp, bp, fd, bd;
            how.form = RowForm::Primal;
            solve_rows(b.by_item, m.U, m.user_bias, s, how, fp, bp);
            how.form = RowForm::Dual;
            solve_rows(b.by_item, m.U, m.user_bias, s, how, fd, bd);
            ASSERT_EQ(fp.size(), fd.size());
            for (std::size_t e = 0; e < fp.size(); ++e)
                EXPECT_NEAR(fd[e], fp[e], 1e-12 * (1 + std::fabs(fp[e]))) << enum_name(formulation) << " k " << k;
            for (std::size_t e = 0; e < bp.size(); ++e)
                EXPECT_NEAR(bd[e], bp[e], 1e-12 * (1 + std::fabs(bp[e]))) << enum_name(formulation) << " k " << k;
        }
    }
}

TEST(RowSolve, NormalEquationsMatchANaiveSumAtEveryRankAndRowLength) {
    // The primal equations against a plain sum over the ratings: k up to 64 (row_gram's tiles of
    // one to three 4-wide vectors, partial ones included) and beyond it (BLAS panels),
    // with and without a bias, rows of 1, 9 and 300 ratings (past one 256-rating gathered chunk).
    const std::int64_t items = 40;
    for (int k : {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 15, 16, 17, 20, 21, 23, 24, 25, 37, 50, 64, 65, 80}) {
        std::vector<double> Y(static_cast<std::size_t>(items * k)), item_bias(static_cast<std::size_t>(items));
        for (std::size_t e = 0; e < Y.size(); ++e) Y[e] = std::sin(0.7 * static_cast<double>(e) + k);
        for (std::size_t e = 0; e < item_bias.size(); ++e) item_bias[e] = 0.1 * std::cos(static_cast<double>(e));
        for (int n : {1, 9, 300}) {
            std::vector<std::int32_t> row(static_cast<std::size_t>(n), 0), col(static_cast<std::size_t>(n));
            std::vector<double> val(static_cast<std::size_t>(n));
            for (int e = 0; e < n; ++e) {
                col[e] = static_cast<std::int32_t>((e * 7) % items);  // repeats past 40: fine for the sums
                val[e] = 1.0 + (e * 13) % 5;
            }
            const Csr rows = build_csr(0, 1, row, col, val);
            for (bool bias : {false, true}) {
                NormalEquations s;
                s.factors = k;
                s.lambda = 0.5;
                s.weighted_lambda = false;
                s.learn_bias = bias;
                s.offset = 3.25;
                std::vector<double> A, b;
                row_normal_equations(rows, 0, Y, item_bias, s, A, b);
                const int d = k + (bias ? 1 : 0);
                ASSERT_EQ(b.size(), static_cast<std::size_t>(d));
                std::vector<double> wantA(static_cast<std::size_t>(d) * d, 0.0), wantb(static_cast<std::size_t>(d), 0.0);
                for (int e = 0; e < n; ++e) {
                    std::vector<double> x(Y.begin() + col[e] * k, Y.begin() + (col[e] + 1) * k);
                    if (bias) x.push_back(1.0);
                    const double t = val[e] - s.offset - item_bias[static_cast<std::size_t>(col[e])];
                    for (int i = 0; i < d; ++i) {
                        wantb[i] += x[i] * t;
                        for (int j = 0; j < d; ++j) wantA[static_cast<std::size_t>(j) * d + i] += x[i] * x[j];
                    }
                }
                for (int i = 0; i < d; ++i) wantA[static_cast<std::size_t>(i) * d + i] += s.lambda;
                for (std::size_t e = 0; e < wantA.size(); ++e)
                    ASSERT_NEAR(A[e], wantA[e], 1e-12 * (1 + std::fabs(wantA[e])))
                        << "k " << k << " n " << n << " bias " << bias << " entry " << e;
                for (int i = 0; i < d; ++i)
                    ASSERT_NEAR(b[i], wantb[i], 1e-12 * (1 + std::fabs(wantb[i])))
                        << "k " << k << " n " << n << " bias " << bias << " row " << i;
            }
        }
    }
}

TEST(RowSolve, TheOnePassTwelveFactorGramIsTheSameBitsAsTheGatheredOne) {
    // Bayesian MF's k = 12 rows (no bias) are assembled in one pass straight from Y on AVX-512:
    // every entry must be summed in the gathered tiles' order -- columns 8-11 and G t in two
    // interleaved halves folded every 256 ratings -- or the chains would change with the CPU.
    // Where the kernel does not run, both paths are the general one and the comparison proves nothing.
    if (!DISTCF_HAVE_AVX512_KERNELS) GTEST_SKIP() << "the one-pass kernel is built by GCC on x86-64 only; this build has none";
    if (!CpuVector::detect().avx512) GTEST_SKIP() << "the one-pass kernel runs on AVX-512 CPUs only; this one has none";
    const int k = 12;
    const std::int64_t items = 97;
    std::vector<double> Y(static_cast<std::size_t>(items * k)), item_bias(static_cast<std::size_t>(items));
    for (std::size_t e = 0; e < Y.size(); ++e) Y[e] = std::sin(0.7 * static_cast<double>(e)) * (1.0 + 1e-3 * static_cast<double>(e));
    for (std::size_t e = 0; e < item_bias.size(); ++e) item_bias[e] = 0.1 * std::cos(static_cast<double>(e));
    const std::vector<double> precision = [&] {
        std::vector<double> L(static_cast<std::size_t>(k * k), 0.0);
        for (int c = 0; c < k; ++c) L[static_cast<std::size_t>(c * k + c)] = 2.0 + 0.1 * c;
        return L;
    }();
    const std::vector<double> shift(static_cast<std::size_t>(k), 0.25);
    for (int n : {1, 2, 3, 8, 255, 256, 257, 300, 511, 512, 513, 1001}) {
        std::vector<std::int32_t> row(static_cast<std::size_t>(n), 0), col(static_cast<std::size_t>(n));
        std::vector<double> val(static_cast<std::size_t>(n));
        for (int e = 0; e < n; ++e) {
            col[e] = static_cast<std::int32_t>((e * 31 + 5) % items);
            val[e] = 1.0 + (e * 13) % 5 + 0.01 * e;
        }
        const Csr rows = build_csr(0, 1, row, col, val);
        for (bool prior : {false, true}) {
            NormalEquations s;
            s.factors = k;
            s.lambda = 0.5;
            s.offset = 3.25;
            if (prior) s.prior = GaussianPrior{&precision, &shift, 1.5};
            std::vector<double> A1, b1, A2, b2;
            row_normal_equations(rows, 0, Y, prior ? std::vector<double>{} : item_bias, s, A1, b1, AssemblyPath::Auto);
            row_normal_equations(rows, 0, Y, prior ? std::vector<double>{} : item_bias, s, A2, b2, AssemblyPath::Gathered);
            ASSERT_EQ(b1.size(), static_cast<std::size_t>(k));
            for (std::size_t e = 0; e < A1.size(); ++e)
                ASSERT_EQ(std::memcmp(&A1[e], &A2[e], sizeof(double)), 0) << "n " << n << " prior " << prior << " A entry " << e << ": "
                                                                          << A1[e] << " against " << A2[e];
            for (std::size_t e = 0; e < b1.size(); ++e)
                ASSERT_EQ(std::memcmp(&b1[e], &b2[e], sizeof(double)), 0) << "n " << n << " prior " << prior << " b entry " << e;
        }
    }
}

TEST(RowSolve, HandComputedDualRow) {
    // One rating 5 against the item factor y = (1, 2), lambda = 1 (plain), k = 2 > 1 rating: the
    // dual form solves (y.y + 1) z = 5, z = 5/6, and x = z y = (5/6, 10/6) -- what the primal
    // (y y^T + I) x = 5 y gives.
    Csr rows = build_csr(0, 1, {0}, {0}, {5.0});
    NormalEquations s;
    s.factors = 2;
    s.lambda = 1.0;
    s.weighted_lambda = false;
    RowSolver how;
    ASSERT_TRUE(uses_dual_form(s, how, 1));
    for (RowForm form : {RowForm::Auto, RowForm::Primal, RowForm::Dual}) {
        how.form = form;
        std::vector<double> f, b;
        solve_rows(rows, {1.0, 2.0}, {}, s, how, f, b);
        EXPECT_NEAR(f[0], 5.0 / 6.0, 1e-15);
        EXPECT_NEAR(f[1], 10.0 / 6.0, 1e-15);
    }
    // With a bias the row's vector is (y, 1): (|y|^2 + 1 + 1) z = 5 - offset, bias = z.
    s.learn_bias = true;
    s.offset = 3.0;
    how.form = RowForm::Auto;
    std::vector<double> f, b;
    solve_rows(rows, {1.0, 2.0}, {0.0}, s, how, f, b);
    EXPECT_NEAR(f[0], 2.0 / 7.0, 1e-15);
    EXPECT_NEAR(f[1], 4.0 / 7.0, 1e-15);
    EXPECT_NEAR(b[0], 2.0 / 7.0, 1e-15);
}

TEST(RowSolve, DualFormWithoutRegularisationIsRefused) {
    Csr rows = build_csr(0, 1, {0}, {0}, {5.0});
    NormalEquations s;
    s.factors = 2;
    s.lambda = 0.0;
    RowSolver how;
    EXPECT_FALSE(uses_dual_form(s, how, 1));  // auto falls back to the primal form
    how.form = RowForm::Dual;
    std::vector<double> f, b;
    EXPECT_THROW(solve_rows(rows, {1.0, 2.0}, {}, s, how, f, b), InputError);
    AlsParams p;
    p.lambda = 0.0;
    p.row_solve = RowForm::Dual;
    EXPECT_THROW(p.validate(), InputError);
}

TEST(RowSolve, HandComputedOneFactorRow) {
    // One row with ratings 2 and 4 against item factors 1 and 2, lambda = 1 (plain):
    // (1 + 4 + 1) x = 1*2 + 2*4  =>  x = 10 / 6.
    Csr rows = build_csr(0, 1, {0, 0}, {0, 1}, {2.0, 4.0});
    NormalEquations s;
    s.factors = 1;
    s.lambda = 1.0;
    s.weighted_lambda = false;
    std::vector<double> f, b;
    solve_rows(rows, {1.0, 2.0}, {}, s, RowSolver{}, f, b);
    EXPECT_NEAR(f[0], 10.0 / 6.0, 1e-15);
    // Weighted (ALS-WR): reg = lambda * n = 2  =>  x = 10 / 7.
    s.weighted_lambda = true;
    solve_rows(rows, {1.0, 2.0}, {}, s, RowSolver{}, f, b);
    EXPECT_NEAR(f[0], 10.0 / 7.0, 1e-15);
}

TEST(RowSolve, RowWithoutRatingsGetsZeroFactors) {
    Csr rows = build_csr(0, 2, {1}, {0}, {3.0});
    NormalEquations s;
    s.factors = 2;
    s.learn_bias = true;
    std::vector<double> f, b;
    solve_rows(rows, {0.5, 0.5}, {0.0}, s, RowSolver{}, f, b);
    EXPECT_EQ(f[0], 0.0);
    EXPECT_EQ(f[1], 0.0);
    EXPECT_EQ(b[0], 0.0);
    EXPECT_NE(b[1], 0.0);
}

TEST(RowSolve, SolvesInPlaceIntoABlockOfALargerMatrixWithTheVectorFormsBits) {
    // Rows 0 and 1 (the second without ratings) solved into rows 1-2 of a 4-row factor matrix
    // whose every entry starts at 7: the block gets what the vector form writes (the empty row
    // zeros, over the stale 7s), rows 0 and 3 and their biases keep theirs. Exact and CG (which
    // starts from the block's values, as the vector form starts from its vectors').
    Csr rows = build_csr(0, 2, {0, 0, 0}, {0, 1, 2}, {2.0, 4.0, 5.0});
    const std::vector<double> Y{1.0, 0.5, 2.0, -1.0, 0.25, 3.0}, item_bias{0.1, -0.2, 0.3};
    NormalEquations s;
    s.factors = 2;
    s.lambda = 0.5;
    s.learn_bias = true;
    s.offset = 3.0;
    for (int cg : {0, 3}) {
        RowSolver how;
        how.cg_steps = cg;
        std::vector<double> f(4, 7.0), b(2, 7.0);  // the vector form's start (CG reads it)
        solve_rows(rows, Y, item_bias, s, how, f, b);
        std::vector<double> all(8, 7.0), all_bias(4, 7.0);
        solve_rows(rows, Y, item_bias, s, how, std::span<double>(all).subspan(2, 4), std::span<double>(all_bias).subspan(1, 2));
        for (int e = 0; e < 4; ++e) EXPECT_EQ(std::memcmp(&all[2 + e], &f[e], sizeof(double)), 0) << "cg " << cg << " entry " << e;
        for (int r = 0; r < 2; ++r) EXPECT_EQ(std::memcmp(&all_bias[1 + r], &b[r], sizeof(double)), 0) << "cg " << cg << " bias " << r;
        EXPECT_EQ(all[4], 0.0);
        EXPECT_EQ(all[5], 0.0);
        EXPECT_EQ(all_bias[2], 0.0);
        for (int e : {0, 1, 6, 7}) EXPECT_EQ(all[e], 7.0) << "cg " << cg << " entry " << e << " outside the block";
        EXPECT_EQ(all_bias[0], 7.0);
        EXPECT_EQ(all_bias[3], 7.0);
    }
}

TEST(RowSolve, InPlaceBlockOfTheWrongSizeIsRefused) {
    Csr rows = build_csr(0, 2, {0}, {0}, {3.0});
    NormalEquations s;
    s.factors = 2;
    std::vector<double> all(6, 0.0), none;
    EXPECT_THROW(solve_rows(rows, {0.5, 0.5}, {}, s, RowSolver{}, std::span<double>(all), std::span<double>(none)), InputError);
    s.learn_bias = true;  // factors right, biases missing
    EXPECT_THROW(solve_rows(rows, {0.5, 0.5}, {0.0}, s, RowSolver{}, std::span<double>(all).first(4), std::span<double>(none)),
                 InputError);
}

TEST(RowSolve, SinglePrecisionExactSolveIsRefusedAndLeavesTheOutputAlone) {
    Csr rows = build_csr(0, 2, {0}, {0}, {3.0});
    NormalEquations s;
    s.factors = 2;
    std::vector<float> f{1.5f}, b{2.5f};  // the wrong size for 2 rows: an exact solve would resize it
    EXPECT_THROW(solve_rows(rows, std::vector<float>{0.5f, 0.5f}, {}, s, RowSolver{}, f, b), InputError);
    EXPECT_EQ(f, std::vector<float>{1.5f});
    EXPECT_EQ(b, std::vector<float>{2.5f});
}

TEST(RowSolve, RowsGoToThreadsLongestFirstAndEqualLengthsInIndexOrder) {
    // Rows of 2, 0, 5, 2 and 5 ratings.
    std::vector<std::int32_t> row, col;
    for (const auto& [r, n] : std::vector<std::pair<int, int>>{{0, 2}, {2, 5}, {3, 2}, {4, 5}})
        for (int c = 0; c < n; ++c) row.push_back(r), col.push_back(c);
    EXPECT_EQ(longest_first(build_csr(0, 5, row, col, std::vector<double>(row.size(), 1.0))),
              (std::vector<std::int64_t>{2, 4, 0, 3, 1}));
    // One row far longer than the rows are many (the comparison sort's case): the same order.
    row.assign(9000, 1), col.resize(9000);
    for (int c = 0; c < 9000; ++c) col[static_cast<std::size_t>(c)] = c;
    row.push_back(0), col.push_back(0);
    EXPECT_EQ(longest_first(build_csr(0, 3, row, col, std::vector<double>(row.size(), 1.0))),
              (std::vector<std::int64_t>{1, 0, 2}));
}

TEST(RowSolve, ThreadsTakeRowsAFewAtATimeButEachThreadStillGetsManyGrabs) {
    EXPECT_EQ(rows_per_grab(943, 2), 16);     // MovieLens u1's users on 2 threads: the cap
    EXPECT_EQ(rows_per_grab(943, 16), 3);     // 16 threads: about 16 grabs each
    EXPECT_EQ(rows_per_grab(40, 16), 1);      // fewer rows than grabs to go round: one at a time
    EXPECT_EQ(rows_per_grab(0, 2), 1);        // nothing to solve: still a valid chunk
    EXPECT_EQ(rows_per_grab(1000000, 0), 16); // a thread count of 0 reads as 1
    for (std::int64_t rows : {1, 31, 100, 511, 512, 5000})
        for (int threads : {1, 2, 3, 16}) {
            const int g = rows_per_grab(rows, threads);
            EXPECT_GE(g, 1);
            EXPECT_LE(g, 16);
            if (g > 1) EXPECT_GE(rows / g, 16 * threads) << rows << " rows, " << threads << " threads";
        }
}

TEST(Als, ObjectiveNeverIncreasesForBothFormulations) {
    const RatingBlocks b = small_blocks();
    for (AlsFormulation formulation : kFormulations) {
        AlsParams p;
        p.formulation = formulation;
        p.factors = 6;
        p.lambda = 0.05;
        p.iters = 25;
        FactorModel m = init_als(b, p);
        run_als(m, b, Csr{}, p, Comm::self());
        ASSERT_EQ(m.history.size(), 25u);
        for (std::size_t t = 1; t < m.history.size(); ++t)
            EXPECT_LE(m.history.objective[t], m.history.objective[t - 1] * (1 + 1e-12)) << enum_name(formulation) << " iteration " << t;
    }
}

TEST(Als, FactorsAreBitIdenticalForOneAndTwoThreads) {
    const RatingBlocks b = small_blocks();
    for (int rank : {8, 14}) {  // at 14 most user rows take the dual form
        AlsParams p;
        p.factors = rank;
        p.iters = 5;
        FactorModel one = init_als(b, p), two = init_als(b, p);
        const int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        run_als(one, b, Csr{}, p, Comm::self());
        omp_set_num_threads(2);
        run_als(two, b, Csr{}, p, Comm::self());
        omp_set_num_threads(saved);
        EXPECT_EQ(one.U, two.U) << rank;
        EXPECT_EQ(one.V, two.V) << rank;
        EXPECT_EQ(one.item_bias, two.item_bias) << rank;
    }
}

TEST(Baseline, SeedEstimatorMatchesHandComputedMeans) {
    // Ratings: u0: (i0, 4), (i1, 2); u1: (i0, 3).  mu = 3; b_u = (0, 0);  b_i0 = mean(4-3, 3-3) = 0.5,
    // b_i1 = 2 - 3 = -1.
    RatingSlice s;
    s.push(0, 0, 4);
    s.push(0, 1, 2);
    s.push(1, 0, 3);
    const RatingBlocks b = distribute(s, 2, 2, 1, 5, Comm::self());
    BaselineParams p;
    p.estimator = BaselineEstimator::Notebook;
    const FactorModel m = fit_baseline(b, p, Comm::self());
    EXPECT_DOUBLE_EQ(m.mu, 3.0);
    EXPECT_DOUBLE_EQ(m.user_bias[0], 0.0);
    EXPECT_DOUBLE_EQ(m.user_bias[1], 0.0);
    EXPECT_DOUBLE_EQ(m.item_bias[0], 0.5);
    EXPECT_DOUBLE_EQ(m.item_bias[1], -1.0);
    EXPECT_DOUBLE_EQ(m.predict(1, 1), 2.0);
}

TEST(Als, UnknownRowsFallBackToTheTrainingMeanInEveryFormulation) {
    RatingSlice s;
    s.push(0, 0, 4);
    s.push(0, 1, 2);
    s.push(1, 0, 3);
    const RatingBlocks b = distribute(s, 2, 2, 1, 5, Comm::self());
    AlsParams p;
    p.formulation = AlsFormulation::Notebook;
    p.factors = 1;
    const FactorModel m = init_als(b, p);
    EXPECT_EQ(m.mu, 0.0);
    EXPECT_DOUBLE_EQ(m.fallback(-1, -1), 3.0);
}
