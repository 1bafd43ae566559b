// simd_backends.h: the SIMD backends this CPU can run (every value of kernels::all_backends() but ref), for the
// twin tests; the ones it cannot run are named on stdout. And a guard that restores the active backend.
#pragma once

#include <cstdio>
#include <vector>

#include "kernels/kernels.h"

namespace duet::test {

inline std::vector<kernels::Backend> simd_backends() {
    std::vector<kernels::Backend> out;
    for (kernels::Backend b : kernels::all_backends()) {
        if (b == kernels::Backend::ref) continue;
        if (kernels::backend_supported(b)) out.push_back(b);
        else
            std::printf("[  NOTE    ] backend %s not supported by this CPU/build: not tested\n",
                        kernels::backend_name(b));
    }
    return out;
}

class BackendGuard {
public:
    BackendGuard() : saved_(kernels::active_backend()), amx_(kernels::amx_active()) {}
    ~BackendGuard() {
        kernels::force_backend(saved_);
        kernels::force_amx(amx_);
    }
    BackendGuard(const BackendGuard&) = delete;
    BackendGuard& operator=(const BackendGuard&) = delete;

private:
    kernels::Backend saved_;
    bool amx_;  // AMX prefill (kernels::force_amx) too
};

}  // namespace duet::test
