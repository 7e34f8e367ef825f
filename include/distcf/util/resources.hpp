#pragma once
/// @file resources.hpp
/// @brief Process resource figures for progress lines and benchmarks.

#include <cstdint>

namespace distcf {

/// Peak resident set size of this process so far, in bytes (getrusage).
std::int64_t peak_rss_bytes();

/// Resident set size of this process now, in bytes (/proc/self/statm; -1 when unknown).
std::int64_t current_rss_bytes();

/// Memory this process could still take, in bytes: MemAvailable of /proc/meminfo (or the cgroup's
/// limit when lower); -1 when unknown.
std::int64_t available_memory_bytes();

}  // namespace distcf
