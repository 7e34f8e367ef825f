#include "distcf/error.hpp"

namespace distcf {

namespace {
std::string basename_of(const char* path) {
    std::string p(path ? path : "?");
    const auto pos = p.find_last_of('/');
    return pos == std::string::npos ? p : p.substr(pos + 1);
}
}  // namespace

Error::Error(const std::string& what, const char* file, int line)
    : std::runtime_error(what), file_(basename_of(file)), line_(line) {}

}  // namespace distcf
