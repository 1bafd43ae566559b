// huge_pages.cpp: alloc_huge_pages (huge_pages.h).
#include "common/huge_pages.h"

#include <sys/mman.h>

#include <cstdlib>

namespace duet {

void* alloc_huge_pages(size_t bytes) {
    const size_t size = huge_page_bytes(bytes);
    void* p = std::aligned_alloc(kHugePage, size);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (p != nullptr) ::madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}

}  // namespace duet
