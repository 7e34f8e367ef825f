#pragma once
/// @file training_set.hpp
/// @brief Train and test ratings as the methods take them: the training blocks, and the test
/// ratings as CSR rows under the training user partition (so each rank scores its own users).

#include <cstdint>
#include <string>

#include "distcf/data/ratings.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct TrainingSet {
    RatingBlocks train;
    Csr test;          ///< rows = this rank's users (train.users), may be empty
    IdMap users, items;
    std::int64_t n_test = 0;  ///< test ratings over all ranks
    std::int64_t n_test_unscorable = 0;  ///< --test ratings of users or items the training data lack (left out)
    std::string test_source;  ///< "", "stored split", "--test FILE", "--test-fraction"
};

struct TrainingSetOptions {
    std::string test_path;        ///< a separate test store (same ID space is mapped by external IDs)
    double test_fraction = 0.0;   ///< > 0: hold out this fraction of the data (uniform, rank invariant)
    std::uint64_t split_seed = 42;
    bool use_stored_split = true; ///< a store with /split/is_test trains on train, tests on test
};

/// Loads `path` for training. Collective.
TrainingSet load_training_set(const std::string& path, const TrainingSetOptions& options, const Comm& comm);

/// Ratings of a (test) store as dense indices of another ID space (`users`, `items`): unknown
/// external IDs become -1. The store's stored test side is used when it has one and `test_side`.
RatingSlice read_mapped_slice(const std::string& path, const IdMap& users, const IdMap& items, bool test_side,
                              const Comm& comm);

}  // namespace distcf
