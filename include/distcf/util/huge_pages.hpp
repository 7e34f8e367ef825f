#pragma once
/// @file huge_pages.hpp
/// @brief Transparent huge pages for large blocks, where the kernel gives them on request.
///
/// Loading 11.6M ratings spent 60% of its time in the kernel faulting in fresh 4 KiB pages on a
/// VM (`perf`: `exc_page_fault` under the `memset` of a vector's value-initialization): 2.50 s on
/// 1 rank, 0.77 s with huge pages. Kernels that give transparent huge pages only to memory asked
/// for them ("madvise" in /sys/kernel/mm/transparent_hugepage/enabled, Debian's default) need the
/// request; glibc's `glibc.malloc.hugetlb=1` tunable makes it, but only from the environment the
/// program started with. The program's `operator new` makes it instead for blocks of two huge
/// pages or more (src/cli/allocation.cpp).

#include <cstddef>

namespace distcf {

/// The size of a transparent huge page (2 MiB on x86-64; 0 when the kernel has none).
std::size_t huge_page_bytes();

/// Asks for huge pages for the whole huge pages inside [p, p + bytes) (madvise MADV_HUGEPAGE).
/// Pages already touched stay as they are; false when nothing was asked (too small, no THP) or
/// the kernel refused.
bool advise_huge_pages(void* p, std::size_t bytes) noexcept;

}  // namespace distcf
