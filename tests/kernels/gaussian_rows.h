// gaussian_rows.h: seeded weight matrices for the kernel tests: d rows of n N(0, 1) values quantized to a block type.
#pragma once

#include <cstdint>
#include <vector>

#include "common/tensor_type.h"
#include "kernels/ref/quants.h"
#include "support/gaussian.h"

namespace duet::test {

// W (d,n) of `type` in file rows: test::gaussian(n * d, seed), each row through the reference quantizer.
inline std::vector<uint8_t> gaussian_rows(TensorType type, int64_t n, int64_t d, uint32_t seed) {
    const size_t rs = row_size(type, n);
    std::vector<uint8_t> w(rs * static_cast<size_t>(d));
    const auto wf = gaussian(n * d, seed);
    for (int64_t r = 0; r < d; ++r) quantize_row(type, wf.data() + r * n, w.data() + r * rs, n);
    return w;
}

}  // namespace duet::test
