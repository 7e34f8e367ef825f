#pragma once
/// @file summary.hpp
/// @brief Descriptive statistics of a distributed rating set (what `distcf info` prints).

#include <cstdint>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct CountStats {
    std::int64_t min = 0;
    double mean = 0.0;
    std::int64_t max = 0;
};

struct RatingSummary {
    std::int64_t users = 0;
    std::int64_t items = 0;
    std::int64_t ratings = 0;
    double density = 0.0;          ///< ratings / (users * items)
    double mean = 0.0;
    double value_min = 0.0;        ///< observed
    double value_max = 0.0;
    double scale_min = 0.0;        ///< declared rating scale
    double scale_max = 0.0;
    std::vector<double> bin_edges; ///< histogram edges (bins + 1), or bin centres when `discrete`
    std::vector<std::int64_t> bin_counts;
    bool discrete = false;         ///< whole or half stars only: one bin per possible value
    bool log2_bins = false;        ///< counts (whole numbers beyond 20): bins [0, 1), [1, 2), [2, 4), ...
    CountStats per_user;
    CountStats per_item;
    std::int64_t users_without_ratings = 0;
    std::int64_t items_without_ratings = 0;
};

/// Statistics over all ranks' blocks; identical on every rank. Collective.
RatingSummary summarize(const RatingBlocks& b, const Comm& comm);

}  // namespace distcf
