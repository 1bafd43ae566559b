// cpu_features.cpp: run-time CPU feature checks that choose between the AVX2 kernels and the reference path.
#include "kernels/cpu/kernels_avx2.h"

namespace duet::cpu {

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
    // __builtin_cpu_init first: this runs from a static initializer, possibly before libgcc's own constructor
    static const bool has = (__builtin_cpu_init(), true) && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                            __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
    return has;
#else
    return false;
#endif
}

bool cpu_has_avx512_vnni() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool has = cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
    return has;
#else
    return false;
#endif
}

}  // namespace duet::cpu
