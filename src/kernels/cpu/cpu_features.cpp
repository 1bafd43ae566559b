// cpu_features.cpp: run-time CPU feature checks that choose between the SIMD kernels and the reference path:
// AVX2 / AVX-512 VNNI on x86, the dot-product extension on AArch64 (NEON itself is part of ARMv8-A).
#include "kernels/cpu/amx.h"
#include "kernels/cpu/kernels_avx2.h"

#if (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif

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

bool cpu_has_amx_bf16() {
#if defined(__x86_64__) && defined(__linux__)
    static const bool has = [] {
        unsigned a, b, c, d;
        if (!cpu_has_avx512_vnni() || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
        const bool amx = (d & (1u << 22)) != 0 && (d & (1u << 24)) != 0;  // AMX-BF16, AMX-TILE
        if (!amx || !__get_cpuid_count(7, 1, &a, &b, &c, &d) || (a & (1u << 5)) == 0) return false;  // AVX512-BF16
        unsigned xcr0_lo, xcr0_hi;
        asm("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
        if ((xcr0_lo & (3u << 17)) != (3u << 17)) return false;          // XTILECFG, XTILEDATA enabled by the OS
        constexpr long kReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;  // asm/prctl.h, the kernel's xstate numbers
        return syscall(SYS_arch_prctl, kReqXcompPerm, kXfeatureXtiledata) == 0;
    }();
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
