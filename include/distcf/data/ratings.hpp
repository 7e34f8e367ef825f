#pragma once
/// @file ratings.hpp
/// @brief Rating triplets, external-ID maps and the per-rank CSR blocks every method reads.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "distcf/mpi/partition.hpp"

namespace distcf {

/// External IDs of users or items: dense index i <-> external ID. Integer IDs (MovieLens) are kept
/// as integers; anything else as strings. Imported stores keep ascending external IDs (numeric for
/// integers); a model grown by fold-in appends its new users, so any order is looked up correctly.
/// An ID that appears twice is refused (two users would become one).
class IdMap {
public:
    IdMap() = default;
    static IdMap integers(std::vector<std::int64_t> ids);
    static IdMap strings(std::vector<std::string> ids);
    /// IDs 0 .. n-1 (generated data).
    static IdMap identity(std::int64_t n);

    bool is_integer() const noexcept { return integer_; }
    std::int64_t size() const noexcept { return integer_ ? static_cast<std::int64_t>(ints_.size()) : static_cast<std::int64_t>(strs_.size()); }
    /// The external ID of dense index i, as text.
    std::string label(std::int64_t i) const;
    /// Dense index of an external ID given as text, or nullopt when unknown.
    std::optional<std::int64_t> find(const std::string& external) const;
    const std::vector<std::int64_t>& ints() const noexcept { return ints_; }
    const std::vector<std::string>& strs() const noexcept { return strs_; }
    /// A 64-bit digest of the IDs (kind, order and text), to compare maps across ranks cheaply.
    std::uint64_t digest() const;
    friend bool operator==(const IdMap& a, const IdMap& b) {
        return a.integer_ == b.integer_ && a.ints_ == b.ints_ && a.strs_ == b.strs_;
    }

private:
    void build_index() const;
    bool integer_ = true;
    bool sorted_ = true;  // integers in ascending order: binary search, no index
    std::vector<std::int64_t> ints_;
    std::vector<std::string> strs_;
    mutable std::unordered_map<std::string, std::int64_t> index_;  // built on first find()
};

/// A contiguous run of ratings in (user, item) order: what one rank reads from or writes to a store.
/// Indices are dense and 0-based. `time` and `is_test` are either empty or as long as `value`.
struct RatingSlice {
    std::vector<std::int32_t> user;
    std::vector<std::int32_t> item;
    std::vector<double> value;
    std::vector<std::int64_t> time;
    std::vector<std::uint8_t> is_test;
    std::int64_t size() const noexcept { return static_cast<std::int64_t>(value.size()); }
    void reserve(std::size_t n);
    void push(std::int32_t u, std::int32_t i, double v) { user.push_back(u); item.push_back(i); value.push_back(v); }
};

/// Compressed sparse rows for this rank's block of rows [row0, row0 + rows()). Columns are global
/// indices, ascending within each row (so sums over a row do not depend on the rank count).
struct Csr {
    std::int64_t row0 = 0;
    std::vector<std::int64_t> ptr{0};
    std::vector<std::int32_t> col;
    std::vector<double> val;
    std::int64_t rows() const noexcept { return static_cast<std::int64_t>(ptr.size()) - 1; }
    std::int64_t nnz() const noexcept { return ptr.back(); }
    std::int64_t row_nnz(std::int64_t local_row) const { return ptr[local_row + 1] - ptr[local_row]; }
};

/// Everything a method needs from a rating set, distributed: this rank's users as CSR by user, its
/// items as CSR by item, the two partitions (balanced by ratings) and global statistics.
struct RatingBlocks {
    std::int64_t n_users = 0;
    std::int64_t n_items = 0;
    std::int64_t nnz = 0;         ///< global number of ratings
    double mean = 0.0;            ///< global mean rating
    double rating_min = 1.0;      ///< the rating scale (for clipping predictions)
    double rating_max = 5.0;
    BlockPartition users;         ///< user blocks, one per rank
    BlockPartition items;         ///< item blocks, one per rank
    Csr by_user;                  ///< rows = this rank's users
    Csr by_item;                  ///< rows = this rank's items
    std::vector<std::int64_t> user_counts;  ///< ratings per user, every user (on every rank)
    std::vector<std::int64_t> item_counts;  ///< ratings per item, every item (on every rank)
};

/// Builds CSR rows [row0, row0 + nrows) from triplets whose rows fall in that range; columns sorted.
/// CSR row pointers (nrows + 1) of entries whose rows are `rows` (each in [row0, row0 + nrows),
/// else InputError naming the row and `what`).
std::vector<std::int64_t> row_pointers(std::int64_t row0, std::int64_t nrows, const std::vector<std::int32_t>& rows,
                                       const char* what);

/// Sorts each row of `c` by column (rows already sorted are left as they are), so that row sums
/// do not depend on the order in which entries arrived.
void sort_rows(Csr& c);

Csr build_csr(std::int64_t row0, std::int64_t nrows, const std::vector<std::int32_t>& rows,
              const std::vector<std::int32_t>& cols, const std::vector<double>& vals);

}  // namespace distcf
