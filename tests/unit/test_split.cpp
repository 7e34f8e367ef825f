// Moving a split's held-out ratings out of a slice in place (the load-time split of train
// --test-fraction), on a hand-made slice.
#include <gtest/gtest.h>

#include "distcf/data/split.hpp"
#include "distcf/error.hpp"

using namespace distcf;

TEST(SplitOff, FlaggedRatingsMoveOutAndTheRestClosesUpInOrder) {
    RatingSlice s;
    for (int k = 0; k < 6; ++k) s.push(k / 2, 10 + k, 1.0 + k);  // (0,10,1) (0,11,2) (1,12,3) ...
    s.time = {100, 101, 102, 103, 104, 105};
    const RatingSlice out = split_off(s, {0, 1, 0, 0, 1, 1});
    EXPECT_EQ(s.user, (std::vector<std::int32_t>{0, 1, 1}));
    EXPECT_EQ(s.item, (std::vector<std::int32_t>{10, 12, 13}));
    EXPECT_EQ(s.value, (std::vector<double>{1.0, 3.0, 4.0}));
    EXPECT_EQ(s.time, (std::vector<std::int64_t>{100, 102, 103}));
    EXPECT_EQ(out.user, (std::vector<std::int32_t>{0, 2, 2}));
    EXPECT_EQ(out.item, (std::vector<std::int32_t>{11, 14, 15}));
    EXPECT_EQ(out.value, (std::vector<double>{2.0, 5.0, 6.0}));
    EXPECT_EQ(out.time, (std::vector<std::int64_t>{101, 104, 105}));
    EXPECT_EQ(out.value.capacity(), 3u) << "the held-out slice is sized exactly";
    EXPECT_TRUE(s.is_test.empty());
}

TEST(SplitOff, NothingFlaggedKeepsEverythingAndAWrongFlagCountIsRefused) {
    RatingSlice s;
    s.push(0, 1, 2.0);
    s.push(1, 0, 3.0);
    EXPECT_EQ(split_off(s, {0, 0}).size(), 0);
    EXPECT_EQ(s.size(), 2);
    EXPECT_THROW(split_off(s, {1}), InputError);
    EXPECT_EQ(s.size(), 2) << "nothing changed by a refused call";
}
