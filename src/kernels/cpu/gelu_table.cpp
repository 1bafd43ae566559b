// gelu_table.cpp: GELU through a 65536-entry table indexed by the input's fp16 bits, like ggml's CPU backend
// (GGML_GELU_FP16): one conversion and one load per element. Equal to ref::gelu bit for bit (the table is
// ref's formula evaluated at every half), which test_ops checks over all 65536 inputs.
#include "kernels/cpu/gelu_table.h"

#include <memory>

#include "common/fp16.h"
#include "kernels/ref/ops.h"

namespace duet::cpu {

namespace {

struct GeluTable {
    std::unique_ptr<float[]> y = std::make_unique<float[]>(65536);  // fp32(fp16(gelu_tanh(fp16 value i)))
    GeluTable() {
        for (uint32_t h = 0; h < 65536; ++h)
            y[h] = fp16_to_fp32(fp32_to_fp16(ref::gelu_tanh(fp16_to_fp32(static_cast<uint16_t>(h)))));
    }
};

const GeluTable& table() {
    static const GeluTable t;  // built on first use (thread-safe), 256 KiB
    return t;
}

}  // namespace

const float* gelu_table_values() { return table().y.get(); }

void gelu_table(float* out, const float* x, int64_t n) {
    const float* y = table().y.get();
    for (int64_t i = 0; i < n; ++i) {
        const float v = x[i];
        if (v <= -10.0f) out[i] = 0.0f;
        else if (v >= 10.0f) out[i] = v;
        else out[i] = y[fp32_to_fp16(v)];
    }
}

}  // namespace duet::cpu
