#include "distcf/util/threads.hpp"

#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace distcf {

CpuVector CpuVector::detect() {
    CpuVector v;
#if defined(__x86_64__) || defined(__i386__)
    // libgcc's cpuid checks also ask the OS (XGETBV) whether it saves the wide registers.
    __builtin_cpu_init();
    v.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    v.avx512 = v.avx2_fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#endif
    return v;
}

std::string blas_core_name() {
    // Looked up, not linked: a BLAS other than OpenBLAS has no such function.
    using Fn = char* (*)();
    const auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    const char* name = fn ? fn() : nullptr;
    return name ? name : "";
}

ProcessEnvironment ProcessEnvironment::current() {
    ProcessEnvironment e;
    e.wait_policy = std::getenv("OMP_WAIT_POLICY");
    e.spin_count = std::getenv("GOMP_SPINCOUNT");
    e.tunables = std::getenv("GLIBC_TUNABLES");
    e.blas_coretype = std::getenv("OPENBLAS_CORETYPE");
    e.blas_thread_timeout = std::getenv("OPENBLAS_THREAD_TIMEOUT");
    e.blas_core = blas_core_name();
    e.cpu = CpuVector::detect();
    return e;
}

std::vector<std::pair<std::string, std::string>> process_settings(const ProcessEnvironment& env) {
    std::vector<std::pair<std::string, std::string>> add;
    // A bounded spin (util/threads.hpp): libgomp's own default spins 30 times longer and collapsed
    // beside other work; passive waiting pays a wake-up at every parallel region.
    if (env.wait_policy == nullptr && env.spin_count == nullptr) add.emplace_back("GOMP_SPINCOUNT", "10000");
    // Transparent huge pages for malloc's large blocks (glibc >= 2.35; older ones ignore the
    // name): a page fault per 2 MiB instead of per 4 KiB. Loading 9.5M ratings spent 60% of its
    // time faulting in fresh pages on a VM (1.6-1.8 s); with huge pages 0.5-0.7 s. A tunable the
    // user set (hugetlb=0 included) is kept.
    const std::string t = env.tunables ? env.tunables : "";
    if (t.find("glibc.malloc.hugetlb") == std::string::npos)
        add.emplace_back("GLIBC_TUNABLES", (t.empty() ? std::string() : t + ":") + "glibc.malloc.hugetlb=1");
    if (env.blas_core.empty()) return add;  // not OpenBLAS
    // OpenBLAS (DYNAMIC_ARCH) picks its kernels by the CPU's family and model, and one it does not
    // know gets the generic fallback: Debian 12's 0.3.21 ran SSE3 (Prescott) kernels on a 2-core
    // AVX-512 Xeon VM, and ALS on MovieLens u1 took 0.81 s instead of 0.41 s, BPMF 2.1 s instead of
    // 1.0 s. Only such pre-AVX fallbacks are replaced, by the kernels the vector units can run;
    // a core type the user set is kept.
    static const char* const kFallbacks[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom",
                                             "Katmai", "Coppermine", "Northwood", "Banias", "Opteron", "Barcelona",
                                             "Athlon", "Bobcat"};
    const bool fallback = std::any_of(std::begin(kFallbacks), std::end(kFallbacks),
                                      [&env](const char* f) { return env.blas_core == f; });
    if (env.blas_coretype == nullptr && fallback) {
        if (env.cpu.avx512) add.emplace_back("OPENBLAS_CORETYPE", "SkylakeX");
        else if (env.cpu.avx2_fma) add.emplace_back("OPENBLAS_CORETYPE", "Haswell");
    }
    // OpenBLAS's worker threads spin on sched_yield for 2^28 cycles (0.1 s) after start-up and
    // after every threaded call before they sleep: in `distcf --version` on 2 cores that was 32 of
    // its 64 ms of CPU time (44 ms of wall time; 35 ms with 2^4), and in a training run the
    // spinner takes a core from the OpenMP threads (distcf calls OpenBLAS single-threaded inside
    // its parallel regions, so the workers seldom have anything to do). As OMP_WAIT_POLICY.
    if (env.blas_thread_timeout == nullptr) add.emplace_back("OPENBLAS_THREAD_TIMEOUT", "4");
    return add;
}

void reexec_with_process_settings(int /*argc*/, char** argv) {
    if (std::getenv("DISTCF_NO_REEXEC") != nullptr) return;
    const auto add = process_settings(ProcessEnvironment::current());
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
