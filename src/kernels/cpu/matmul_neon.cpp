// matmul_neon.cpp: the NEON matmul row kernels for plain ARMv8-A (int8 dots as SMULL + SADALP);
// the code is matmul_neon_impl.h.
#include "kernels/cpu/kernels_neon.h"
#include "kernels/cpu/matmul_neon_impl.h"

namespace duet::cpu {

MatmulRowsFn matmul_rows_fn_neon(TensorType wtype) { return rows_fn_for(wtype); }

}  // namespace duet::cpu
