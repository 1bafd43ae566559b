// test_backends.cpp: which backends this CPU runs, checked against what the caller expects of the CPU model. The
// arm64 CI stage (duet.sh test_arm64) runs the kernel suite under qemu with two CPU models and sets
// DUET_EXPECT_BACKENDS to the list each must give (best first): without it a CPU model that silently lost the
// dot-product extension, or a detection that stopped finding it, would leave every neon_dotprod twin test
// skipped and the run green.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>

#include "kernels/kernels.h"

namespace duet {
namespace {

std::string supported_backends() {
    std::string out;
    for (kernels::Backend b : {kernels::Backend::avx512_vnni, kernels::Backend::avx2, kernels::Backend::neon_dotprod,
                               kernels::Backend::neon, kernels::Backend::ref})
        if (kernels::backend_supported(b)) out += std::string(out.empty() ? "" : ",") + kernels::backend_name(b);
    return out;
}

TEST(Backends, SupportedListIsWhatTheCpuModelPromises) {
    const char* expected = std::getenv("DUET_EXPECT_BACKENDS");  // e.g. "neon_dotprod,neon,ref"
    if (expected == nullptr)
        GTEST_SKIP() << "DUET_EXPECT_BACKENDS not set (this CPU supports " << supported_backends() << ")";
    EXPECT_EQ(supported_backends(), expected);
    if (std::getenv("DUET_BACKEND") == nullptr) {  // no override: the first one is what the ops run by default
        std::istringstream first(expected);
        std::string best;
        std::getline(first, best, ',');
        EXPECT_EQ(kernels::backend_name(kernels::active_backend()), best);
    }
}

}  // namespace
}  // namespace duet
