#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "distcf/data/distribute.hpp"
#include "distcf/data/generate.hpp"
#include "distcf/data/split.hpp"
#include "distcf/model/sweep.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;

namespace {
RatingBlocks generated(const Comm& c) { return test::generated_blocks(c, 120, 60, 0.25); }

// (user, item, fold) of every rating, gathered and sorted.
std::vector<std::int64_t> fold_table(const RatingSlice& s, const std::vector<std::uint8_t>& f, const Comm& c) {
    std::vector<std::int64_t> code;
    for (std::int64_t e = 0; e < s.size(); ++e) code.push_back((std::int64_t{s.user[e]} * 100000 + s.item[e]) * 10 + f[e]);
    auto all = c.allgatherv(code);
    std::sort(all.begin(), all.end());
    return all;
}
}  // namespace

TEST(SweepMpi, FoldsHaveExactSizesAndDoNotDependOnRankCount) {
    const Comm& c = world();
    const RatingSlice mine = slice_of(generated(c).by_user), all = slice_of(generated(Comm::self()).by_user);
    const auto fm = assign_folds(mine, 5, 3, c), fa = assign_folds(all, 5, 3, Comm::self());
    EXPECT_EQ(fold_table(mine, fm, c), fold_table(all, fa, Comm::self()));
    std::vector<std::int64_t> size(5, 0);
    for (auto f : fa) ++size[f];
    const std::int64_t n = all.size();
    for (auto s : size) {
        EXPECT_GE(s, n / 5);
        EXPECT_LE(s, n / 5 + 1);
    }
    EXPECT_THROW(assign_folds(all, 1, 3, Comm::self()), InputError);
}

TEST(SweepMpi, TableAndChoiceDoNotDependOnRankCount) {
    const Comm& c = world();
    SweepParams p;
    p.factor_grid = {2, 4};
    p.lambdas = {0.05, 0.5};
    p.folds = 3;
    p.als.iters = 5;
    int called = 0;
    const SweepResult a = sweep_als(generated(c), p, c, [&](const SweepPoint&) { ++called; });
    const SweepResult b = sweep_als(generated(Comm::self()), p, Comm::self());
    EXPECT_EQ(called, 4);
    ASSERT_EQ(a.points.size(), 4u);
    for (std::size_t i = 0; i < a.points.size(); ++i) {
        EXPECT_EQ(a.points[i].fold_score, b.points[i].fold_score) << i;
        EXPECT_EQ(a.points[i].fold_score.size(), 3u);
    }
    EXPECT_EQ(a.best, b.best);
    for (const auto& q : a.points) EXPECT_LE(a.points[a.best].score, q.score);
    EXPECT_EQ(a.validation_ratings, generated(Comm::self()).nnz);  // every rating validated once
    // A hold-out sweep validates on its fraction only.
    p.folds = 0;
    p.validation_fraction = 0.25;
    const SweepResult h = sweep_als(generated(c), p, c);
    EXPECT_EQ(h.folds, 1);
    EXPECT_EQ(h.validation_ratings, generated(Comm::self()).nnz / 4);
}

TEST(SweepMpi, ParametersNameTheBadField) {
    SweepParams p;
    p.lambdas = {0.1, -1.0};
    try {
        p.validate();
        FAIL();
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("lambdas"), std::string::npos);
    }
    p.lambdas = {0.1};
    p.folds = 1;
    EXPECT_THROW(p.validate(), InputError);
}

TEST(SweepMpi, ImplicitSweepScoresByNdcgAndDoesNotDependOnRankCount) {
    const Comm& c = world();
    SweepParams p;
    p.method = "ials";
    p.factor_grid = {3};
    p.lambdas = {1.0, 10.0};
    p.alphas = {1.0, 5.0};
    p.validation_fraction = 0.2;
    p.ials.iters = 4;
    const SweepResult a = sweep_als(test::generated_blocks(c, 200, 90, 0.3, true), p, c);
    const SweepResult b = sweep_als(test::generated_blocks(Comm::self(), 200, 90, 0.3, true), p, Comm::self());
    EXPECT_EQ(a.metric, "ndcg@10");
    ASSERT_EQ(a.points.size(), 4u);
    for (std::size_t i = 0; i < a.points.size(); ++i) {
        EXPECT_EQ(a.points[i].fold_score, b.points[i].fold_score) << i;
        EXPECT_GT(a.points[i].score, 0.0);
        EXPECT_LE(a.points[i].score, 1.0);
    }
    for (const auto& q : a.points) EXPECT_GE(a.points[a.best].score, q.score);  // higher NDCG is better
    EXPECT_EQ(a.best, b.best);
}
