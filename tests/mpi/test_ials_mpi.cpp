#include <gtest/gtest.h>

#include <cmath>

#include "distcf/data/distribute.hpp"
#include "distcf/data/generate.hpp"
#include "distcf/la/row_solve.hpp"
#include "distcf/model/ials.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;

namespace {
RatingBlocks implicit_set(const Comm& c) { return test::generated_blocks(c, 160, 90, 0.3, true); }
}  // namespace

TEST(IalsMpi, HandComputedRowSolve) {
    // Items' factors (k = 1) 1, 2, 0.5; the user interacted with item 0 (r = 1) and item 2 (r = 2);
    // alpha = 1, lambda = 0.5: c = 2 and 3. Y^T Y = 5.25, Y_u^T (C - I) Y_u = 1 + 2 * 0.25 = 1.5,
    // A = 5.25 + 1.5 + 0.5 = 7.25, b = 2 * 1 + 3 * 0.5 = 3.5, x = 3.5 / 7.25.
    const Csr row = build_csr(0, 1, {0, 0}, {0, 2}, {1.0, 2.0});
    const std::vector<double> Y = {1.0, 2.0, 0.5};
    const std::vector<double> gram = replicated_gram(Y, 3, 1, Comm::self());
    ASSERT_DOUBLE_EQ(gram[0], 5.25);
    NormalEquations s;
    s.factors = 1;
    s.lambda = 0.5;
    s.weighted_lambda = false;
    s.implicit = ImplicitTerms{ConfidenceScale::Linear, 1.0, 1.0, &gram};
    RowSolver how;
    std::vector<double> x, none;
    solve_rows(row, Y, {}, s, how, x, none);
    EXPECT_NEAR(x[0], 3.5 / 7.25, 1e-15);
    how.cg_steps = 1;  // one CG step is exact for k = 1
    x = {0.0};
    solve_rows(row, Y, {}, s, how, x, none);
    EXPECT_NEAR(x[0], 3.5 / 7.25, 1e-15);
}

TEST(IalsMpi, LossNeverIncreasesAndFactorsDoNotDependOnRankCount) {
    const Comm& c = world();
    IalsParams p;
    p.factors = 6;
    p.lambda = 0.5;
    p.alpha = 5;
    p.iters = 6;
    const RatingBlocks mine = implicit_set(c), all = implicit_set(Comm::self());
    for (IalsSolver solver : {IalsSolver::Cholesky, IalsSolver::Cg}) {
        p.solver = solver;
        FactorModel a = init_ials(mine, p), b = init_ials(all, p);
        run_ials(a, mine, p, c);
        run_ials(b, all, p, Comm::self());
        EXPECT_EQ(a.U, b.U) << enum_name(solver);
        EXPECT_EQ(a.V, b.V) << enum_name(solver);
        EXPECT_EQ(a.history.objective, b.history.objective) << enum_name(solver);
        if (p.solver == IalsSolver::Cholesky)
            for (std::size_t i = 1; i < a.history.objective.size(); ++i)
                EXPECT_LE(a.history.objective[i], a.history.objective[i - 1] * (1 + 1e-12)) << "iteration " << i + 1;
    }
}

TEST(IalsMpi, ConjugateGradientWithEnoughStepsMatchesCholesky) {
    const RatingBlocks t = implicit_set(Comm::self());
    const int k = 8;
    const std::vector<double> V = initial_factors(3, Side::Items, t.n_items, k, 0.3);
    const std::vector<double> gram = replicated_gram(V, t.n_items, k, Comm::self());
    NormalEquations s;
    s.factors = k;
    s.lambda = 0.5;
    s.weighted_lambda = false;
    s.implicit = ImplicitTerms{ConfidenceScale::Linear, 5.0, 1.0, &gram};
    RowSolver how;
    std::vector<double> exact, cg(static_cast<std::size_t>(t.by_user.rows() * k), 0.0), none;
    solve_rows(t.by_user, V, {}, s, how, exact, none);
    how.cg_steps = 4 * k;
    solve_rows(t.by_user, V, {}, s, how, cg, none);
    double worst = 0;
    for (std::int64_t r = 0; r < t.by_user.rows(); ++r) {
        double d = 0, n = 0;
        for (int q = 0; q < k; ++q) {
            d += std::pow(cg[r * k + q] - exact[r * k + q], 2);
            n += std::pow(exact[r * k + q], 2);
        }
        if (n > 0) worst = std::max(worst, std::sqrt(d / n));
    }
    EXPECT_LT(worst, 1e-8);
}

TEST(IalsMpi, EvaluatingEveryNIterationsLeavesTheFactorsAlone) {
    // --eval-every 3 over 7 iterations: the loss at 3, 6 and the last (7), -1 elsewhere; the
    // sweeps are the same bits as with the loss every iteration.
    const Comm& c = world();
    IalsParams p;
    p.factors = 5;
    p.lambda = 0.5;
    p.alpha = 2;
    p.iters = 7;
    const RatingBlocks t = implicit_set(c);
    FactorModel every = init_ials(t, p);
    run_ials(every, t, p, c);
    p.eval_every = 3;
    FactorModel some = init_ials(t, p);
    run_ials(some, t, p, c);
    EXPECT_EQ(some.U, every.U);
    EXPECT_EQ(some.V, every.V);
    ASSERT_EQ(some.history.objective.size(), 7u);
    for (std::size_t i = 0; i < 7; ++i) {
        if (i == 2 || i == 5 || i == 6) EXPECT_EQ(some.history.objective[i], every.history.objective[i]) << i;
        else EXPECT_LT(some.history.objective[i], 0.0) << i;
    }
    p.eval_every = 0;
    EXPECT_THROW(p.validate(), ParameterError);
}
