#pragma once
/// @file oracle.hpp
/// @brief The oracle RMSE of generated data: noise-free truth (/truth/value) against the observed
/// noisy ratings. No method can be expected to do better on average.

#include <string>

#include "distcf/mpi/comm.hpp"

namespace distcf {

struct OracleRmse {
    double all = -1.0;
    double train = -1.0;  ///< -1 when the store has no split
    double test = -1.0;
    double noise = -1.0;  ///< the generator's noise sd (attribute `noise`), -1 if absent
};

/// Reads /truth/value beside /ratings/value (same hyperslabs as read_slice). Collective.
OracleRmse oracle_rmse(const std::string& path, const Comm& comm);

}  // namespace distcf
