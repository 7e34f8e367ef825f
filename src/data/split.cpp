#include "distcf/data/split.hpp"

#include <algorithm>
#include <cmath>

#include "distcf/data/rng.hpp"
#include "distcf/error.hpp"

namespace distcf {

void SplitOptions::validate() const {
    if (!(test_fraction >= 0.0 && test_fraction < 1.0))
        DISTCF_THROW(ParameterError, "test-fraction: must be in [0, 1), got " + std::to_string(test_fraction));
}

RadixSelection radix_select(const std::vector<std::uint64_t>& keys, std::int64_t k, const Comm& comm) {
    const std::int64_t total = comm.sum<std::int64_t>(static_cast<std::int64_t>(keys.size()));
    if (k < 0 || k >= total) DISTCF_THROW(InputError, "radix_select: k out of range");
    std::uint64_t prefix = 0;  // digits fixed so far
    std::int64_t below = 0;
    std::vector<std::int64_t> hist(1 << 16);
    for (int pass = 0; pass < 4; ++pass) {
        const int shift = 48 - 16 * pass;
        const std::uint64_t high_mask = pass == 0 ? 0 : ~std::uint64_t{0} << (shift + 16);
        std::fill(hist.begin(), hist.end(), 0);
        for (auto key : keys)
            if ((key & high_mask) == prefix) ++hist[(key >> shift) & 0xFFFF];
        comm.sum_in_place(hist);
        std::int64_t need = k - below;  // 0-based rank within the current prefix
        std::size_t d = 0;
        while (hist[d] <= need) {
            need -= hist[d];
            below += hist[d];
            ++d;
        }
        prefix |= static_cast<std::uint64_t>(d) << shift;
    }
    return {prefix, below};
}

std::vector<std::uint8_t> choose_test(const RatingSlice& s, const SplitOptions& o, const Comm& comm) {
    return choose_test(s.user, s.item, o, comm);
}

std::vector<std::uint8_t> choose_test(const std::vector<std::int32_t>& user, const std::vector<std::int32_t>& item,
                                      const SplitOptions& o, const Comm& comm) {
    o.validate();
    if (user.size() != item.size()) DISTCF_THROW(InputError, "choose_test: as many users as items are needed");
    const auto n = static_cast<std::int64_t>(user.size());
    std::vector<std::uint8_t> is_test(static_cast<std::size_t>(n), 0);
    std::vector<std::uint64_t> key(static_cast<std::size_t>(n));
    for (std::int64_t k = 0; k < n; ++k)
        key[k] = random_word(o.rng_seed, Stream::Split, static_cast<std::uint64_t>(user[k]), static_cast<std::uint64_t>(item[k]));

    if (o.per_user) {
        // Each user holds out floor(fraction * n_u) of its ratings: those with the smallest keys.
        for (std::int64_t b = 0; b < n;) {
            std::int64_t e = b + 1;
            while (e < n && user[e] == user[b]) ++e;
            const auto take = static_cast<std::int64_t>(std::floor(o.test_fraction * static_cast<double>(e - b)));
            if (take > 0) {
                std::vector<std::int64_t> idx(static_cast<std::size_t>(e - b));
                for (auto k = b; k < e; ++k) idx[k - b] = k;
                std::nth_element(idx.begin(), idx.begin() + (take - 1), idx.end(), [&](auto x, auto y) {
                    return key[x] < key[y] || (key[x] == key[y] && item[x] < item[y]);
                });
                for (std::int64_t t = 0; t < take; ++t) is_test[idx[t]] = 1;
            }
            b = e;
        }
        return is_test;
    }

    const std::int64_t total = comm.sum(n);
    const auto n_test = static_cast<std::int64_t>(std::floor(o.test_fraction * static_cast<double>(total)));
    if (n_test == 0) return is_test;
    const RadixSelection sel = radix_select(key, n_test - 1, comm);
    // Ties at the threshold (keys are 64-bit, so rare) are broken by (user, item).
    auto pair_code = [&](std::int64_t k) { return static_cast<std::int64_t>(user[k]) * (std::int64_t{1} << 31) + item[k]; };
    std::vector<std::int64_t> tied;
    for (std::int64_t k = 0; k < n; ++k) {
        if (key[k] < sel.value) is_test[k] = 1;
        else if (key[k] == sel.value) tied.push_back(pair_code(k));
    }
    auto all_tied = comm.allgatherv(tied);
    std::sort(all_tied.begin(), all_tied.end());
    const std::int64_t need = n_test - sel.below;
    all_tied.resize(static_cast<std::size_t>(std::min<std::int64_t>(need, static_cast<std::int64_t>(all_tied.size()))));
    for (std::int64_t k = 0; k < n; ++k)
        if (key[k] == sel.value && std::binary_search(all_tied.begin(), all_tied.end(), pair_code(k))) is_test[k] = 1;
    return is_test;
}

RatingSlice split_off(RatingSlice& s, const std::vector<std::uint8_t>& flags) {
    const auto n = s.size();
    if (static_cast<std::int64_t>(flags.size()) != n) DISTCF_THROW(InputError, "split_off: one flag per rating is needed");
    const bool times = !s.time.empty(), tests = !s.is_test.empty();
    if ((times && s.time.size() != s.value.size()) || (tests && s.is_test.size() != s.value.size()))
        DISTCF_THROW(InputError, "split_off: the slice's fields differ in length");
    const auto out_count = static_cast<std::size_t>(std::count_if(flags.begin(), flags.end(), [](std::uint8_t f) { return f != 0; }));
    RatingSlice out;
    out.reserve(out_count);  // exactly: no doubling slack on top of the held ratings
    if (times) out.time.reserve(out_count);
    if (tests) out.is_test.reserve(out_count);
    std::size_t w = 0;
    for (std::size_t k = 0; k < static_cast<std::size_t>(n); ++k) {
        if (flags[k]) {
            out.push(s.user[k], s.item[k], s.value[k]);
            if (times) out.time.push_back(s.time[k]);
            if (tests) out.is_test.push_back(s.is_test[k]);
            continue;
        }
        s.user[w] = s.user[k];
        s.item[w] = s.item[k];
        s.value[w] = s.value[k];
        if (times) s.time[w] = s.time[k];
        if (tests) s.is_test[w] = s.is_test[k];
        ++w;
    }
    s.user.resize(w);
    s.item.resize(w);
    s.value.resize(w);
    if (times) s.time.resize(w);
    if (tests) s.is_test.resize(w);
    return out;
}

}  // namespace distcf

namespace distcf {

std::vector<std::uint8_t> assign_folds(const RatingSlice& s, int folds, std::uint64_t seed, const Comm& comm) {
    if (folds < 2 || folds > 255) DISTCF_THROW(InputError, "folds: must be in [2, 255], got " + std::to_string(folds));
    const std::int64_t n = s.size(), total = comm.sum(n);
    if (total < folds) DISTCF_THROW(InputError, "folds: " + std::to_string(folds) + " folds need at least as many ratings, have " + std::to_string(total));
    std::vector<std::uint64_t> key(static_cast<std::size_t>(n));
    for (std::int64_t k = 0; k < n; ++k)
        key[k] = random_word(seed, Stream::Fold, static_cast<std::uint64_t>(s.user[k]), static_cast<std::uint64_t>(s.item[k]));
    // Fold f holds the keys of global rank [f * total / folds, (f + 1) * total / folds); 64-bit keys
    // make ties (which would go to the later fold) vanishingly rare, and they are deterministic.
    std::vector<std::uint64_t> cut(static_cast<std::size_t>(folds - 1));
    for (int f = 1; f < folds; ++f) cut[f - 1] = radix_select(key, f * total / folds, comm).value;
    std::vector<std::uint8_t> fold(static_cast<std::size_t>(n));
    for (std::int64_t k = 0; k < n; ++k)
        fold[k] = static_cast<std::uint8_t>(std::upper_bound(cut.begin(), cut.end(), key[k]) - cut.begin());
    return fold;
}

}  // namespace distcf
