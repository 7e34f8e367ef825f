#pragma once
/// @file version.hpp
/// @brief distcf's version string (set by CMake).

namespace distcf {
#ifndef DISTCF_VERSION_STRING
#define DISTCF_VERSION_STRING "0.0.0"
#endif
/// The version of this build.
inline constexpr const char* kVersion = DISTCF_VERSION_STRING;
}  // namespace distcf
