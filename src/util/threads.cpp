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
    e.blas_coretype = std::getenv("OPENBLAS_CORETYPE");
    e.blas_core = blas_core_name();
    e.cpu = CpuVector::detect();
    return e;
}

std::vector<std::pair<std::string, std::string>> process_settings(const ProcessEnvironment& env) {
    std::vector<std::pair<std::string, std::string>> add;
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
    // Not reached unless exec failed (no /proc): go on with OpenBLAS's own choice.
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
