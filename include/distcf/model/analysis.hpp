#pragma once
/// @file analysis.hpp
/// @brief The notebook's look at the latent space: movie similarity, 2-D projections and the
/// alignment of factors with genres. Small dense computations on a model every rank holds.

#include <cstdint>
#include <vector>

namespace distcf {

/// Cosine similarity of the rows of F (n x k, row-major): n x n, row-major; a zero row is
/// similar to nothing (0).
std::vector<double> cosine_similarity(const std::vector<double>& F, std::int64_t n, int k);

/// The top two right singular directions of F (n x k): k x 2, row-major, signs fixed so that the
/// largest component of each is positive.
std::vector<double> top_two_directions(const std::vector<double>& F, std::int64_t n, int k);

/// Rows of F projected on `directions` (k x 2): n x 2, row-major.
std::vector<double> project(const std::vector<double>& F, std::int64_t n, int k, const std::vector<double>& directions);

/// genres x k counts: how many items of each true genre have factor f as their dominant
/// (largest |value|) factor.
std::vector<std::int64_t> genre_alignment(const std::vector<double>& V, std::int64_t n_items, int k,
                                          const std::vector<std::int32_t>& item_genre, int genres);

}  // namespace distcf
