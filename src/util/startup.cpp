// libdistcf_startup.so: no dependency but libc, so that nothing it needs is initialized after the
// libraries it configures (distcf/util/startup.hpp).
#include "distcf/util/startup.hpp"

#include <stdlib.h>

namespace distcf {

StartupEnvironment StartupEnvironment::current() {
    StartupEnvironment e;
    e.wait_policy = getenv("OMP_WAIT_POLICY");
    e.spin_count = getenv("GOMP_SPINCOUNT");
    e.blas_thread_timeout = getenv("OPENBLAS_THREAD_TIMEOUT");
    e.opt_out = getenv("DISTCF_NO_STARTUP_SETTINGS");
    if (e.opt_out == nullptr) e.opt_out = getenv("DISTCF_NO_REEXEC");
    return e;
}

StartupSettings startup_settings(const StartupEnvironment& env) {
    StartupSettings s;
    if (env.opt_out != nullptr) return s;
    // A bounded spin: libgomp's own default spins 30 times longer and collapsed beside other work;
    // passive waiting pays a wake-up at every parallel region.
    if (env.wait_policy == nullptr && env.spin_count == nullptr) s.set[s.count++] = {"GOMP_SPINCOUNT", "10000"};
    if (env.blas_thread_timeout == nullptr) s.set[s.count++] = {"OPENBLAS_THREAD_TIMEOUT", "4"};
    return s;
}

namespace {

StartupSettings apply() {
    const StartupSettings s = startup_settings(StartupEnvironment::current());
    for (int i = 0; i < s.count; ++i) setenv(s.set[i].name, s.set[i].value, 0);
    return s;
}

// Initialized, and so applied, when the dynamic loader initializes this library.
const StartupSettings applied = apply();

}  // namespace

const StartupSettings& applied_startup_settings() { return applied; }
}  // namespace distcf
