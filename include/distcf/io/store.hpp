#pragma once
/// @file store.hpp
/// @brief The rating store: one HDF5 file per data set (layout in docs/FORMAT.md), written atomically
/// and in parallel, read as per-rank hyperslabs.

#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// Version of the on-disk layout this build writes and reads.
inline constexpr std::int64_t kStoreFormatVersion = 1;
/// Value of the root attribute `format` of a rating store.
inline constexpr const char* kStoreFormat = "distcf-ratings";

/// Who made a file, how and when; written as root attributes of every output.
struct Provenance {
    std::string command_line;
    std::string version;
    std::string created;  ///< ISO 8601, UTC
    /// Provenance of the running program with the given command line.
    static Provenance now(const std::string& command_line);
    void write(const h5::Location& loc) const;
};

/// Root attributes of a rating store.
struct StoreHeader {
    std::int64_t n_users = 0;
    std::int64_t n_items = 0;
    double rating_min = 1.0;
    double rating_max = 5.0;
    Provenance provenance;
    std::map<std::string, std::string> text_attrs;   ///< e.g. source file, generator parameters
    std::map<std::string, double> number_attrs;
    int compression = 1;  ///< gzip level of the rating datasets (0: none, fastest to write)
    /// /ratings/value stored as 32-bit floats (half the bytes; readers convert to double). For
    /// continuous synthetic ratings, whose 7 significant digits are far below the noise.
    bool single_precision = false;
};

/// What a store holds, read from its attributes and checked against its datasets.
struct StoreInfo {
    std::string path;
    std::int64_t n_users = 0;
    std::int64_t n_items = 0;
    std::int64_t nnz = 0;
    double rating_min = 1.0;
    double rating_max = 5.0;
    bool has_time = false;
    bool has_split = false;   ///< /split/is_test present
    bool has_truth = false;   ///< /truth present (generated data)
    std::int64_t format_version = 0;
};

/// Which ratings of a store to read: all, or one side of its stored split.
enum class Subset { All, Train, Test };

/// A store written in batches, so that no rank ever holds all its ratings: the file and its
/// datasets are created for `mine_total` ratings on this rank (offsets by an exclusive scan), then
/// each write() appends a batch at this rank's running offset. write() is collective: every rank
/// calls it equally often, an empty batch where it has none left. The file appears at `path` only
/// on commit(); destroyed uncommitted (an exception), it leaves nothing behind.
class StoreWriter {
public:
    StoreWriter(const std::string& path, const Comm& comm, const StoreHeader& header, std::int64_t mine_total,
                const IdMap& users, const IdMap& items, bool has_time, bool has_split);
    StoreWriter(const StoreWriter&) = delete;
    StoreWriter& operator=(const StoreWriter&) = delete;
    ~StoreWriter();

    /// Appends a batch (user, item, value; time and is_test when the store has them). Collective.
    void write(const RatingSlice& batch);
    /// Like write, but independent: only this rank calls, as many times as it needs, so ranks
    /// write while others are still drawing their next batch. Its own per-rating datasets
    /// (beside the ratings) go with Dataset::write_rows_independent.
    void append(const RatingSlice& batch);
    /// Ratings this rank has written so far.
    std::int64_t written() const noexcept { return written_; }
    /// The open file, for groups beside the ratings (e.g. /truth); rows of a per-rating dataset
    /// start at offset() on this rank.
    const h5::File& file() const { return *file_; }
    std::int64_t offset() const noexcept { return offset_; }
    std::int64_t nnz() const noexcept { return nnz_; }
    /// Checks that every rank wrote what it announced, closes and renames. Collective.
    void commit();

private:
    void put(const RatingSlice& batch, bool collective);
    Comm comm_;  // a view: the caller's Comm may be a temporary (Comm::self())
    std::unique_ptr<AtomicOutput> out_;
    std::unique_ptr<h5::File> file_;
    std::int64_t mine_total_ = 0, offset_ = 0, nnz_ = 0, written_ = 0, n_test_ = 0;
    bool has_time_ = false, has_split_ = false, single_ = false;
    std::vector<float> narrow_;  // a batch's values as stored, with single_precision
};

/// Writes a store atomically (temporary name, renamed on success). Collective: each rank passes its
/// slice of the ratings, slices in rank order forming the whole set in (user, item) order; offsets
/// come from an exclusive scan. `extra` (collective) may add groups before the file is closed.
void write_store(const std::string& path, const Comm& comm, const StoreHeader& header, const RatingSlice& mine,
                 const IdMap& users, const IdMap& items,
                 const std::function<void(const h5::File&)>& extra = {});

/// Reads and validates the header: our format, our version, consistent shapes. Collective.
StoreInfo read_store_info(const std::string& path, const Comm& comm);

/// Whether a read brings the ratings' times along (when the store has them): training has no use
/// for them, and inflating them took about 1 ms of the 8 ms that loading u1.base took.
enum class Times { Read, Skip };

/// This rank's contiguous share of the ratings (an even cut of the file), restricted to `subset`.
/// Indices are checked against n_users / n_items. Collective.
RatingSlice read_slice(const std::string& path, const Comm& comm, Subset subset, StoreInfo* info = nullptr,
                       Times times = Times::Read);

/// Like read_slice, but cut at user boundaries (blocks balanced by ratings): every user's ratings
/// are in one rank's slice. Collective.
RatingSlice read_user_aligned_slice(const std::string& path, const Comm& comm, Subset subset, StoreInfo* info = nullptr,
                                    Times times = Times::Read);

/// The external ID maps (/ids/users, /ids/items), on every rank.
std::pair<IdMap, IdMap> read_id_maps(const std::string& path, const Comm& comm);

/// Writes an IdMap as /ids/<name> (int64 or fixed-length strings). Collective.
/// Writes an ID map (collective). Rank 0's map is what is written: a rank whose map differs (one
/// that parsed nothing, say) takes rank 0's, so every rank writes the same dataset.
void write_ids(const h5::Location& loc, const std::string& name, const IdMap& ids);
/// Rank 0's ID map on every rank; cheap (a digest) when they already agree. Collective.
IdMap share_ids(const IdMap& ids, const Comm& comm);
IdMap read_ids(const h5::Location& loc, const std::string& name);

/// Partitioned read: the slice, then ratings sent to their owners (Alltoallv) as CSR by user and
/// by item, with partitions balanced by number of ratings. Collective.
RatingBlocks load_blocks(const std::string& path, const Comm& comm, Subset subset = Subset::All);

}  // namespace distcf
