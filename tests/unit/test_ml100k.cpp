// MovieLens 100K, the official folds u1..u5: train on uN.base with each method's documented
// defaults, evaluate on uN.test. The defaults were chosen on validation splits of the training
// data (docs/TUNING.md), never on these test files. Skips when the data are absent.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>

#include "helpers.hpp"

using distcf::test::ml100k;
using distcf::test::program;
using distcf::test::run;

namespace {

// Mean test RMSE over the five folds of `distcf train <options>`; prints the per-fold table.
double five_folds(const std::string& options, const char* label) {
    distcf::test::TempDir d;
    double sum = 0;
    std::printf("ML-100K %s (%s):\n  fold   test RMSE      MAE   cold     k\n", label, options.c_str());
    for (int f = 1; f <= 5; ++f) {
        const std::string base = ml100k("u" + std::to_string(f) + ".base"), test = ml100k("u" + std::to_string(f) + ".test");
        EXPECT_EQ(run(program() + " import --format movielens100k --input " + base + " --out " + d.file("b.h5")).code, 0);
        EXPECT_EQ(run(program() + " import --format movielens100k --input " + test + " --out " + d.file("t.h5")).code, 0);
        const auto t = run(program(2) + " train " + options + " --train " + d.file("b.h5") + " --out " + d.file("m.h5"));
        EXPECT_EQ(t.code, 0) << t.err;
        const auto e = run(program() + " evaluate --json --model " + d.file("m.h5") + " --test " + d.file("t.h5"));
        EXPECT_EQ(e.code, 0) << e.err;
        if (e.code != 0) return 99;
        const auto j = nlohmann::json::parse(e.out);
        EXPECT_EQ(j["n"], 20000);
        std::printf("  u%d   %9.4f %8.4f %6d %5d\n", f, j["rmse"].get<double>(), j["mae"].get<double>(), j["cold"].get<int>(),
                    j["k"].get<int>());
        sum += j["rmse"].get<double>();
    }
    std::printf("  mean %9.5f\n", sum / 5);
    return sum / 5;
}

}  // namespace

TEST(Ml100kFolds, DefaultAlsMeanTestRmseIsAtMost0914) {
    DISTCF_REQUIRE_ML100K();
    EXPECT_LE(five_folds("--method als", "biased ALS, defaults"), 0.914);
}

TEST(Ml100kFolds, RegularizedBaselineMeanTestRmseIsAtMost0945) {
    DISTCF_REQUIRE_ML100K();
    EXPECT_LE(five_folds("--method baseline", "regularised baseline, defaults"), 0.945);
}

TEST(Ml100kFolds, SvdAtItsValidationChosenKBeatsTheBaseline) {
    DISTCF_REQUIRE_ML100K();
    const double svd = five_folds("--method svd --ranks 1,2,3,5,8,10,15,20,30,50", "SVD, k by validation");
    EXPECT_LT(svd, 0.945);
}

TEST(Ml100kFolds, BayesianMfMeanTestRmseIsAtMost0900) {
    DISTCF_REQUIRE_ML100K();
    EXPECT_LE(five_folds("--method bpmf", "Bayesian MF by Gibbs sampling, defaults"), 0.900);
}
