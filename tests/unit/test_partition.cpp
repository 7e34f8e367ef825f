#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "distcf/error.hpp"
#include "distcf/mpi/partition.hpp"

using distcf::BlockPartition;

TEST(BlockPartition, UniformCoversAllRowsWithSizesDifferingByAtMostOne) {
    const auto p = BlockPartition::uniform(10, 3);
    EXPECT_EQ(p.offsets(), (std::vector<std::int64_t>{0, 4, 7, 10}));
    EXPECT_EQ(p.total(), 10);
    EXPECT_EQ(p.sizes(), (std::vector<std::int64_t>{4, 3, 3}));
    const auto q = BlockPartition::uniform(2, 4);
    EXPECT_EQ(q.sizes(), (std::vector<std::int64_t>{1, 1, 0, 0}));
}

TEST(BlockPartition, OwnerFindsTheBlockOfEveryRow) {
    const auto p = BlockPartition(std::vector<std::int64_t>{0, 2, 2, 5});
    EXPECT_EQ(p.owner(0), 0);
    EXPECT_EQ(p.owner(1), 0);
    EXPECT_EQ(p.owner(2), 2);  // block 1 is empty
    EXPECT_EQ(p.owner(4), 2);
    EXPECT_THROW(p.owner(5), distcf::InputError);
}

TEST(BlockPartition, BalancedCutsAtEqualWeight) {
    // Weights 1,1,1,1,4: total 8, two parts of 4.
    const auto p = BlockPartition::balanced({1, 1, 1, 1, 4}, 2);
    EXPECT_EQ(p.offsets(), (std::vector<std::int64_t>{0, 4, 5}));
    EXPECT_EQ(p.block_weights({1, 1, 1, 1, 4}), (std::vector<std::int64_t>{4, 4}));
}

TEST(BlockPartition, BalancedKeepsZipfSkewedLoadWithin20PercentOfMean) {
    // Rows sorted by index with Zipf-like weights (row r has ~ 1e6 / (r+1) ratings), shuffled order
    // of heavy rows so the heavy ones are not all at the start.
    std::vector<std::int64_t> w(5000);
    for (std::size_t r = 0; r < w.size(); ++r) w[(r * 7919) % w.size()] = static_cast<std::int64_t>(2e4 / std::pow(r + 1.0, 0.8)) + 1;
    for (int parts : {2, 3, 4, 8, 16}) {
        const auto p = BlockPartition::balanced(w, parts);
        const auto load = p.block_weights(w);
        const double mean = std::accumulate(load.begin(), load.end(), 0.0) / parts;
        for (auto l : load) EXPECT_LE(static_cast<double>(l), 1.2 * mean) << "parts=" << parts;
        EXPECT_EQ(p.total(), static_cast<std::int64_t>(w.size()));
    }
}

TEST(BlockPartition, BalancedOfAllZeroWeightsFallsBackToUniform) {
    EXPECT_EQ(BlockPartition::balanced({0, 0, 0, 0}, 2), BlockPartition::uniform(4, 2));
}

TEST(BlockPartition, RejectsOffsetsThatDecrease) {
    EXPECT_THROW(BlockPartition(std::vector<std::int64_t>{0, 3, 2}), distcf::InputError);
    EXPECT_THROW(BlockPartition(std::vector<std::int64_t>{1, 3}), distcf::InputError);
}
