// gelu_table.h: the table-driven GELU (plain C++, any CPU); see gelu_table.cpp.
#pragma once

#include <cstdint>

namespace duet::cpu {

// out (n,) = ref::gelu(x): 0 for x <= -10, x for x >= 10, else the table entry at fp16(x). out may alias x.
void gelu_table(float* out, const float* x, int64_t n);

// The table itself: entry h = ref::gelu at the half whose bits are h (for the gather kernels).
const float* gelu_table_values();

}  // namespace duet::cpu
