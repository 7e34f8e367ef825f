#pragma once
/// @file startup.hpp
/// @brief Settings that libraries read while they load, given to them before they load.
///
/// libgomp reads its wait policy, and OpenBLAS its worker threads' timeout, in their constructors,
/// before main runs. The program used to set them and execute itself again; that second start
/// (loading 55 libraries twice) cost 35 ms of a 0.3 s run on MovieLens u1. They now come from a
/// library of their own, libdistcf_startup.so, whose constructor runs after libc's and before
/// libgomp's and OpenBLAS's: the executable names it last, and the dynamic loader initializes
/// unrelated libraries in the reverse of that order (checked by a test, `LD_DEBUG=libs`). It sets
/// only what is unset:
/// - OMP_WAIT_POLICY and GOMP_SPINCOUNT unset: a bounded spin, GOMP_SPINCOUNT=10000
///   (`OMP_WAIT_POLICY=passive` sleeps at once, `active` keeps spinning, for nodes a job has to
///   itself; util/threads.hpp has the figures);
/// - OPENBLAS_THREAD_TIMEOUT unset: 4, so that OpenBLAS's idle worker threads sleep at once instead
///   of spinning on sched_yield for 2^28 cycles after start-up and after every threaded call,
///   beside the OpenMP threads doing the work (distcf calls OpenBLAS single-threaded inside its
///   parallel regions, so the workers seldom have anything to do): in `distcf --version` on 2 cores
///   that was 32 of its 64 ms of CPU time.
/// `DISTCF_NO_STARTUP_SETTINGS=1` (or the older `DISTCF_NO_REEXEC=1`) leaves the environment alone.

namespace distcf {

/// The variables the startup settings depend on (nullptr: unset).
struct StartupEnvironment {
    const char* wait_policy = nullptr;          ///< OMP_WAIT_POLICY
    const char* spin_count = nullptr;           ///< GOMP_SPINCOUNT
    const char* blas_thread_timeout = nullptr;  ///< OPENBLAS_THREAD_TIMEOUT
    const char* opt_out = nullptr;              ///< DISTCF_NO_STARTUP_SETTINGS or DISTCF_NO_REEXEC
    static StartupEnvironment current();
};

struct EnvSetting {
    const char* name;
    const char* value;
};

/// What the startup library sets in that environment: `count` entries of `set`.
struct StartupSettings {
    EnvSetting set[2];
    int count = 0;
};

StartupSettings startup_settings(const StartupEnvironment& env);

/// What the library's constructor set in this process (`distcf --version` names them).
const StartupSettings& applied_startup_settings();

}  // namespace distcf
