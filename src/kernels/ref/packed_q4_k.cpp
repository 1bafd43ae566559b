// packed_q4_k.cpp: the q4_k_rows16 layout (Q4_K rows in groups of 16 for the avx512 kernel) and its repack.
// Not built yet: fits() is false, so no matrix takes it.
#include "common/assert.h"
#include "kernels/ref/packed.h"

namespace duet::ref {

namespace {

bool fits(TensorType, int64_t, int64_t) { return false; }
size_t size(int64_t n, int64_t d) { return row_size(TensorType::Q4_K, n) * static_cast<size_t>(d); }
void pack_rows(const void*, int64_t, int64_t, void*) { DUET_ASSERT(false); }
void unpack(const void*, int64_t, int64_t, void*) { DUET_ASSERT(false); }

}  // namespace

PackedFormat packed_format_q4_k() { return {&fits, &size, &pack_rows, &unpack}; }

}  // namespace duet::ref
