// Conjugate gradient for explicit ALS: warm-started, few steps per row; converges to the exact
// (Cholesky) solution, and gives the same factors on any number of ranks.
#include <gtest/gtest.h>

#include <cmath>

#include "distcf/app/train.hpp"
#include "distcf/app/training_set.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;

namespace {
ParamRecord params(const std::string& solver, std::int64_t steps, std::int64_t iters) {
    ParamRecord p;
    p.set("factors", std::int64_t{6});
    p.set("iters", iters);
    p.set("solver", solver);
    p.set("cg_steps", steps);
    return p;
}
double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}
}  // namespace

TEST(ExplicitCg, EnoughStepsReachTheExactSolution) {
    const test::GeneratedStore s(world(), 90, 50, 0.3);
    const TrainingSet d = load_training_set(s.path, {}, world());
    // k + 1 unknowns per row (factors and bias): k + 1 exact-arithmetic CG steps solve each system,
    // so every half-step -- and with it the whole run -- matches Cholesky to round-off.
    const TrainResult exact = train("als", d, params("cholesky", 3, 5), world());
    const TrainResult cg = train("als", d, params("cg", 7 + 5, 5), world());
    EXPECT_LT(max_difference(exact.model.U, cg.model.U), 1e-8);
    EXPECT_LT(max_difference(exact.model.user_bias, cg.model.user_bias), 1e-8);
    // Three steps warm-started each iteration: close after enough iterations, not equal.
    const TrainResult few = train("als", d, params("cg", 3, 25), world());
    const TrainResult ref = train("als", d, params("cholesky", 3, 25), world());
    EXPECT_NEAR(few.model.history.train_rmse.back(), ref.model.history.train_rmse.back(), 2e-3);
    EXPECT_GT(max_difference(few.model.U, ref.model.U), 0.0);
}

TEST(ExplicitCg, SameFactorsOnAnyNumberOfRanks) {
    const test::GeneratedStore s(world(), 90, 50, 0.3);
    const TrainResult all = train("als", load_training_set(s.path, {}, world()), params("cg", 3, 4), world());
    const TrainResult one = train("als", load_training_set(s.path, {}, Comm::self()), params("cg", 3, 4), Comm::self());
    EXPECT_EQ(all.model.U, one.model.U);
    EXPECT_EQ(all.model.V, one.model.V);
    EXPECT_EQ(all.model.item_bias, one.model.item_bias);
}

TEST(ExplicitCg, AutoSolvesSmallKExactlyAndLargeKByCg) {
    const test::GeneratedStore s(world(), 90, 70, 0.4);
    const TrainingSet d = load_training_set(s.path, {}, world());
    const auto with = [](const std::string& solver, std::int64_t k) {
        ParamRecord p = params(solver, 3, 3);
        p.set("factors", k);
        return p;
    };
    EXPECT_EQ(train("als", d, with("auto", 8), world()).model.U, train("als", d, with("cholesky", 8), world()).model.U);
    EXPECT_EQ(train("als", d, with("auto", 64), world()).model.U, train("als", d, with("cg", 64), world()).model.U);
}
