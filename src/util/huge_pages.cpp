#include "distcf/util/huge_pages.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdio>

namespace distcf {

std::size_t huge_page_bytes() {
    // Read once: the allocator asks on every large block.
    static const std::size_t bytes = [] {
        unsigned long long n = 0;
        if (std::FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r")) {
            if (std::fscanf(f, "%llu", &n) != 1) n = 0;
            std::fclose(f);
        }
        return static_cast<std::size_t>(n);
    }();
    return bytes;
}

bool advise_huge_pages(void* p, std::size_t bytes) noexcept {
#ifdef MADV_HUGEPAGE
    const std::size_t page = huge_page_bytes();
    if (page == 0 || p == nullptr) return false;
    const auto begin = (reinterpret_cast<std::uintptr_t>(p) + page - 1) / page * page;
    const auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) / page * page;
    if (end <= begin) return false;
    return madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) == 0;
#else
    return false;
#endif
}

}  // namespace distcf
