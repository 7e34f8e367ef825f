#pragma once
/// @file item_info.hpp
/// @brief Titles and genres of movies, from MovieLens's own files, so that outputs can name them.

#include <map>
#include <string>

namespace distcf {

struct ItemInfo {
    std::string title;
    std::string genres;  ///< '|'-separated
};

/// Reads MovieLens item metadata, keyed by external item ID (the IDs of the ratings files):
/// `u.item` (100K: id|title|date|video date|url|19 genre flags), `movies.dat` (1M/10M:
/// id::title::genres) or `movies.csv` (20M/25M: movieId,title,genres, titles may be quoted).
/// The format is told by the file name. Throws InputError naming the file and line.
std::map<std::string, ItemInfo> read_item_info(const std::string& path);

}  // namespace distcf
