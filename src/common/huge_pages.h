// huge_pages.h: buffers that are streamed end to end (a model's repacked weights, the read-bandwidth probe, the
// prefetch probe) on 2 MiB transparent huge pages where the kernel offers them (THP "madvise"): a pass over 4 KiB
// pages costs a TLB walk per page, and the hardware prefetcher stops at each.
#pragma once

#include <cstddef>

namespace duet {

constexpr size_t kHugePage = size_t{2} << 20;

// bytes rounded up to whole huge pages.
constexpr size_t huge_page_bytes(size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }

// huge_page_bytes(bytes), aligned to a huge page and advised MADV_HUGEPAGE (Linux); nullptr when out of memory.
// Free with std::free.
void* alloc_huge_pages(size_t bytes);

}  // namespace duet
