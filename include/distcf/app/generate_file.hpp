#pragma once
/// @file generate_file.hpp
/// @brief The generate command's work: a rating store (docs/FORMAT.md) drawn from the notebook's
/// genre model, streamed in batches of whole users.

#include <cstdint>
#include <string>
#include <vector>

#include "distcf/data/generate.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct GenerateReport {
    std::int64_t nnz = 0;
    double seconds = 0.0;
    std::vector<std::int64_t> peak_rss, ratings_per_rank;  ///< per rank
};

/// Generates a data set into `out` (gzip `compression` 0-9; float32 values when
/// `single_precision`). Collective.
GenerateReport generate_to_file(const GenerateParams& p, const std::string& out, int compression, bool single_precision,
                                const std::string& command_line, const Comm& comm);

}  // namespace distcf
