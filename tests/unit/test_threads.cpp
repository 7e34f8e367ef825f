// What the program sets for itself before it starts (a bounded OpenMP spin, idle OpenBLAS workers
// that sleep, huge pages for large blocks, OpenBLAS kernels for the CPU), and the threads a rank
// takes by default.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "distcf/util/huge_pages.hpp"
#include "distcf/util/startup.hpp"
#include "distcf/util/threads.hpp"
#include "helpers.hpp"

using namespace distcf;

namespace {
using Settings = std::vector<std::pair<std::string, std::string>>;

Settings settings_of(const StartupEnvironment& e) {
    const StartupSettings s = startup_settings(e);
    Settings out;
    for (int i = 0; i < s.count; ++i) out.emplace_back(s.set[i].name, s.set[i].value);
    return out;
}

// An OpenBLAS process: only the core is in play.
ProcessEnvironment blas(const char* coretype, const std::string& core, CpuVector cpu) {
    ProcessEnvironment e;
    e.blas_coretype = coretype;
    e.blas_core = core;
    e.cpu = cpu;
    return e;
}

// The program as a user starts it: without the settings this test process got from the startup
// library (and passes to its children).
std::string as_a_user_starts_it(const std::string& env) {
    return "env -u DISTCF_NO_REEXEC -u DISTCF_NO_STARTUP_SETTINGS -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY "
           "-u OPENBLAS_THREAD_TIMEOUT " + env + " " + test::program() + " --version";
}
}  // namespace

TEST(StartupSettings, UnsetVariablesGetABoundedSpinAndOpenBlasWorkersThatSleep) {
    EXPECT_EQ(settings_of({}), (Settings{{"GOMP_SPINCOUNT", "10000"}, {"OPENBLAS_THREAD_TIMEOUT", "4"}}));
}

TEST(StartupSettings, TheUsersChoicesAreKept) {
    StartupEnvironment e;
    e.wait_policy = "active";  // a wait policy the user chose is theirs
    EXPECT_EQ(settings_of(e), (Settings{{"OPENBLAS_THREAD_TIMEOUT", "4"}}));
    e = {};
    e.spin_count = "0";  // so is a spin count, with or without a policy
    e.blas_thread_timeout = "28";
    EXPECT_EQ(settings_of(e), Settings{});
    e = {};
    e.opt_out = "1";
    EXPECT_EQ(settings_of(e), Settings{});
}

TEST(StartupSettings, ReachLibgompBeforeItReadsItsEnvironment) {
    // libgomp prints what it read at its own start (OMP_DISPLAY_ENV): the startup library must have
    // run before it. It runs first only because the program names it last (CMakeLists.txt).
    auto r = test::run(as_a_user_starts_it("OMP_DISPLAY_ENV=verbose"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("GOMP_SPINCOUNT = '10000'"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("set at start-up: GOMP_SPINCOUNT=10000 OPENBLAS_THREAD_TIMEOUT=4"), std::string::npos) << r.out;
    r = test::run(as_a_user_starts_it("OMP_DISPLAY_ENV=verbose OMP_WAIT_POLICY=passive"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("OMP_WAIT_POLICY = 'PASSIVE'"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("GOMP_SPINCOUNT = '10000'"), std::string::npos) << r.err;
}

TEST(StartupSettings, TheLibraryIsInitializedBeforeEveryLibraryItConfigures) {
    // OpenBLAS reads its thread timeout in its constructor too, and prints nothing of it: the
    // dynamic loader's own account of the order (glibc's LD_DEBUG) is the evidence.
    const auto r = test::run(as_a_user_starts_it("LD_DEBUG=libs"));
    ASSERT_EQ(r.code, 0) << r.err;
    std::istringstream lines(r.err);
    std::vector<std::string> order;
    for (std::string line; std::getline(lines, line);)
        if (const auto at = line.find("calling init: "); at != std::string::npos) order.push_back(line.substr(at + 14));
    if (order.empty()) GTEST_SKIP() << "this dynamic loader does not report its initialization order";
    const auto position = [&order](const std::string& name) {
        for (std::size_t i = 0; i < order.size(); ++i)
            if (order[i].find("/" + name) != std::string::npos) return static_cast<long>(i);
        return -1L;
    };
    const long startup = position("libdistcf_startup.so");
    ASSERT_GE(startup, 0) << r.err;
    for (const char* lib : {"libgomp.so", "libopenblas", "libblas.so", "liblapack.so"}) {
        const long at = position(lib);
        if (at >= 0) EXPECT_LT(startup, at) << lib << " was initialized first:\n" << r.err;
    }
}

namespace {
// Whether the kernel flags the mapping holding `at` for huge pages ("hg" in its VmFlags).
bool flagged_for_huge_pages(std::uintptr_t at) {
    std::ifstream smaps("/proc/self/smaps");
    bool inside = false;
    for (std::string line; std::getline(smaps, line);) {
        unsigned long lo = 0, hi = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2) inside = lo <= at && at < hi;  // a mapping's first line
        else if (inside && line.rfind("VmFlags:", 0) == 0) return line.find(" hg") != std::string::npos;
    }
    return false;
}
std::uintptr_t first_whole_huge_page(const void* p, std::size_t page) {
    return (reinterpret_cast<std::uintptr_t>(p) + page - 1) / page * page;
}
}  // namespace

TEST(HugePages, AdviceCoversTheWholeHugePagesInsideABlock) {
    const std::size_t page = huge_page_bytes();
    if (page == 0) GTEST_SKIP() << "no transparent huge pages in this kernel";
    // A fresh mapping of 4 huge pages, advised from one byte past its start: the first whole huge
    // page inside begins at the next boundary.
    const std::size_t bytes = 4 * page;
    char* map = static_cast<char*>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(map, MAP_FAILED);
    EXPECT_FALSE(advise_huge_pages(map + 1, page));  // no whole huge page inside
    EXPECT_FALSE(flagged_for_huge_pages(first_whole_huge_page(map + 1, page)));
    ASSERT_TRUE(advise_huge_pages(map + 1, bytes - 1));
    // The kernel's account: the advised range is a mapping of its own, flagged.
    EXPECT_TRUE(flagged_for_huge_pages(first_whole_huge_page(map + 1, page)));
    munmap(map, bytes);
}

TEST(HugePages, TheProgramsLargeBlocksAskForThemBeforeTheyAreTouched) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "AddressSanitizer keeps its own operator new";
#endif
    const std::size_t page = huge_page_bytes();
    if (page == 0) GTEST_SKIP() << "no transparent huge pages in this kernel";
    // As a loader's vector is made: value-initialized (every page touched) after operator new.
    std::vector<double> big(3 * page / sizeof(double));
    EXPECT_TRUE(flagged_for_huge_pages(first_whole_huge_page(big.data(), page)));
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
    const auto r = test::run(as_a_user_starts_it("-u OPENBLAS_CORETYPE"));
    ASSERT_EQ(r.code, 0) << r.err;
    if (r.out.find("OpenBLAS core") == std::string::npos) GTEST_SKIP() << "the BLAS is not OpenBLAS: " << r.out;
    if (!CpuVector::detect().avx2_fma)
        GTEST_SKIP() << "no AVX2 on this CPU: OpenBLAS's own choice stands";
    for (const char* fallback : {"Prescott", "Core2", "Penryn", "Nehalem", "Barcelona"})
        EXPECT_EQ(r.out.find(std::string("core ") + fallback + ")"), std::string::npos) << r.out;
}
