#pragma once
// Hot kernels are compiled for AVX-512, for AVX2/FMA and for baseline x86-64, and the loader picks
// what the CPU runs: one binary serves a cluster's mixed nodes, and the default build (x86-64,
// SSE2) would otherwise run these loops two doubles at a time. The clones may round differently
// from one another, never from one run to the next. A DISTCF_NATIVE build compiles everything for
// its own CPU instead (GCC 12 stops with an internal error on target_clones under -march=native).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(DISTCF_NATIVE_BUILD)
#define DISTCF_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DISTCF_CLONES
#endif

// A kernel written for AVX-512 alone (its accumulators need the 32 vector registers), called
// only where CpuVector::detect() finds AVX-512; elsewhere, and in other compilers' builds, the
// general kernels run.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DISTCF_AVX512_KERNEL __attribute__((target("arch=x86-64-v4")))
#define DISTCF_HAVE_AVX512_KERNELS 1
#else
#define DISTCF_HAVE_AVX512_KERNELS 0
#endif
