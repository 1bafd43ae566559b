// encoder_kernels.h: the many-row kernels of the encoder pass (model/encoder.cpp): a matmul over weights
// repacked once for products with many tokens at a time (GemmWeights), with the bias in its epilogue, and
// bidirectional attention for one head over one short sequence. Dispatch as kernels.h: the AVX-512 kernels
// (kernels/cpu/*_avx512.cpp) run when the active backend is avx512_vnni, the naive twins
// (kernels/ref/encoder_ops.h) otherwise.
//
// Packed layouts (built once, by GemmWeights::pack; rows of W in panels of 16, kGemmPanel):
//   Q8_0 W (d,n):  panel p, block b (32 columns):  q[8][16][4] int8 | d[16] float | corr[16] int32
//                  q[s][r][k] = W[16p + r][32b + 4s + k] (vpdpbusd's 4 bytes per lane), corr = -128 * block sum
//                  (activations enter biased to unsigned, x + 128)
//   F16:           panel p, column k:  h[16] half  = W[16p + r][k]  (the file's bits, widened as loaded)
//   F32/BF16:      panel p, column k:  f[16] float = W[16p + r][k]  (exact: the values are only widened)
// Other types, or d not a multiple of 16, are not packed: gemm_bias runs kernels::matmul and adds the bias.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "common/tensor_type.h"
#include "common/thread_pool.h"

namespace duet::kernels {

constexpr int64_t kGemmPanel = 16;  // weight rows per packed panel: one 512-bit vector of outputs

class GemmWeights {
public:
    enum class Packing { none, q8_0, f16, f32 };

    // Repack W (d,n) of `type` (the original stays in use for other backends and must outlive this object).
    static GemmWeights pack(TensorType type, const void* w, int64_t n, int64_t d);

    TensorType type() const { return type_; }
    const void* original() const { return original_; }
    int64_t n() const { return n_; }
    int64_t d() const { return d_; }
    Packing packing() const { return packing_; }
    const uint8_t* packed() const { return packed_.get(); }
    size_t packed_bytes() const { return packed_bytes_; }

private:
    struct Free {
        void operator()(uint8_t* p) const;
    };
    TensorType type_ = TensorType::F32;
    const void* original_ = nullptr;
    int64_t n_ = 0, d_ = 0;
    Packing packing_ = Packing::none;
    std::unique_ptr<uint8_t, Free> packed_;
    size_t packed_bytes_ = 0;
};

// Bytes of scratch gemm_bias needs for n_tokens rows of n (64-byte aligned by the caller).
size_t gemm_scratch_size(TensorType type, int64_t n, int64_t n_tokens);

// Y (n_tokens, d) = X (n_tokens, n) @ W^T + bias (d,) (bias may be null), then kernels::gelu if `gelu`. One quantization pass of X (Q8_0: 32-value
// blocks with a float scale, as kernels::matmul) and one parallel region over the panels.
// rows_prepared: prepare_gemm_rows has already put every row of X into the scratch.
void gemm_bias(const GemmWeights& w, const float* bias, const float* x, int64_t n_tokens, float* y, void* scratch,
               ThreadPool* pool, bool gelu = false, bool rows_prepared = false);

// Rows [t0, t1) of X (n_tokens, n) into the form gemm_bias reads for weights packed like `like` (Q8_0: int8 blocks
// in the scratch; otherwise nothing to do), so a parallel region that writes X (a LayerNorm) can do the product's
// quantization pass too. The scratch must then stay untouched until the product with rows_prepared.
void prepare_gemm_rows(const GemmWeights& like, const float* x, int64_t n_tokens, int64_t t0, int64_t t1,
                       void* scratch);

// Several products of the same X, e.g. q, k and v: when every op is packed alike, X is quantized once and all
// ops' panels run in one parallel region; otherwise a loop of gemm_bias. Results equal gemm_bias's.
struct GemmOp {
    const GemmWeights* w;
    const float* bias;  // (d,) or null
    float* y;           // (n_tokens, d)
    bool gelu = false;  // y = gelu(X W^T + bias)
};
void gemm_bias_many(std::span<const GemmOp> ops, const float* x, int64_t n_tokens, void* scratch, ThreadPool* pool,
                    bool rows_prepared = false);

// Scratch floats attention_head needs for a sequence of len tokens of head_dim.
int64_t attention_scratch_floats(int64_t len, int64_t head_dim);

// One head over one sequence, every token attending to every token (no mask):
//   out[t] = sum_j softmax_j(scale * q[t] . k[j]) v[j]
// q, k, v, out: rows of head_dim floats, row t at t * stride. scratch: attention_scratch_floats() floats.
void attention_head(const float* q, const float* k, const float* v, float* out, int64_t len, int64_t head_dim,
                    int64_t stride, float scale, float* scratch);

// x (n,) = LayerNorm(x + y) with weight w and bias b (kernels::layernorm after kernels::add).
void add_layernorm(float* x, const float* y, const float* w, const float* b, int64_t n, float eps);

}  // namespace duet::kernels
