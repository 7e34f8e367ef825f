// What the program sets for itself before it starts (passive OpenMP waits, malloc huge pages),
// and the threads a rank takes by default.
#include <gtest/gtest.h>

#include <cstdlib>

#include "distcf/util/threads.hpp"

using namespace distcf;

namespace {
using Settings = std::vector<std::pair<std::string, std::string>>;
}

TEST(ProcessSettings, UnsetVariablesGetPassiveWaitsAndHugePages) {
    EXPECT_EQ(process_settings(nullptr, nullptr),
              (Settings{{"OMP_WAIT_POLICY", "passive"}, {"GLIBC_TUNABLES", "glibc.malloc.hugetlb=1"}}));
}

TEST(ProcessSettings, TheUsersChoicesAreKept) {
    // A wait policy the user chose is theirs; so is a huge-page tunable, even one turning it off.
    EXPECT_EQ(process_settings("active", "glibc.malloc.hugetlb=0"), Settings{});
    EXPECT_EQ(process_settings("active", "glibc.malloc.hugetlb=1"), Settings{});
    // Other tunables stay, the huge pages are added after them.
    EXPECT_EQ(process_settings("passive", "glibc.malloc.arena_max=2"),
              (Settings{{"GLIBC_TUNABLES", "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"}}));
    EXPECT_EQ(process_settings(nullptr, "glibc.malloc.hugetlb=1"), (Settings{{"OMP_WAIT_POLICY", "passive"}}));
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
