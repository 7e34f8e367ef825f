#pragma once
/// @file pairs.hpp
/// @brief Text files of (user, item) pairs or (user, item, rating) triples with external IDs:
/// what predict, evaluate and fold-in read. Fields are separated by spaces, tabs or commas and
/// may be quoted (RFC 4180; io/delimited.hpp).

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "distcf/io/delimited.hpp"

namespace distcf {

struct TextPair {
    std::string user, item;
    double rating = 0;
    std::int64_t line = 0;  ///< where it was read, for messages
};

/// Reads the pairs of a file one at a time (memory O(line), whatever the file's size); the same
/// rules and messages as read_pairs.
class PairReader {
  public:
    PairReader(const std::string& path, bool with_rating);
    /// The next pair; false at the end. Throws InputError "FILE:LINE: reason".
    bool next(TextPair& p);

  private:
    std::string path_;
    bool with_rating_;
    std::ifstream in_;
    FieldSplitter splitter_{""};
    std::vector<std::string_view> fields_;
    std::string line_, error_;
    std::int64_t no_ = 0;
};

/// Reads every pair of `path`. With ratings, a first line none of whose fields is a number is a
/// header and is skipped. Throws InputError "FILE:LINE: reason" on a bad line, and for a path that is not a
/// regular file (a directory, say).
std::vector<TextPair> read_pairs(const std::string& path, bool with_rating);

}  // namespace distcf
