#include "distcf/data/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace distcf {

namespace {
CountStats count_stats(const std::vector<std::int64_t>& counts, std::int64_t* zeros) {
    CountStats s;
    if (counts.empty()) return s;
    s.min = *std::min_element(counts.begin(), counts.end());
    s.max = *std::max_element(counts.begin(), counts.end());
    double sum = 0;
    for (auto c : counts) {
        sum += static_cast<double>(c);
        if (c == 0) ++*zeros;
    }
    s.mean = sum / static_cast<double>(counts.size());
    return s;
}
}  // namespace

RatingSummary summarize(const RatingBlocks& b, const Comm& comm) {
    RatingSummary s;
    s.users = b.n_users;
    s.items = b.n_items;
    s.ratings = b.nnz;
    s.density = (b.n_users && b.n_items) ? static_cast<double>(b.nnz) / (static_cast<double>(b.n_users) * static_cast<double>(b.n_items)) : 0.0;
    s.mean = b.mean;
    s.scale_min = b.rating_min;
    s.scale_max = b.rating_max;
    const auto& v = b.by_user.val;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    int half_steps = 1, whole = 1;
    for (double x : v) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
        if (half_steps && std::fabs(x * 2.0 - std::round(x * 2.0)) > 1e-9) half_steps = 0;
        if (whole && std::fabs(x - std::round(x)) > 1e-9) whole = 0;
    }
    s.value_min = comm.min(lo);
    s.value_max = comm.max(hi);
    half_steps = comm.min(half_steps);
    whole = comm.min(whole);
    if (b.nnz == 0) {
        s.value_min = s.value_max = 0;
    } else if (half_steps && (s.value_max - s.value_min) <= 20.0) {
        // One bin per possible value: whole stars, or half stars.
        s.discrete = true;
        const double per = whole ? 1.0 : 2.0;
        const auto nb = static_cast<std::size_t>(std::llround((s.value_max - s.value_min) * per)) + 1;
        s.bin_counts.assign(nb, 0);
        for (std::size_t i = 0; i < nb; ++i) s.bin_edges.push_back(s.value_min + static_cast<double>(i) / per);
        for (double x : v) ++s.bin_counts[static_cast<std::size_t>(std::llround((x - s.value_min) * per))];
    } else if (whole && s.value_min >= 0 && s.value_max > 20.0) {
        // Counts (implicit feedback): their spread is orders of magnitude, so bins by powers of
        // two -- [0, 1), [1, 2), [2, 4), ... -- where a linear histogram would put all in one bin.
        s.log2_bins = true;
        const auto nb = static_cast<std::size_t>(std::floor(std::log2(std::max(1.0, s.value_max)))) + 2;
        s.bin_edges.push_back(0.0);
        for (std::size_t i = 0; i < nb; ++i) s.bin_edges.push_back(std::ldexp(1.0, static_cast<int>(i)));
        s.bin_counts.assign(nb, 0);
        for (double x : v) {
            const std::size_t k = x < 1.0 ? 0 : static_cast<std::size_t>(std::floor(std::log2(x))) + 1;
            ++s.bin_counts[std::min(k, nb - 1)];
        }
    } else {
        const std::size_t nb = 10;
        const double width = (s.value_max - s.value_min) / nb;
        s.bin_counts.assign(nb, 0);
        for (std::size_t i = 0; i <= nb; ++i) s.bin_edges.push_back(s.value_min + width * static_cast<double>(i));
        for (double x : v) {
            auto k = width > 0 ? static_cast<std::size_t>((x - s.value_min) / width) : 0;
            ++s.bin_counts[std::min(k, nb - 1)];
        }
    }
    if (!s.bin_counts.empty()) comm.sum_in_place(s.bin_counts);
    s.per_user = count_stats(b.user_counts, &s.users_without_ratings);
    s.per_item = count_stats(b.item_counts, &s.items_without_ratings);
    return s;
}

}  // namespace distcf
