#include <gtest/gtest.h>

#include <algorithm>

#include "distcf/data/rng.hpp"
#include "distcf/data/split.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;

namespace {

RatingSlice grid(std::int32_t users, std::int32_t items) {
    RatingSlice s;
    for (std::int32_t u = 0; u < users; ++u)
        for (std::int32_t i = 0; i < items; ++i)
            if ((u * 13 + i * 7) % 3 == 0) s.push(u, i, 1.0 + (u + i) % 5);
    return s;
}

/// This rank's contiguous share, cut at user boundaries.
RatingSlice user_cut(const RatingSlice& all, const Comm& c) {
    const std::int32_t users = all.user.back() + 1;
    const auto part = BlockPartition::uniform(users, c.size());
    RatingSlice s;
    for (std::int64_t k = 0; k < all.size(); ++k)
        if (part.owner(all.user[k]) == c.rank()) s.push(all.user[k], all.item[k], all.value[k]);
    return s;
}
}  // namespace

TEST(Split, RadixSelectFindsTheExactKthSmallestKey) {
    const Comm& c = world();
    std::vector<std::uint64_t> all;
    for (std::uint64_t i = 0; i < 1000; ++i) all.push_back(random_word(1, Stream::Split, i, 0) >> (i % 3 ? 0 : 40));
    std::vector<std::uint64_t> mine;
    for (std::size_t i = 0; i < all.size(); ++i)
        if (static_cast<int>(i % c.size()) == c.rank()) mine.push_back(all[i]);
    auto sorted = all;
    std::sort(sorted.begin(), sorted.end());
    for (std::int64_t k : {0, 1, 499, 998, 999}) {
        const auto sel = radix_select(mine, k, c);
        EXPECT_EQ(sel.value, sorted[k]);
        EXPECT_EQ(sel.below, std::lower_bound(sorted.begin(), sorted.end(), sorted[k]) - sorted.begin());
    }
}

TEST(Split, TestSetDoesNotDependOnTheRankCount) {
    const Comm& c = world();
    const RatingSlice all = grid(60, 40);
    for (bool per_user : {false, true}) {
        SplitOptions o;
        o.test_fraction = 0.2;
        o.rng_seed = 11;
        o.per_user = per_user;
        const auto reference = choose_test(all, o, Comm::self());
        const RatingSlice mine = user_cut(all, c);
        const auto flags = choose_test(mine, o, c);
        std::vector<std::int64_t> mine_test;
        for (std::int64_t k = 0; k < mine.size(); ++k)
            if (flags[k]) mine_test.push_back(std::int64_t{mine.user[k]} * 1000 + mine.item[k]);
        auto got = c.allgatherv(mine_test);
        std::vector<std::int64_t> expect;
        for (std::int64_t k = 0; k < all.size(); ++k)
            if (reference[k]) expect.push_back(std::int64_t{all.user[k]} * 1000 + all.item[k]);
        std::sort(got.begin(), got.end());
        EXPECT_EQ(got, expect) << "per_user=" << per_user;
        if (!per_user) EXPECT_EQ(static_cast<std::int64_t>(expect.size()), all.size() / 5);
    }
}

TEST(Split, DifferentSeedsGiveDifferentSplits) {
    SplitOptions a, b;
    b.rng_seed = a.rng_seed + 1;
    const RatingSlice all = grid(30, 30);
    EXPECT_NE(choose_test(all, a, Comm::self()), choose_test(all, b, Comm::self()));
}
