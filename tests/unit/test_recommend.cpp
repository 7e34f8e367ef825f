#include <gtest/gtest.h>

#include <cmath>

#include "distcf/model/recommend.hpp"

using namespace distcf;

namespace {
// 2 users x 4 items, rank 1: score(u, i) = mu + b_i + U_u V_i with mu = 3, b = (0, 0.5, 0, -1).
FactorModel tiny() {
    FactorModel m;
    m.method = "als";
    m.n_factors = 1;
    m.n_users = 2;
    m.n_items = 4;
    m.mu = 3.0;
    m.user_bias = {0.0, 0.0};
    m.item_bias = {0.0, 0.5, 0.0, -1.0};
    m.U = {1.0, -1.0};
    m.V = {1.0, 0.0, 2.0, 0.5};
    m.user_counts = {2, 1};
    m.item_counts = {1, 1, 1, 0};
    return m;
}
SeenItems seen_rows(std::vector<std::vector<std::int32_t>> rows) {
    SeenItems s;
    for (const auto& r : rows) {
        s.items.insert(s.items.end(), r.begin(), r.end());
        s.ptr.push_back(static_cast<std::int64_t>(s.items.size()));
    }
    return s;
}
}  // namespace

TEST(Recommend, TopNExcludesRatedItemsAndOrdersByScore) {
    // User 0 scores: 4, 3.5, 5, 2.5; user 1: 2, 3.5, 1, 1.5.
    const auto top = top_n(tiny(), 0, 2, seen_rows({{2}, {}}), 2);
    ASSERT_EQ(top[0].size(), 2u);
    EXPECT_EQ(top[0][0].item, 0);  // item 2 (5.0) was rated
    EXPECT_DOUBLE_EQ(top[0][0].score, 4.0);
    EXPECT_EQ(top[0][1].item, 1);
    EXPECT_EQ(top[1][0].item, 1);
    EXPECT_EQ(top[1][1].item, 0);
}

TEST(Recommend, TiesGoToTheSmallerItemAndNIsCappedByTheCatalogue) {
    const auto b = best_items({1.0, 2.0, 2.0, 0.5}, {1}, 10);
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[0].item, 2);
    EXPECT_EQ(b[1].item, 0);
    EXPECT_EQ(b[2].item, 3);
    EXPECT_THROW(best_items({1.0}, {}, 0), InputError);
}

TEST(Recommend, SingleUserAndBlockedRowsGiveTheSameBits) {
    FactorModel m = tiny();
    m.n_factors = 3;
    m.U = {0.1, 0.7, -0.3, 0.2, -0.4, 0.9};
    m.V = {0.3, 0.3, 0.3, -0.2, 0.5, 0.1, 0.9, -0.1, 0.2, 0.05, 0.6, -0.7};
    const auto both = top_n(m, 0, 2, seen_rows({{}, {}}), 4);
    SeenItems second = seen_rows({{}});
    second.row0 = 1;
    const auto one = top_n(m, 1, 2, second, 4);
    for (int r = 0; r < 4; ++r) {
        EXPECT_EQ(both[1][r].item, one[0][r].item);
        EXPECT_EQ(both[1][r].score, one[0][r].score);
    }
}

TEST(Recommend, SimilarItemsByCosine) {
    FactorModel m = tiny();
    m.n_factors = 2;
    m.V = {1, 0, 0.9, 0.1, 0, 1, -1, 0};
    const auto s = similar_items(m, 0, 3);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].item, 1);
    EXPECT_NEAR(s[0].score, 0.9 / std::sqrt(0.82), 1e-15);
    EXPECT_EQ(s[1].item, 2);
    EXPECT_EQ(s[2].item, 3);
    EXPECT_DOUBLE_EQ(s[2].score, -1.0);
}

TEST(Recommend, RankingMetricsByHand) {
    // User 0 ranks (item 2 excluded) 0, 1, 3; relevant test items {1, 3}. At N = 2: hits at
    // position 2 only. precision 1/2, recall 1/2, DCG 1/log2(3), IDCG 1 + 1/log2(3), AP (1/2)/2.
    // User 1 has no relevant item and is not counted.
    const Csr rel = build_csr(0, 2, {0, 0}, {1, 3}, {5.0, 4.0});
    const auto part = BlockPartition::uniform(2, 1);
    const RankingMetrics r = ranking_metrics(tiny(), seen_rows({{2}, {}}), rel, 2, nullptr, part, Comm::self());
    EXPECT_EQ(r.users, 1);
    EXPECT_DOUBLE_EQ(r.precision, 0.5);
    EXPECT_DOUBLE_EQ(r.recall, 0.5);
    EXPECT_NEAR(r.ndcg, (1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0)), 1e-15);
    EXPECT_DOUBLE_EQ(r.map, 0.25);
    // Popularity by counts (1, 1, 1, 0): items 0, 1 (ties by index): the same hits here.
    const std::vector<double> pop = {1, 1, 1, 0};
    const RankingMetrics p = ranking_metrics(tiny(), seen_rows({{2}, {}}), rel, 2, &pop, part, Comm::self());
    EXPECT_DOUBLE_EQ(p.precision, 0.5);
}
