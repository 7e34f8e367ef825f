// The program's global operator new: large blocks ask for transparent huge pages before they are
// touched (distcf/util/huge_pages.hpp). Everything else is malloc's, as with the library's own.
#include <cstdlib>
#include <new>

#include "distcf/util/huge_pages.hpp"

// AddressSanitizer keeps its own operator new, which checks new against delete.
#if !defined(__SANITIZE_ADDRESS__)

namespace {

void* allocate(std::size_t n) {
    void* p = std::malloc(n ? n : 1);
    if (p == nullptr) throw std::bad_alloc();
    // Two huge pages or more: at least one whole huge page lies inside. Smaller blocks come from
    // malloc's heap, whose pages are mostly touched already (and need not look up the page size).
    if (n >= (std::size_t{2} << 20)) {
        const std::size_t page = distcf::huge_page_bytes();
        if (page != 0 && n >= 2 * page) distcf::advise_huge_pages(p, n);
    }
    return p;
}

}  // namespace

// The array and no-throw forms of libstdc++ call these.
void* operator new(std::size_t n) { return allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

#endif
