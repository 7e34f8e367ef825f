// The fair-share floor for scripts/bench_busy.sh: a program with nothing to wait for -- no serial
// part, no shared data, no I/O -- whose threads (as many as distcf would start) do a fixed amount of
// pure arithmetic in `regions` parallel regions of 64 chunks each, handed out dynamically as
// distcf's row solves are. Beside c CPU-bound threads on c cores, a scheduler that shares the cores
// evenly among the runnable threads gives each of its t threads c/(t+c) of a core (t = c: half), so
// its slowdown beside them is what no program of t threads can beat without taking more than its
// share; distcf's train is measured against it in the same run. Same start-up settings as distcf
// (libdistcf_startup.so, linked as distcf links it): the same bounded spin. Prints the wall seconds
// and the CPU seconds (every thread's) of the regions.
//   distcf_bench_busy_floor ITERATIONS REGIONS
#include <omp.h>

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "distcf/util/startup.hpp"
#include "distcf/util/threads.hpp"

namespace {

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// A dependent multiply-add chain: no memory traffic, nothing for the compiler to fold.
double chain(long n, double x) {
    for (long i = 0; i < n; ++i) x = x * 0.999999999 + 1e-9;
    return x;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s ITERATIONS REGIONS\n", argv[0]);
        return 2;
    }
    const long iterations = std::atol(argv[1]);
    const int regions = std::atoi(argv[2]);
    constexpr int kChunks = 64;
    if (iterations < 1 || regions < 1) {
        std::fprintf(stderr, "%s: ITERATIONS and REGIONS must be >= 1\n", argv[0]);
        return 2;
    }
    if (std::getenv("OMP_NUM_THREADS") == nullptr) omp_set_num_threads(distcf::default_thread_count(1));  // as distcf chooses
    const long per_chunk = iterations / regions / kChunks + 1;
    double sum = 0;
    const double t0 = omp_get_wtime(), c0 = process_cpu_seconds();
    for (int r = 0; r < regions; ++r) {
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : sum)
        for (int c = 0; c < kChunks; ++c) sum += chain(per_chunk, 1.0 + c);
    }
    const double seconds = omp_get_wtime() - t0, cpu = process_cpu_seconds() - c0;
    std::string settings;
    const distcf::StartupSettings& s = distcf::applied_startup_settings();
    for (int i = 0; i < s.count; ++i) settings += std::string(" ") + s.set[i].name + "=" + s.set[i].value;
    // The sum keeps the arithmetic from being optimized away.
    std::printf("%.6f %.6f %d threads, checksum %.6g, startup settings:%s\n", seconds, cpu, omp_get_max_threads(), sum,
                settings.empty() ? " none" : settings.c_str());
    return 0;
}
