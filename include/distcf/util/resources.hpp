#pragma once
/// @file resources.hpp
/// @brief Process resource figures for progress lines and benchmarks.

#include <cstdint>

namespace distcf {

/// Peak resident set size of this process so far, in bytes (getrusage).
std::int64_t peak_rss_bytes();

}  // namespace distcf
