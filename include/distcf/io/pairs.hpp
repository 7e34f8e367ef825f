#pragma once
/// @file pairs.hpp
/// @brief Text files of (user, item) pairs or (user, item, rating) triples with external IDs:
/// what predict, evaluate and fold-in read. Fields are separated by spaces, tabs or commas and
/// may be quoted (RFC 4180; io/delimited.hpp).

#include <string>
#include <vector>

namespace distcf {

struct TextPair {
    std::string user, item;
    double rating = 0;
};

/// Reads every pair of `path`. With ratings, a first line whose rating is not a number is taken
/// for a header and skipped. Throws InputError "FILE:LINE: reason" on a bad line.
std::vector<TextPair> read_pairs(const std::string& path, bool with_rating);

}  // namespace distcf
