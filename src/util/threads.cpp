#include "distcf/util/threads.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

namespace distcf {

void reexec_with_passive_wait(int /*argc*/, char** argv) {
    if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("DISTCF_NO_REEXEC") != nullptr) return;
    // The marker stops a second round even if the policy were unset again in between.
    setenv("OMP_WAIT_POLICY", "passive", 1);
    setenv("DISTCF_NO_REEXEC", "1", 1);
    execv("/proc/self/exe", argv);
    // Not reached unless exec failed (no /proc): go on with the default policy.
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
