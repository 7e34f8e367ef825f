#pragma once
/// @file threads.hpp
/// @brief OpenMP threads that behave on a shared node.
///
/// Measured on a 2-core machine beside a 2-thread CPU hog: with libgomp's default (threads spin
/// for a while at every barrier before they sleep) `distcf study` took 1.9-16.6 s instead of 0.8 s;
/// with passive waiting 1.2-1.3 s. Passive waiting costs a wake-up (tens of microseconds) per
/// parallel region, which tiny regions cannot repay: regions below `kMinParallelWork` run on one
/// thread (`#pragma omp parallel for if (worth_threads(work))`).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace distcf {

/// Work (about one floating-point operation per unit) below which a loop runs on one thread.
constexpr double kMinParallelWork = 2e5;

inline bool worth_threads(double work) { return work >= kMinParallelWork; }

/// Before anything else in main (before MPI_Init): libgomp reads its wait policy and glibc its
/// malloc tunables when the program loads, so when OMP_WAIT_POLICY is unset the program sets it to
/// passive, when GLIBC_TUNABLES does not name glibc.malloc.hugetlb it adds `=1` (transparent huge
/// pages for large blocks), and executes itself again (once; `OMP_WAIT_POLICY=active` keeps
/// spinning, for nodes a job has to itself; DISTCF_NO_REEXEC=1 skips it all). Returns only when no
/// re-execution was needed or it failed.
void reexec_with_passive_wait(int argc, char** argv);

/// The variables (name, value) that re-execution sets, given OMP_WAIT_POLICY's and GLIBC_TUNABLES'
/// current values (nullptr: unset); empty when none is needed.
std::vector<std::pair<std::string, std::string>> process_settings(const char* wait_policy, const char* tunables);

/// The threads a rank should use when OMP_NUM_THREADS is not set: SLURM's SLURM_CPUS_PER_TASK,
/// else the cores this process may run on (its affinity mask, which mpirun and srun bindings
/// narrow) shared among the `local_ranks` ranks of this node -- never more than the cores.
int default_thread_count(int local_ranks);

}  // namespace distcf
