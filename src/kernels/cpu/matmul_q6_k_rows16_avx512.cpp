// matmul_q6_k_rows16_avx512.cpp: the avx512 kernel over q6_k_rows16 (kernels/ref/packed_q6_k.cpp). Not built yet.
#include "kernels/cpu/kernels_decode_avx512.h"

namespace duet::cpu {

PackedKernel packed_kernel_q6_k_avx512() { return {}; }

}  // namespace duet::cpu
