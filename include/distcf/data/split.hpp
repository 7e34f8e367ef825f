#pragma once
/// @file split.hpp
/// @brief Train/test splits of observed ratings, identical for any number of ranks.

#include <cstdint>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct SplitOptions {
    double test_fraction = 0.2;
    std::uint64_t rng_seed = 42;
    /// false: exactly floor(fraction * nnz) ratings, uniform over all observed ratings (as the
    /// notebook's shuffle); true: floor(fraction * n_u) of each user's ratings.
    bool per_user = false;
    void validate() const;
};

/// Chooses the test ratings of this rank's slice; returns one flag per rating. Each rating gets a
/// key from (seed, user, item) and the smallest keys are held out, so the split depends neither on
/// the rank count nor on the order of the file. With per_user, each user's ratings must lie in one
/// slice, consecutively (read_user_aligned_slice). Collective.
std::vector<std::uint8_t> choose_test(const RatingSlice& slice, const SplitOptions& options, const Comm& comm);

/// The same from the (user, item) pairs alone: the values play no part in the split.
std::vector<std::uint8_t> choose_test(const std::vector<std::int32_t>& user, const std::vector<std::int32_t>& item,
                                      const SplitOptions& options, const Comm& comm);

/// Moves the flagged ratings of `slice` out into the returned slice and closes the gaps in place
/// (both keep the slice's order; times and test flags go along where the slice has them): a
/// split at load time then holds the ratings once, not twice.
RatingSlice split_off(RatingSlice& slice, const std::vector<std::uint8_t>& flags);

/// Assigns each rating of this rank's slice to one of `folds` validation folds (0 .. folds-1) of
/// sizes floor or ceil of nnz / folds: rating keys from (seed, user, item) on their own stream,
/// cut at the exact quantiles (radix_select), so folds depend neither on the rank count nor on the
/// order of the data. Collective.
std::vector<std::uint8_t> assign_folds(const RatingSlice& slice, int folds, std::uint64_t seed, const Comm& comm);

/// The k-th smallest (0-based) of all ranks' keys, exact, by a 4-pass 16-bit radix select with
/// Allreduce of the digit histograms. Also returns how many keys equal to it rank below k.
struct RadixSelection {
    std::uint64_t value = 0;
    std::int64_t below = 0;  ///< number of keys strictly smaller than value (over all ranks)
};
RadixSelection radix_select(const std::vector<std::uint64_t>& keys, std::int64_t k, const Comm& comm);

}  // namespace distcf
