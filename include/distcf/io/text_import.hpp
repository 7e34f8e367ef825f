#pragma once
/// @file text_import.hpp
/// @brief Streaming parsers for MovieLens and delimited rating files.
///
/// Memory is O(ratings): the file is read in blocks, never held whole, and no users x items array
/// is ever formed. Every rejected line is reported as "FILE:LINE: reason".

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "distcf/data/ratings.hpp"

namespace distcf {

enum class TextFormat {
    MovieLens100k,  ///< u.data, u1.base, ...: user<TAB>item<TAB>rating<TAB>timestamp
    MovieLens,      ///< ratings.dat (user::item::rating::timestamp) or ratings.csv (with its header)
    Csv             ///< any delimited file; columns named by ImportOptions::columns
};
enum class DuplicatePolicy { Error, Last, Mean };

TextFormat parse_text_format(const std::string& s);
DuplicatePolicy parse_duplicate_policy(const std::string& s);

/// How to read a text file of ratings.
struct ImportOptions {
    TextFormat format = TextFormat::Csv;
    std::string delimiter;  ///< empty: the format's own (tab, "::" or ","); for csv default ","
    bool header = false;    ///< the first line is a header to skip
    /// Column roles in order: user, item, rating, time, or "_" to ignore a column.
    std::vector<std::string> columns{"user", "item", "rating"};
    std::optional<std::pair<double, double>> rating_range;  ///< reject ratings outside [lo, hi]
    DuplicatePolicy duplicates = DuplicatePolicy::Error;
    std::size_t block_bytes = std::size_t{16} << 20;  ///< read buffer size

    /// Throws InputError naming the bad field.
    void validate() const;
};

/// Parsed ratings with dense indices, sorted by (user, item), duplicates resolved.
struct ImportedRatings {
    RatingSlice ratings;
    IdMap users;
    IdMap items;
    double value_min = 0.0;
    double value_max = 0.0;
    std::int64_t lines = 0;  ///< lines read (including header and blank lines)
};

/// Parses a ratings file. Throws InputError("FILE:LINE: reason") on the first bad line.
ImportedRatings import_text(const std::string& path, const ImportOptions& options);

}  // namespace distcf
