// simd_arch.h: which SIMD family this build's dispatch files (kernels.cpp, kernels_ops.cpp) target:
// DUET_SIMD_X86 (the AVX2 / AVX-512 kernels, chosen at run time) or DUET_SIMD_NEON (with the NEON kernels' header).
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#define DUET_SIMD_X86 1
#elif defined(__aarch64__)
#define DUET_SIMD_NEON 1
#include "kernels/cpu/kernels_neon.h"
#endif
