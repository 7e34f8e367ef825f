// Evaluation off the critical path and early stopping on held-out training ratings: neither may
// change what a sweep computes, and both give the same model on any number of ranks.
#include <gtest/gtest.h>

#include "distcf/app/train.hpp"
#include "distcf/app/training_set.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;

namespace {
ParamRecord als(std::int64_t iters) {
    ParamRecord p;
    p.set("factors", std::int64_t{8});
    p.set("lambda", 0.01);  // little regularisation: the validation RMSE turns up after a few sweeps
    p.set("iters", iters);
    return p;
}
}  // namespace

TEST(EvalEvery, SkippingTheFiguresLeavesTheFactorsAlone) {
    const test::GeneratedStore s(world(), 120, 60, 0.25);
    const TrainingSet d = load_training_set(s.path, {}, world());
    ParamRecord every3 = als(7);
    every3.set("eval_every", std::int64_t{3});
    const TrainResult a = train("als", d, als(7), world()), b = train("als", d, every3, world());
    EXPECT_EQ(a.model.U, b.model.U);
    EXPECT_EQ(a.model.V, b.model.V);
    const auto& h = b.model.history;
    ASSERT_EQ(h.size(), 7u);
    for (std::size_t i = 0; i < 7; ++i) {
        const bool measured = (i + 1) % 3 == 0 || i + 1 == 7;  // iterations 3, 6 and the last
        EXPECT_EQ(h.objective[i] >= 0, measured) << i;
        if (measured) {
            EXPECT_EQ(h.objective[i], a.model.history.objective[i]) << i;
            EXPECT_EQ(h.test_rmse[i], a.model.history.test_rmse[i]) << i;
        }
    }
}

TEST(EarlyStopping, KeepsTheBestIterateWhichEqualsTrainingThatLong) {
    const test::GeneratedStore s(world(), 120, 60, 0.25);
    const TrainingSet d = load_training_set(s.path, {}, world());
    ParamRecord stop = als(40);
    stop.set("validation_fraction", 0.2);
    stop.set("early_stopping", std::int64_t{2});
    const TrainResult r = train("als", d, stop, world());
    const std::int64_t best = r.model.best_iteration;
    ASSERT_GT(best, 0) << "no validation figure";
    ASSERT_LT(r.model.iterations_done, 40) << "never stopped: the fixture should overfit";
    EXPECT_EQ(r.model.iterations_done, best + 2);  // two evaluations without improvement
    // The model is the best iterate: the same as a run of exactly that many sweeps on the same split.
    ParamRecord exact = stop;
    exact.set("iters", best);
    exact.set("early_stopping", std::int64_t{0});
    const TrainResult e = train("als", d, exact, world());
    EXPECT_EQ(r.model.U, e.model.U);
    EXPECT_EQ(r.model.V, e.model.V);
    EXPECT_EQ(r.model.user_bias, e.model.user_bias);
    // And on one rank alone: the same split, the same stop, the same factors.
    const TrainingSet one = load_training_set(s.path, {}, Comm::self());
    const TrainResult o = train("als", one, stop, Comm::self());
    EXPECT_EQ(o.model.best_iteration, best);
    EXPECT_EQ(o.model.U, r.model.U);
}

TEST(EarlyStopping, NeedsHeldOutRatingsNamedByField) {
    const test::GeneratedStore s(world(), 120, 60, 0.25);
    const TrainingSet d = load_training_set(s.path, {}, world());
    ParamRecord p = als(5);
    p.set("early_stopping", std::int64_t{3});
    try {
        train("als", d, p, world());
        FAIL() << "accepted";
    } catch (const ParameterError& e) {
        EXPECT_NE(std::string(e.what()).find("early_stopping: needs validation_fraction"), std::string::npos) << e.what();
    }
}
