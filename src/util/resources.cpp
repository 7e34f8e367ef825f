#include "distcf/util/resources.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace distcf {

std::int64_t peak_rss_bytes() {
    rusage u{};
    if (getrusage(RUSAGE_SELF, &u) != 0) return -1;
    return static_cast<std::int64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace distcf

namespace distcf {

std::int64_t current_rss_bytes() {
    long long pages = -1, resident = -1;
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return -1;
    const int n = std::fscanf(f, "%lld %lld", &pages, &resident);
    std::fclose(f);
    return n == 2 ? static_cast<std::int64_t>(resident) * sysconf(_SC_PAGESIZE) : -1;
}

std::int64_t available_memory_bytes() {
    std::int64_t avail = -1;
    if (std::FILE* f = std::fopen("/proc/meminfo", "r")) {
        char key[64];
        long long kib = 0;
        while (std::fscanf(f, "%63s %lld kB\n", key, &kib) == 2)
            if (std::string(key) == "MemAvailable:") {
                avail = static_cast<std::int64_t>(kib) * 1024;
                break;
            }
        std::fclose(f);
    }
    // A container's limit may be lower than the machine's memory.
    if (std::FILE* f = std::fopen("/sys/fs/cgroup/memory.max", "r")) {
        long long limit = 0;
        if (std::fscanf(f, "%lld", &limit) == 1 && limit > 0 && (avail < 0 || limit < avail)) avail = limit;
        std::fclose(f);
    }
    return avail;
}

}  // namespace distcf
