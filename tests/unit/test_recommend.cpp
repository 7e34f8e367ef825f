#include <gtest/gtest.h>

#include <algorithm>
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

namespace {
// A model big enough to span several item tiles, user blocks and the ragged edges of both.
FactorModel random_model(std::int64_t users, std::int64_t items, int k, std::uint64_t seed) {
    FactorModel m;
    m.method = "als";
    m.n_factors = k;
    m.n_users = users;
    m.n_items = items;
    m.mu = 3.5;
    std::uint64_t x = seed;
    const auto next = [&x] {  // splitmix64 -> [-1, 1)
        x += 0x9e3779b97f4a7c15ULL;
        std::uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-52 - 1.0;
    };
    for (std::int64_t u = 0; u < users; ++u) m.user_bias.push_back(0.1 * next());
    for (std::int64_t i = 0; i < items; ++i) m.item_bias.push_back(0.3 * next());
    for (std::int64_t e = 0; e < users * k; ++e) m.U.push_back(next());
    for (std::int64_t e = 0; e < items * k; ++e) m.V.push_back(next());
    m.user_counts.assign(static_cast<std::size_t>(users), 1);
    m.item_counts.assign(static_cast<std::size_t>(items), 1);
    return m;
}

// The reference: every unseen item's score for user u, best first.
std::vector<Scored> every_score(const FactorModel& m, const SeenItems& seen, std::int64_t u) {
    const int k = m.n_factors;
    std::vector<Scored> ref;
    const auto b = seen.items.begin() + seen.ptr[u], e = seen.items.begin() + seen.ptr[u + 1];
    for (std::int64_t i = 0; i < m.n_items; ++i) {
        if (std::binary_search(b, e, static_cast<std::int32_t>(i))) continue;
        double s = m.mu + m.user_bias[u] + m.item_bias[i];
        for (int c = 0; c < k; ++c) s += m.U[u * k + c] * m.V[i * k + c];
        ref.push_back({static_cast<std::int32_t>(i), s});
    }
    std::sort(ref.begin(), ref.end(), [](const Scored& x, const Scored& y) { return x.score > y.score; });
    return ref;
}

// The kernel may fuse multiply-adds: items equal, scores to 1e-12.
void expect_reference_top(const std::vector<Scored>& got, const std::vector<Scored>& ref, int n, std::int64_t u) {
    ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) {
        EXPECT_EQ(got[r].item, ref[r].item) << "user " << u << " rank " << r;
        EXPECT_NEAR(got[r].score, ref[r].score, 1e-12);
    }
}
}  // namespace

TEST(Recommend, BlockedTopNMatchesEveryScoreComputedOneByOne) {
    const std::int64_t users = 133, items = 2071;  // 2 full user blocks + 5, 2 item tiles + 23
    const int k = 13, n = 25;
    const FactorModel m = random_model(users, items, k, 7);
    // Each user skips items u, u + 7, u + 14, ... (ascending), some of them in the top.
    SeenItems seen;
    for (std::int64_t u = 0; u < users; ++u) {
        for (std::int64_t i = u % 7; i < items; i += 7 + u % 5) seen.items.push_back(static_cast<std::int32_t>(i));
        seen.ptr.push_back(static_cast<std::int64_t>(seen.items.size()));
    }
    const auto all = top_n(m, 0, users, seen, n);
    for (std::int64_t u = 0; u < users; ++u) {
        expect_reference_top(all[u], every_score(m, seen, u), n, u);
        const auto b = seen.items.begin() + seen.ptr[u], e = seen.items.begin() + seen.ptr[u + 1];
        // The same user alone (as `recommend --user` scores it): the same bits.
        SeenItems one;
        one.row0 = u;
        one.items.assign(b, e);
        one.ptr = {0, static_cast<std::int64_t>(one.items.size())};
        const auto alone = top_n(m, u, u + 1, one, n).front();
        for (int r = 0; r < n; ++r) {
            EXPECT_EQ(alone[r].item, all[u][r].item);
            EXPECT_EQ(alone[r].score, all[u][r].score);
        }
    }
}

TEST(Recommend, TopNOfAUserWhoRatedAlmostEverythingListsWhatIsLeft) {
    const FactorModel m = random_model(5, 40, 3, 11);
    SeenItems seen;
    for (int u = 0; u < 5; ++u) {
        for (std::int32_t i = 0; i < 40; ++i)
            if (i != 3 && i != 17) seen.items.push_back(i);
        seen.ptr.push_back(static_cast<std::int64_t>(seen.items.size()));
    }
    const auto top = top_n(m, 0, 5, seen, 10);
    for (const auto& list : top) {
        ASSERT_EQ(list.size(), 2u);
        EXPECT_TRUE((list[0].item == 3 && list[1].item == 17) || (list[0].item == 17 && list[1].item == 3));
        EXPECT_GE(list[0].score, list[1].score);
    }
}

TEST(Recommend, AnItemOfferedLaterWithAnEqualScoreAndASmallerIndexTakesThePlace) {
    // k = 1; users a = 1 and a = 3 (the index's c = 2). For user 0 item 0 (b = 1, v = 0) and
    // item 1 (b = 0, v = 1) both score mu + 1, but item 1's key (0 + 2 x 1) is above item 0's
    // (1 + 0), so the index offers item 1 first: the tie must still go to item 0.
    FactorModel m;
    m.method = "als";
    m.n_factors = 1;
    m.n_users = 2;
    m.n_items = 3;
    m.mu = 3.0;
    m.user_bias = {0.0, 0.0};
    m.item_bias = {1.0, 0.0, -5.0};
    m.U = {1.0, 3.0};
    m.V = {0.0, 1.0, 0.0};
    m.user_counts = {1, 1};
    m.item_counts = {1, 1, 1};
    const ItemIndex items(m);
    const auto top = top_n(m, items, 0, 1, seen_rows({{}}), 1);
    ASSERT_EQ(top[0].size(), 1u);
    EXPECT_EQ(top[0][0].item, 0);
    EXPECT_EQ(top[0][0].score, 4.0);
}

TEST(Recommend, PrunedTopNIsTheExhaustiveTopNAndSkipsMostPairs) {
    // Item norms and biases falling off as a power of a shuffled rank (as a trained model's do
    // with item popularity), so that most tiles cannot reach any user's list.
    const std::int64_t users = 150, items = 6000;  // 2 user blocks + 22, 5 item tiles + 880
    const int k = 8, n = 10;
    FactorModel m = random_model(users, items, k, 19);
    for (std::int64_t i = 0; i < items; ++i) {
        const double r = static_cast<double>((i * 2654435761LL) % items);  // a shuffled rank
        const double scale = 1.0 / (1.0 + r / 30.0);
        for (int c = 0; c < k; ++c) m.V[i * k + c] *= scale;
        m.item_bias[i] *= scale;
    }
    SeenItems seen;  // each user skips some of the strongest items
    for (std::int64_t u = 0; u < users; ++u) {
        for (std::int64_t i = u % 3; i < items; i += 3 + u % 4) seen.items.push_back(static_cast<std::int32_t>(i));
        seen.ptr.push_back(static_cast<std::int64_t>(seen.items.size()));
    }
    const ItemIndex index(m);
    TopNCounts counts;
    const auto all = top_n(m, index, 0, users, seen, n, &counts);
    EXPECT_EQ(counts.pairs, users * items);
    EXPECT_LT(counts.scored, counts.pairs / 3) << "the bound pruned too little";
    for (std::int64_t u = 0; u < users; ++u) expect_reference_top(all[u], every_score(m, seen, u), n, u);
    // The same lists, bit for bit, from the call that builds its own index.
    const auto again = top_n(m, 0, users, seen, n);
    for (std::int64_t u = 0; u < users; ++u)
        for (int r = 0; r < n; ++r) {
            EXPECT_EQ(again[u][r].item, all[u][r].item);
            EXPECT_EQ(again[u][r].score, all[u][r].score);
        }
}

TEST(Recommend, PopularityTopNWalksOneSortedOrderAndGivesTheListsOfEveryItemScored) {
    // Popularity with ties (counts repeat), users skipping some of the most popular items: the
    // lists from the order sorted once are those of scoring every item for each user.
    const std::int64_t users = 40, items = 300;
    const int n = 12;
    const FactorModel m = random_model(users, items, 3, 23);
    std::vector<double> popularity(static_cast<std::size_t>(items));
    for (std::int64_t i = 0; i < items; ++i) popularity[i] = static_cast<double>((i * 37) % 50);  // 6 items per count
    SeenItems seen;
    for (std::int64_t u = 0; u < users; ++u) {
        for (std::int64_t i = u % 5; i < items; i += 4 + u % 3) seen.items.push_back(static_cast<std::int32_t>(i));
        seen.ptr.push_back(static_cast<std::int64_t>(seen.items.size()));
    }
    const auto top = top_n(m, 0, users, seen, n, &popularity);
    for (std::int64_t u = 0; u < users; ++u) {
        const std::vector<std::int32_t> skip(seen.items.begin() + seen.ptr[u], seen.items.begin() + seen.ptr[u + 1]);
        const auto ref = best_items(popularity, skip, n);
        ASSERT_EQ(top[u].size(), ref.size());
        for (std::size_t r = 0; r < ref.size(); ++r) {
            EXPECT_EQ(top[u][r].item, ref[r].item) << "user " << u << " rank " << r;
            EXPECT_EQ(top[u][r].score, ref[r].score);
        }
    }
}
