#pragma once
/// @file distribute.hpp
/// @brief From per-rank slices of ratings to the distributed CSR blocks (and back).

#include "distcf/data/ratings.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// Sends every rating of every rank's slice to the owner of its user and of its item (Alltoallv)
/// and builds RatingBlocks. Partitions are contiguous and balanced by number of ratings. Collective.
/// The rvalue form consumes the slice as it goes (peak: the two CSRs, 24 B a rating, and a bounded
/// round of sends); the other copies it first.
RatingBlocks distribute(RatingSlice&& mine, std::int64_t n_users, std::int64_t n_items, double rating_min,
                        double rating_max, const Comm& comm);
RatingBlocks distribute(const RatingSlice& mine, std::int64_t n_users, std::int64_t n_items, double rating_min,
                        double rating_max, const Comm& comm);

/// Sends triplets to the owner of their row under `part` and builds that rank's CSR rows
/// (columns ascending). Collective.
Csr route_rows(const std::vector<std::int32_t>& rows, const std::vector<std::int32_t>& cols,
               const std::vector<double>& vals, const BlockPartition& part, const Comm& comm);

/// Training ratings split for validation inside them: `fit` (distributed as `distribute` does) and
/// `held_out` (CSR by user under fit.users), a fraction of the ratings chosen by choose_test from
/// (seed, user, item) -- the same ratings on any number of ranks. Collective.
struct HoldOut {
    RatingBlocks fit;
    Csr held_out;
};
HoldOut hold_out(const RatingBlocks& train, double fraction, std::uint64_t seed, const Comm& comm);

/// This rank's users' ratings in (user, item) order: concatenated over ranks this is the whole set
/// in store order.
RatingSlice slice_of(const Csr& by_user);

}  // namespace distcf
