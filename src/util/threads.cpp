#include "distcf/util/threads.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace distcf {

std::vector<std::pair<std::string, std::string>> process_settings(const char* wait_policy, const char* tunables) {
    std::vector<std::pair<std::string, std::string>> add;
    if (wait_policy == nullptr) add.emplace_back("OMP_WAIT_POLICY", "passive");
    // Transparent huge pages for malloc's large blocks (glibc >= 2.35; older ones ignore the
    // name): a page fault per 2 MiB instead of per 4 KiB. Loading 9.5M ratings spent 60% of its
    // time faulting in fresh pages on a VM (1.6-1.8 s); with huge pages 0.5-0.7 s. A tunable the
    // user set (hugetlb=0 included) is kept.
    const std::string t = tunables ? tunables : "";
    if (t.find("glibc.malloc.hugetlb") == std::string::npos)
        add.emplace_back("GLIBC_TUNABLES", (t.empty() ? std::string() : t + ":") + "glibc.malloc.hugetlb=1");
    return add;
}

void reexec_with_passive_wait(int /*argc*/, char** argv) {
    if (std::getenv("DISTCF_NO_REEXEC") != nullptr) return;
    const auto add = process_settings(std::getenv("OMP_WAIT_POLICY"), std::getenv("GLIBC_TUNABLES"));
    if (add.empty()) return;
    for (const auto& [name, value] : add) setenv(name.c_str(), value.c_str(), 1);
    // The marker stops a second round even if a setting were unset again in between.
    setenv("DISTCF_NO_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    // Not reached unless exec failed (no /proc): go on with the default settings.
}

int default_thread_count(int local_ranks) {
    if (const char* s = std::getenv("SLURM_CPUS_PER_TASK")) {
        const int n = std::atoi(s);
        if (n > 0) return n;
    }
    int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) cores = std::max(1, CPU_COUNT(&set));
    // Bound to a core or a few (mpirun binds each of 2 ranks to one core): at most those; unbound
    // on a node shared by local ranks: at most a share of the node.
    const int node_share = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) / std::max(1, local_ranks);
    return std::max(1, std::min(cores, node_share));
}

}  // namespace distcf
