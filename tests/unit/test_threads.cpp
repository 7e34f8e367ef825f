// What the program sets for itself before it starts (a bounded OpenMP spin, malloc huge pages,
// OpenBLAS kernels for the CPU),
// and the threads a rank takes by default.
#include <gtest/gtest.h>

#include <cstdlib>

#include "distcf/util/threads.hpp"
#include "helpers.hpp"

using namespace distcf;

namespace {
using Settings = std::vector<std::pair<std::string, std::string>>;

ProcessEnvironment env(const char* wait_policy, const char* tunables) {
    ProcessEnvironment e;
    e.wait_policy = wait_policy;
    e.tunables = tunables;
    return e;
}
// An OpenBLAS process with wait policy, tunables and thread timeout set: only the core is in play.
ProcessEnvironment blas(const char* coretype, const std::string& core, CpuVector cpu) {
    ProcessEnvironment e = env("passive", "glibc.malloc.hugetlb=1");
    e.blas_thread_timeout = "20";
    e.blas_coretype = coretype;
    e.blas_core = core;
    e.cpu = cpu;
    return e;
}
}  // namespace

TEST(ProcessSettings, UnsetVariablesGetABoundedSpinAndHugePages) {
    EXPECT_EQ(process_settings(env(nullptr, nullptr)),
              (Settings{{"GOMP_SPINCOUNT", "10000"}, {"GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"}}));
}

TEST(ProcessSettings, TheUsersChoicesAreKept) {
    // A wait policy the user chose is theirs; so is a huge-page tunable, even one turning it off.
    EXPECT_EQ(process_settings(env("active", "glibc.malloc.hugetlb=0")), Settings{});
    EXPECT_EQ(process_settings(env("active", "glibc.malloc.hugetlb=1")), Settings{});
    // Other tunables stay, the huge pages are added after them.
    EXPECT_EQ(process_settings(env("passive", "glibc.malloc.arena_max=2")),
              (Settings{{"GLIBC_TUNABLES", "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"}}));
    EXPECT_EQ(process_settings(env(nullptr, "glibc.malloc.hugetlb=1")), (Settings{{"GOMP_SPINCOUNT", "10000"}}));
    // A spin count of the user's, with or without a policy, is theirs too.
    ProcessEnvironment e = env(nullptr, "glibc.malloc.hugetlb=1");
    e.spin_count = "0";
    EXPECT_EQ(process_settings(e), Settings{});
}

TEST(ProcessSettings, OpenBlasWorkersSleepAtOnceUnlessTheUserSaidOtherwise) {
    ProcessEnvironment e = blas(nullptr, "SkylakeX", {true, true});
    e.blas_thread_timeout = nullptr;
    EXPECT_EQ(process_settings(e), (Settings{{"OPENBLAS_THREAD_TIMEOUT", "4"}}));
    e.blas_thread_timeout = "28";  // the user's
    EXPECT_EQ(process_settings(e), Settings{});
    e.blas_thread_timeout = nullptr;
    e.blas_core = "";  // not OpenBLAS
    EXPECT_EQ(process_settings(e), Settings{});
}

TEST(DefaultThreads, SlurmsCpusPerTaskWinsAndTheCountIsNeverBelowOne) {
    const char* old = std::getenv("SLURM_CPUS_PER_TASK");
    const std::string saved = old ? old : "";
    setenv("SLURM_CPUS_PER_TASK", "3", 1);
    EXPECT_EQ(default_thread_count(4), 3);
    unsetenv("SLURM_CPUS_PER_TASK");
    EXPECT_GE(default_thread_count(1000), 1);
    if (old) setenv("SLURM_CPUS_PER_TASK", saved.c_str(), 1);
}

TEST(ProcessSettings, OpenBlasFallingBackToAPreAvxCoreGetsTheKernelsTheCpuRuns) {
    EXPECT_EQ(process_settings(blas(nullptr, "Prescott", {true, true})), (Settings{{"OPENBLAS_CORETYPE", "SkylakeX"}}));
    EXPECT_EQ(process_settings(blas(nullptr, "Prescott", {true, false})), (Settings{{"OPENBLAS_CORETYPE", "Haswell"}}));
    EXPECT_EQ(process_settings(blas(nullptr, "Barcelona", {true, false})), (Settings{{"OPENBLAS_CORETYPE", "Haswell"}}));
    // A CPU without AVX2: the fallback is what it can run.
    EXPECT_EQ(process_settings(blas(nullptr, "Prescott", {false, false})), Settings{});
}

TEST(ProcessSettings, AKnownCoreTheUsersCoreTypeOrAnotherBlasIsLeftAlone) {
    EXPECT_EQ(process_settings(blas(nullptr, "SkylakeX", {true, true})), Settings{});
    EXPECT_EQ(process_settings(blas(nullptr, "Zen", {true, false})), Settings{});
    EXPECT_EQ(process_settings(blas("Prescott", "Prescott", {true, true})), Settings{});  // the user's choice
    EXPECT_EQ(process_settings(blas(nullptr, "", {true, true})), Settings{});             // not OpenBLAS
}

TEST(ProcessSettings, TheProgramRunsOpenBlasKernelsForThisCpu) {
    // What the program reports of itself: never a pre-AVX fallback on a CPU with AVX2 (without the
    // setting, `DISTCF_NO_REEXEC=1 distcf --version` reports "Prescott" on a 2-core AVX-512 VM,
    // "Intel(R) Xeon(R) Processor").
    // As a user starts it: without the settings this test process has (and passes to children).
    const auto r = test::run("env -u DISTCF_NO_REEXEC -u OPENBLAS_CORETYPE " + test::program() + " --version");
    ASSERT_EQ(r.code, 0) << r.err;
    if (r.out.find("OpenBLAS core") == std::string::npos) GTEST_SKIP() << "the BLAS is not OpenBLAS: " << r.out;
    if (!CpuVector::detect().avx2_fma)
        GTEST_SKIP() << "no AVX2 on this CPU: OpenBLAS's own choice stands";
    for (const char* fallback : {"Prescott", "Core2", "Penryn", "Nehalem", "Barcelona"})
        EXPECT_EQ(r.out.find(std::string("core ") + fallback + ")"), std::string::npos) << r.out;
}
