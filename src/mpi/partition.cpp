#include "distcf/mpi/partition.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "distcf/error.hpp"

namespace distcf {

BlockPartition::BlockPartition(std::vector<std::int64_t> offsets) : offsets_(std::move(offsets)) {
    if (offsets_.size() < 2 || offsets_.front() != 0)
        DISTCF_THROW(InputError, "BlockPartition: offsets must start at 0 and name at least one block");
    for (std::size_t i = 1; i < offsets_.size(); ++i)
        if (offsets_[i] < offsets_[i - 1])
            DISTCF_THROW(InputError, "BlockPartition: offsets must be non-decreasing (offset " +
                                         std::to_string(i) + ")");
}

BlockPartition BlockPartition::uniform(std::int64_t total, int parts) {
    if (parts < 1 || total < 0) DISTCF_THROW(InputError, "BlockPartition::uniform: parts must be >= 1 and total >= 0");
    std::vector<std::int64_t> off(static_cast<std::size_t>(parts) + 1, 0);
    const std::int64_t base = total / parts, extra = total % parts;
    for (int p = 0; p < parts; ++p) off[p + 1] = off[p] + base + (p < extra ? 1 : 0);
    return BlockPartition(std::move(off));
}

BlockPartition BlockPartition::balanced(const std::vector<std::int64_t>& weights, int parts) {
    if (parts < 1) DISTCF_THROW(InputError, "BlockPartition::balanced: parts must be >= 1");
    const std::int64_t n = static_cast<std::int64_t>(weights.size());
    std::vector<std::int64_t> prefix(weights.size() + 1, 0);
    for (std::size_t i = 0; i < weights.size(); ++i) {
        if (weights[i] < 0) DISTCF_THROW(InputError, "BlockPartition::balanced: negative weight");
        prefix[i + 1] = prefix[i] + weights[i];
    }
    const std::int64_t total = prefix.back();
    if (total == 0) return uniform(n, parts);
    std::vector<std::int64_t> off(static_cast<std::size_t>(parts) + 1, 0);
    off[parts] = n;
    for (int p = 1; p < parts; ++p) {
        // Ideal cut: the prefix closest to p/parts of the total weight.
        const long double target = static_cast<long double>(total) * p / parts;
        auto it = std::lower_bound(prefix.begin(), prefix.end(), static_cast<std::int64_t>(std::ceil(target)));
        std::int64_t cut = it - prefix.begin();
        if (cut > 0 && (target - prefix[cut - 1]) < (prefix[std::min(cut, n)] - target)) --cut;
        cut = std::clamp(cut, off[p - 1], n);
        off[p] = cut;
    }
    return BlockPartition(std::move(off));
}

int BlockPartition::owner(std::int64_t i) const {
    if (i < 0 || i >= total()) DISTCF_THROW(InputError, "BlockPartition::owner: row " + std::to_string(i) + " out of range");
    auto it = std::upper_bound(offsets_.begin(), offsets_.end(), i);
    return static_cast<int>(it - offsets_.begin()) - 1;
}

std::vector<std::int64_t> BlockPartition::sizes() const {
    std::vector<std::int64_t> s(static_cast<std::size_t>(parts()));
    for (int p = 0; p < parts(); ++p) s[p] = size(p);
    return s;
}

std::vector<std::int64_t> BlockPartition::block_weights(const std::vector<std::int64_t>& weights) const {
    std::vector<std::int64_t> w(static_cast<std::size_t>(parts()), 0);
    for (int p = 0; p < parts(); ++p)
        for (std::int64_t i = begin(p); i < end(p); ++i) w[p] += weights.at(static_cast<std::size_t>(i));
    return w;
}

}  // namespace distcf
