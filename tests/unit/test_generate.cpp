#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "distcf/data/generate.hpp"
#include "distcf/app/oracle.hpp"
#include "helpers.hpp"

using namespace distcf;

namespace {
GeneratedBlock gen(const GenerateParams& p, GenreModel* model_out = nullptr) {
    const GenreModel m = make_genre_model(p, Comm::self());
    if (model_out) *model_out = m;
    return generate_block(p, m, Comm::self());
}
}  // namespace

TEST(Generate, SeedSizeDensityIsOneQuarterInExpectation) {
    GenerateParams p;
    double sum = 0;
    const int seeds = 100;
    for (int s = 0; s < seeds; ++s) {
        p.rng_seed = static_cast<std::uint64_t>(1000 + s);
        sum += static_cast<double>(gen(p).ratings.size()) / (80.0 * 50.0);
    }
    // One seed's density has sd ~0.0068; the mean of 100 has sd ~0.0007 (top-ups add ~0.0001).
    EXPECT_NEAR(sum / seeds, 0.25, 0.003);
}

TEST(Generate, EveryUserAndItemIsToppedUpToTheMinimum) {
    GenerateParams p;
    p.density = 0.01;  // far too sparse without top-ups
    p.min_per_user = 3;
    p.min_per_item = 2;
    for (std::uint64_t seed : {1, 2, 3}) {
        p.rng_seed = seed;
        const auto b = gen(p);
        std::vector<int> pu(80, 0), pi(50, 0);
        for (std::int64_t k = 0; k < b.ratings.size(); ++k) {
            ++pu[b.ratings.user[k]];
            ++pi[b.ratings.item[k]];
            if (k > 0) EXPECT_TRUE(b.ratings.user[k - 1] < b.ratings.user[k] ||
                                   (b.ratings.user[k - 1] == b.ratings.user[k] && b.ratings.item[k - 1] < b.ratings.item[k]));
        }
        EXPECT_GE(*std::min_element(pu.begin(), pu.end()), 3);
        EXPECT_GE(*std::min_element(pi.begin(), pi.end()), 2);
    }
}

TEST(Generate, TrueRatingsSpanExactlyOneToFiveOverAllPairs) {
    GenerateParams p;
    GenreModel m;
    gen(p, &m);
    const auto U = make_user_factors(p, 0, p.users);
    double lo = 1e300, hi = -1e300;
    for (int u = 0; u < 80; ++u)
        for (int j = 0; j < 50; ++j) {
            double dot = 0;
            for (int k = 0; k < 5; ++k) dot += U[u * 5 + k] * m.item_factors[j * 5 + k];
            const double t = 1.0 + 4.0 * (dot - m.true_min) / (m.true_max - m.true_min);
            lo = std::min(lo, t);
            hi = std::max(hi, t);
        }
    EXPECT_NEAR(lo, 1.0, 1e-12);
    EXPECT_NEAR(hi, 5.0, 1e-12);
    EXPECT_TRUE(m.exact_minmax);
}

TEST(Generate, EveryMoviesLargestLoadingIsOnItsPrimaryGenre) {
    GenerateParams p;  // the seed's defaults, seed 42
    GenreModel m;
    gen(p, &m);
    for (int j = 0; j < 50; ++j) {
        const double* f = m.item_factors.data() + j * 5;
        EXPECT_EQ(std::max_element(f, f + 5) - f, m.item_genre[j]) << "movie " << j;
    }
    EXPECT_EQ(m.genre_names, (std::vector<std::string>{"Action", "Comedy", "Drama", "SciFi", "Horror"}));
    EXPECT_EQ(genre_names(7)[6], "Genre7");
}

TEST(Generate, RequestedSkewShowsInRatingsPerItemAndPerUser) {
    GenerateParams p;
    p.users = 100000;
    p.items = 10000;
    // Skew chosen so that no observation probability reaches 1 (it is capped there).
    p.density = 0.001;
    p.min_per_item = 0;
    p.min_per_user = 0;
    p.item_popularity = "zipf:0.7";
    p.user_activity = "lognormal:0.5";
    GenreModel m;
    const auto b = gen(p, &m);
    std::vector<double> per_item(10000, 0), per_user(100000, 0);
    for (std::int64_t k = 0; k < b.ratings.size(); ++k) {
        ++per_item[b.ratings.item[k]];
        ++per_user[b.ratings.user[k]];
    }
    const double mean_item = b.ratings.size() / 1e4, mean_user = b.ratings.size() / 1e5;
    EXPECT_NEAR(b.ratings.size() / 1e9, 0.001, 0.00003);  // same expected density
    // Items: count / mean follows the Zipf weight (mean 1) where it is large enough to measure.
    int checked = 0;
    for (int j = 0; j < 10000; ++j)
        if (m.item_weight[j] > 20) {
            EXPECT_NEAR(per_item[j] / mean_item / m.item_weight[j], 1.0, 0.12) << "item " << j;
            ++checked;
        }
    EXPECT_GT(checked, 10);
    // Users: Var(count) = mean + mean^2 (e^(sigma^2) - 1) for lognormal(sigma) activity, so
    // CV^2 = 1/mean + e^0.25 - 1 (0.62 here); uniform activity would give CV ~0.32.
    double var = 0;
    for (double c : per_user) var += (c - mean_user) * (c - mean_user);
    const double cv = std::sqrt(var / 1e5) / mean_user;
    EXPECT_NEAR(cv, std::sqrt(std::exp(0.25) - 1.0 + 1.0 / mean_user), 0.05);
}

TEST(Generate, OracleRmseMatchesTheClippedNoiseLevel) {
    const Comm& c = Comm::self();
    test::TempDir d;
    GenerateParams p;
    p.users = 2000;
    p.items = 400;
    p.density = 0.2;
    const GenreModel m = make_genre_model(p, c);
    const auto b = generate_block(p, m, c);
    // Expected squared error of clip(t + e, 1, 5) - t for e ~ N(0, s^2), averaged over the entries.
    auto Phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
    auto phi = [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); };
    const double s = p.noise;
    double expect = 0;
    for (double t : b.truth) {
        const double a = (1 - t) / s, bb = (5 - t) / s;
        expect += s * s * (a * a * Phi(a) + bb * bb * (1 - Phi(bb)) + (Phi(bb) - Phi(a)) - (bb * phi(bb) - a * phi(a)));
    }
    expect = std::sqrt(expect / static_cast<double>(b.truth.size()));
    double sse = 0;
    for (std::size_t k = 0; k < b.truth.size(); ++k) sse += std::pow(b.truth[k] - b.ratings.value[k], 2);
    const double oracle = std::sqrt(sse / static_cast<double>(b.truth.size()));
    EXPECT_NEAR(oracle, expect, 0.02 * expect);
    EXPECT_LT(oracle, s);  // clipping only removes error
}

TEST(Generate, RatingPairsAreFillRatingsPairsWithoutTheValues) {
    for (bool implicit : {false, true}) {  // implicit: count-0 candidates drop out of both
        GenerateParams p;
        p.users = 150;
        p.items = 60;
        p.density = 0.2;
        p.implicit = implicit;
        const GenreModel m = make_genre_model(p, Comm::self());
        const ObservedBlock b = observe_block(p, m, Comm::self());
        RatingSlice all;
        std::vector<double> truth;
        fill_ratings(p, m, b, 0, static_cast<std::int64_t>(b.items.size()), all, truth);
        std::vector<std::int32_t> user, item;
        rating_pairs(p, m, b, ratings_per_user(p, m, b), user, item);
        EXPECT_EQ(user, all.user) << implicit;
        EXPECT_EQ(item, all.item) << implicit;
        std::size_t candidates = 0;
        for (const auto& row : b.items) candidates += row.size();
        if (implicit) EXPECT_LT(item.size(), candidates);
    }
}

TEST(Generate, BadParametersNameTheField) {
    GenerateParams p;
    p.density = 1.5;
    try {
        p.validate();
        FAIL();
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("density"), std::string::npos);
    }
    p = GenerateParams{};
    p.item_popularity = "zipf:-1";
    EXPECT_THROW(p.validate(), InputError);
}

TEST(Generate, SeedDatasetScriptReportsTheNotebookCounts) {
    test::TempDir d;
    const auto r = test::run("/usr/bin/python3 " DISTCF_SOURCE_DIR "/scripts/seed_dataset.py --out " + d.file("seed.h5"));
    if (r.code != 0 && r.err.find("No module named") != std::string::npos) GTEST_SKIP() << "numpy/h5py missing";
    ASSERT_EQ(r.code, 0) << r.err;
    const auto info = test::run(test::program() + " info --json " + d.file("seed.h5"));
    ASSERT_EQ(info.code, 0) << info.err;
    EXPECT_NE(info.out.find("\"ratings\": 999"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("\"train\": 800"), std::string::npos);
    EXPECT_NE(info.out.find("\"test\": 199"), std::string::npos);
    EXPECT_NE(info.out.find("\"oracle_rmse\""), std::string::npos);
}

namespace {
struct Shape {
    double mean = 0, sd = 0;
    std::vector<double> histogram;  // fractions in [1,1.5), [1.5,2.5), ..., [4.5,5]
};
Shape shape_of(const std::vector<double>& v) {
    Shape s;
    s.histogram.assign(5, 0.0);
    for (double x : v) {
        s.mean += x;
        s.histogram[static_cast<std::size_t>(std::clamp(std::floor(x - 0.5), 0.0, 4.0))] += 1;
    }
    s.mean /= static_cast<double>(v.size());
    for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(s.sd / static_cast<double>(v.size()));
    for (auto& h : s.histogram) h /= static_cast<double>(v.size());
    return s;
}
void expect_same_shape(const Shape& a, const Shape& b, const char* what) {
    EXPECT_NEAR(a.mean, b.mean, 0.05) << what;
    EXPECT_NEAR(a.sd, b.sd, 0.05) << what;
    for (int h = 0; h < 5; ++h) EXPECT_NEAR(a.histogram[h], b.histogram[h], 0.05) << what << " bin " << h;
}
}  // namespace

TEST(Generate, TheRatingDistributionDoesNotDependOnTheSize) {
    // The same model (seed 42) at the original study's size (80 x 50, ~1,000 ratings) and 400 times
    // larger: the same mean, spread and histogram (sampling error of the small set ~0.016).
    const std::vector<double> small = gen(GenerateParams{}).ratings.value;
    GenerateParams big;
    big.users = 4000;
    big.items = 500;
    big.density = 0.2;
    const auto b = gen(big);
    ASSERT_GT(b.ratings.size(), 300000);
    expect_same_shape(shape_of(small), shape_of(b.ratings.value), "notebook profile");
    // At the original size the map is the exact min-max of its own pairs, as it always was.
    GenreModel m;
    gen(GenerateParams{}, &m);
    EXPECT_TRUE(m.exact_minmax);
    GenreModel mb;
    gen(big, &mb);
    EXPECT_FALSE(mb.exact_minmax);
    EXPECT_EQ(mb.true_min, m.true_min);  // the reference block is the small set's pairs
    EXPECT_EQ(mb.true_max, m.true_max);
}

TEST(Generate, MovieLensProfileHasMovieLensStarsAtAnySize) {
    const std::vector<double> movielens = {0.0611, 0.1137, 0.2715, 0.3417, 0.2120};  // ML-100K's stars
    for (std::int64_t users : {300, 6000}) {
        GenerateParams p;
        p.profile = "movielens";
        p.users = users;
        p.items = 400;
        p.density = 0.05;
        p.item_popularity = "zipf:0.9";
        p.user_activity = "lognormal:1";
        const auto b = gen(p);
        const Shape s = shape_of(b.ratings.value);
        for (double v : b.ratings.value) ASSERT_TRUE(v == 1 || v == 2 || v == 3 || v == 4 || v == 5) << v;
        EXPECT_NEAR(s.mean, 3.53, 0.08) << users;
        EXPECT_NEAR(s.sd, 1.13, 0.08) << users;
        for (int h = 0; h < 5; ++h) EXPECT_NEAR(s.histogram[h], movielens[h], 0.03) << users << " star " << h + 1;
    }
}
