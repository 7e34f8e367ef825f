#pragma once
/// @file threads.hpp
/// @brief OpenMP threads that behave on a shared node.
///
/// Measured on a 2-core machine beside a 2-thread CPU hog: with libgomp's default (threads spin
/// 300,000 rounds at every barrier before they sleep) `distcf study` took 1.9-16.6 s instead of
/// 0.8 s; with passive waiting 1.2-1.3 s. Passive waiting costs a wake-up (tens of microseconds)
/// per parallel region, which tiny regions cannot repay: regions below `kMinParallelWork` run on
/// one thread (`#pragma omp parallel for if (worth_threads(work))`). The default is a bounded spin
/// between the two (GOMP_SPINCOUNT=10000, given to libgomp before it loads: util/startup.hpp):
/// threads that wait briefly catch the next region without a wake-up (a Bayesian MF sweep on
/// MovieLens u1, 6 regions: 2.0 ms against 2.3 ms passive; 1.97 ms spinning), and sleep soon
/// enough to leave a shared core alone (beside the hog, medians of scripts/bench_busy.sh: train
/// 2.2x its quiet time, study 1.7x; passive 2.2x and 1.6x; spinning 2.6x and 2.2x).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace distcf {

/// Work (about one floating-point operation per unit) below which a loop runs on one thread.
constexpr double kMinParallelWork = 2e5;

inline bool worth_threads(double work) { return work >= kMinParallelWork; }

/// What the CPU offers OpenBLAS's kernels (cpuid, with the OS's support for the registers).
struct CpuVector {
    bool avx2_fma = false;  ///< AVX2 and FMA: OpenBLAS's Haswell kernels
    bool avx512 = false;    ///< AVX-512 F, CD, BW, DQ and VL: its SkylakeX kernels
    static CpuVector detect();
};

/// Before anything else in main (before MPI_Init): OpenBLAS picks its kernels when it loads, by
/// the CPU's family and model, and falls back to pre-AVX kernels for a CPU it does not know
/// (Debian 12's 0.3.21 takes a current Xeon or EPYC VM for a Prescott, SSE3 kernels). Only then,
/// and when OPENBLAS_CORETYPE is unset, the program sets the core the CPU's vector units match
/// (SkylakeX or Haswell) and executes itself again, once (DISTCF_NO_REEXEC=1 skips it). What the
/// other libraries read when they load comes from libdistcf_startup.so, with no second start
/// (distcf/util/startup.hpp).
/// Returns only when no re-execution was needed or it failed.
void reexec_with_process_settings(int argc, char** argv);

/// What the process found at start-up: OPENBLAS_CORETYPE (nullptr: unset), the core OpenBLAS
/// chose ("" when the BLAS is not OpenBLAS) and the CPU's vector units.
struct ProcessEnvironment {
    const char* blas_coretype = nullptr;  ///< OPENBLAS_CORETYPE
    std::string blas_core;
    CpuVector cpu;
    static ProcessEnvironment current();
};

/// The variables (name, value) that re-execution sets in that environment; empty when none is
/// needed.
std::vector<std::pair<std::string, std::string>> process_settings(const ProcessEnvironment& env);

/// The core OpenBLAS runs its kernels for in this process ("" when the BLAS is not OpenBLAS).
std::string blas_core_name();

/// The threads a rank should use when OMP_NUM_THREADS is not set: SLURM's SLURM_CPUS_PER_TASK,
/// else the cores this process may run on (its affinity mask, which mpirun and srun bindings
/// narrow) shared among the `local_ranks` ranks of this node -- never more than the cores.
int default_thread_count(int local_ranks);

}  // namespace distcf
