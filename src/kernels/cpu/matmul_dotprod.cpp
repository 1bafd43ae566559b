// matmul_dotprod.cpp: the NEON matmul row kernels compiled for ARMv8.2-A + FEAT_DotProd (int8 dots as SDOT;
// CMake adds -march=armv8.2-a+dotprod to *_dotprod.cpp). The code is matmul_neon_impl.h.
#include "kernels/cpu/kernels_neon.h"
#include "kernels/cpu/matmul_neon_impl.h"

#if !defined(__ARM_FEATURE_DOTPROD)
#error "matmul_dotprod.cpp must be compiled with the dot-product extension (-march=armv8.2-a+dotprod)"
#endif

namespace duet::cpu {

MatmulRowsFn matmul_rows_fn_neon_dotprod(TensorType wtype) { return rows_fn_for(wtype); }

}  // namespace duet::cpu
