// cpu_features.cpp: run-time CPU feature checks that choose between the SIMD kernels and the reference path:
// AVX2 / AVX-512 VNNI on x86, the dot-product extension on AArch64 (NEON itself is part of ARMv8-A).
#include "kernels/cpu/kernels_avx2.h"

#if defined(__aarch64__)
#include "kernels/cpu/kernels_neon.h"
#if defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#elif defined(__APPLE__)
#include <sys/sysctl.h>
#endif
#endif

namespace duet::cpu {

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
    // __builtin_cpu_init first: this runs from a static initializer, possibly before libgcc's own constructor
    static const bool has = (__builtin_cpu_init(), true) && __builtin_cpu_supports("avx2") &&
                            __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") &&
                            __builtin_cpu_supports("bmi2");
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

#if defined(__aarch64__)
bool cpu_has_neon_dotprod() {
#if defined(__linux__)
    static const bool has = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#elif defined(__APPLE__)
    static const bool has = [] {
        int value = 0;
        size_t size = sizeof(value);
        return sysctlbyname("hw.optional.arm.FEAT_DotProd", &value, &size, nullptr, 0) == 0 && value != 0;
    }();
#else
    static const bool has = false;  // no portable query: the plain NEON kernels
#endif
    return has;
}
#endif

}  // namespace duet::cpu
