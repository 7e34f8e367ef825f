// Evaluation off the critical path and early stopping on held-out training ratings: neither may
// change what a sweep computes, and both give the same model on any number of ranks.
#include <gtest/gtest.h>

#include <algorithm>

#include "distcf/app/train.hpp"
#include "distcf/app/training_set.hpp"
#include "distcf/data/distribute.hpp"
#include "distcf/model/ials.hpp"
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

// Implicit feedback: no rating to be wrong about, so the held-out interactions are ranked and the
// loop keeps the iterate with the best NDCG@10 of them.
namespace {
ParamRecord ials(std::int64_t iters) {
    ParamRecord p;
    p.set("factors", std::int64_t{8});
    p.set("lambda", 0.01);  // little regularisation: the ranking of held-out items worsens after a few sweeps
    p.set("alpha", 2.0);
    p.set("iters", iters);
    p.set("validation_fraction", 0.2);
    p.set("validation_users", std::int64_t{60});  // about half of the users with held-out items: the sample is exercised
    return p;
}
}  // namespace

TEST(EarlyStopping, ImplicitKeepsTheIterateWithTheBestValidationNdcgOnAnyRankCount) {
    const test::GeneratedStore s(world(), 160, 90, 0.3);
    const TrainingSet d = load_training_set(s.path, {}, world());
    ParamRecord stop = ials(40);
    stop.set("early_stopping", std::int64_t{2});
    std::vector<double> ndcg;
    TrainHooks hooks;
    hooks.on_iteration = [&](const IterationReport& r, const SavedModel&) {
        EXPECT_LT(r.validation_rmse, 0.0) << "an implicit model has no rating error";
        ndcg.push_back(r.validation_ndcg);
    };
    const TrainResult r = train("ials", d, stop, world(), hooks);
    const std::int64_t best = r.model.best_iteration;
    ASSERT_GT(best, 0) << "no validation figure";
    ASSERT_LT(r.model.iterations_done, 40) << "never stopped: the fixture should overfit";
    EXPECT_EQ(r.model.iterations_done, best + 2);
    ASSERT_EQ(static_cast<std::int64_t>(ndcg.size()), r.model.iterations_done);
    for (double v : ndcg) EXPECT_TRUE(v > 0 && v <= 1) << v;
    // The best is the highest NDCG (the first of equals), and what came after it was no better.
    EXPECT_EQ(std::max_element(ndcg.begin(), ndcg.end()) - ndcg.begin() + 1, best);
    // The model is that iterate: a run of exactly that many sweeps on the same split.
    ParamRecord exact = stop;
    exact.set("iters", best);
    exact.set("early_stopping", std::int64_t{0});
    const TrainResult e = train("ials", d, exact, world());
    EXPECT_EQ(r.model.U, e.model.U);
    EXPECT_EQ(r.model.V, e.model.V);
    // On one rank alone: the same split, the same sample of users, the same figures and stop.
    const TrainingSet one = load_training_set(s.path, {}, Comm::self());
    std::vector<double> ndcg_one;
    TrainHooks hooks_one;
    hooks_one.on_iteration = [&](const IterationReport& q, const SavedModel&) { ndcg_one.push_back(q.validation_ndcg); };
    const TrainResult o = train("ials", one, stop, Comm::self(), hooks_one);
    EXPECT_EQ(o.model.best_iteration, best);
    EXPECT_EQ(ndcg_one, ndcg);
    EXPECT_EQ(o.model.U, r.model.U);
}

TEST(EarlyStopping, ImplicitValidationUsersAreASampleByUserOnAnyRankCount) {
    const RatingBlocks mine = test::generated_blocks(world(), 300, 80, 0.2, true);
    const RatingBlocks all = test::generated_blocks(Comm::self(), 300, 80, 0.2, true);
    const HoldOut h = hold_out(mine, 0.2, 7, world()), h1 = hold_out(all, 0.2, 7, Comm::self());
    const Csr some = sample_validation_users(h.held_out, 100, 42, world());
    const Csr some1 = sample_validation_users(h1.held_out, 100, 42, Comm::self());
    std::int64_t kept = 0, with = 0;
    for (std::int64_t r = 0; r < some.rows(); ++r) {
        const std::int64_t r1 = some.row0 + r - some1.row0;  // the same user on one rank
        ASSERT_EQ(some.row_nnz(r), some1.row_nnz(r1)) << "user " << some.row0 + r;
        if (some.row_nnz(r) > 0) {
            ++kept;
            EXPECT_EQ(some.row_nnz(r), h.held_out.row_nnz(r)) << "a sampled user keeps every held-out item";
        }
        with += h.held_out.row_nnz(r) > 0 ? 1 : 0;
    }
    kept = world().sum(kept), with = world().sum(with);
    ASSERT_GT(with, 200) << "the fixture should hold out items of most users";
    EXPECT_GT(kept, 60);  // about 100: binomial(with, 100 / with), sd < 8
    EXPECT_LT(kept, 140);
    // Asking for as many as there are keeps them all.
    const Csr every = sample_validation_users(h.held_out, with, 42, world());
    EXPECT_EQ(every.col, h.held_out.col);
    EXPECT_EQ(every.ptr, h.held_out.ptr);
}

TEST(EarlyStopping, ImplicitRankingRefusesTheTargetedExchange) {
    // Ranking scores every item for each held-out user: a rank holding only the items its users
    // rated cannot, so asking for targeted is an error that names the exchange.
    const RatingBlocks t = test::generated_blocks(world(), 160, 90, 0.3, true);
    const HoldOut h = hold_out(t, 0.2, 42, world());
    IalsParams p;
    p.factors = 4;
    p.iters = 2;
    p.validation_fraction = 0.2;
    FactorModel m = init_ials(h.fit, p);
    ExchangeRequest targeted;
    targeted.options.kind = ExchangeKind::Targeted;
    try {
        run_ials(m, h.fit, p, world(), {}, targeted, &h.held_out);
        FAIL() << "accepted";
    } catch (const ParameterError& e) {
        EXPECT_NE(std::string(e.what()).find("exchange:"), std::string::npos) << e.what();
    }
    ExchangeRequest automatic;
    automatic.options.kind = ExchangeKind::Auto;
    FactorModel a = init_ials(h.fit, p);
    run_ials(a, h.fit, p, world(), {}, automatic, &h.held_out);  // auto takes allgather
    EXPECT_EQ(a.iterations_done, 2);
}

TEST(EarlyStopping, ImplicitWithNothingHeldOutMeasuresNothingAndNeverStops) {
    // A fraction too small for the data holds nothing out: there is no NDCG to stop on, and the
    // loop must not read that as an NDCG of 0 (it stopped after `patience` sweeps at iteration 1).
    const RatingBlocks t = test::generated_blocks(world(), 160, 90, 0.3, true);
    Csr none;
    none.row0 = t.by_user.row0;
    none.ptr.assign(static_cast<std::size_t>(t.by_user.rows() + 1), 0);
    IalsParams p;
    p.factors = 4;
    p.iters = 4;
    p.validation_fraction = 0.1;
    p.early_stopping = 1;
    FactorModel m = init_ials(t, p);
    std::vector<double> seen;
    run_ials(m, t, p, world(), [&](const IterationReport& r, const SavedModel&) { seen.push_back(r.validation_ndcg); }, {}, &none);
    EXPECT_EQ(m.iterations_done, 4);
    EXPECT_EQ(m.best_iteration, 0);
    EXPECT_EQ(seen, std::vector<double>(4, -1.0));
}
