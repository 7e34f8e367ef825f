#pragma once
/// @file partition.hpp
/// @brief BlockPartition: contiguous blocks of rows over the ranks of a communicator.

#include <cstdint>
#include <vector>

namespace distcf {

/// Rows [0, total) cut into `parts` contiguous blocks; block p is [begin(p), end(p)).
/// A value type: cheap to copy, compared by its offsets. Drives every Allgatherv and Alltoallv.
class BlockPartition {
public:
    BlockPartition() : offsets_{0} {}
    /// From explicit offsets: offsets[0] == 0, non-decreasing, size parts + 1.
    explicit BlockPartition(std::vector<std::int64_t> offsets);

    /// Equal row counts (the first `total % parts` blocks get one more row).
    static BlockPartition uniform(std::int64_t total, int parts);
    /// Contiguous blocks whose summed weights are as close as possible to total/parts each
    /// (weights are e.g. the number of ratings of each row, so skewed data do not pile onto one rank).
    static BlockPartition balanced(const std::vector<std::int64_t>& weights, int parts);

    int parts() const noexcept { return static_cast<int>(offsets_.size()) - 1; }
    std::int64_t total() const noexcept { return offsets_.back(); }
    std::int64_t begin(int p) const { return offsets_.at(static_cast<std::size_t>(p)); }
    std::int64_t end(int p) const { return offsets_.at(static_cast<std::size_t>(p) + 1); }
    std::int64_t size(int p) const { return end(p) - begin(p); }
    /// The block that holds row i (0 <= i < total()).
    int owner(std::int64_t i) const;
    const std::vector<std::int64_t>& offsets() const noexcept { return offsets_; }
    /// Block sizes, one per part.
    std::vector<std::int64_t> sizes() const;
    /// Sum of weights per block (weights indexed by row).
    std::vector<std::int64_t> block_weights(const std::vector<std::int64_t>& weights) const;

    friend bool operator==(const BlockPartition& a, const BlockPartition& b) { return a.offsets_ == b.offsets_; }
    friend bool operator!=(const BlockPartition& a, const BlockPartition& b) { return !(a == b); }

private:
    std::vector<std::int64_t> offsets_;
};

}  // namespace distcf
