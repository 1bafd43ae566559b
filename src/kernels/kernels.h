// kernels.h: the compute ops the model calls. Each dispatches on weight type once per call, then runs a
// plain parallel loop; AVX2/FMA/F16C (x86) or NEON (AArch64) kernels are chosen at run time (reference twins
// otherwise).
//
// Conventions: activations are row-major float arrays, one row per token; a weight matrix W has d rows of
// n elements each (GGUF ne = [n, d]), stored in its TensorType's block layout, W (d,n).
// The naive twins of every op live in kernels/ref (namespace duet::ref) with the same signatures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/tensor_type.h"
#include "common/thread_pool.h"

namespace duet::kernels {

// Which implementation runs: the best the CPU has. avx512_vnni is avx2 plus AVX-512 VNNI matmul kernels on
// 256-bit vectors; avx512 is avx512_vnni with full-width (512-bit) kernels for decode and few-stream steps (1-4
// tokens of Q4_0, Q8_0, Q4_K), chosen over avx512_vnni at start when a short measurement says 512-bit vectors are
// faster on this CPU model (cached: kernels/cpu/width_probe.h); avx2 needs AVX2+FMA+F16C; on AArch64 neon needs
// only ARMv8-A (NEON is part of it) and neon_dotprod is neon with SDOT matmuls (ARMv8.2-A FEAT_DotProd); ref is
// the naive twin of everything. A build has the SIMD backends of its target architecture only. DUET_BACKEND=NAME
// picks one at start; tests and benchmarks can force one.
enum class Backend { ref, avx2, avx512_vnni, avx512, neon, neon_dotprod };
std::span<const Backend> all_backends();  // every value, supported here or not (tests iterate over them)
const char* backend_name(Backend backend);
Backend active_backend();
void force_backend(Backend backend);  // for tests and benchmarks; the CPU must support it. Atomic: each op
                                      // reads the backend once, so a switch never splits a call (kernels.cpp)
bool backend_supported(Backend backend);
// How the start-up choice between avx512 and avx512_vnni was made, for bench output: e.g. "512-bit (measured:
// 256-bit 1.00, 512-bit 0.55)", "512-bit (cached in PATH)", "DUET_BACKEND", or "" where it did not arise.
const char* width_choice_note();
// How the 512-bit rows16 kernels prefetch the weights they stream: "nta" (non-temporal) or "t0" (into every cache
// level), chosen at start per CPU model by a short measurement (cached: kernels/cpu/width_probe.h) or by
// DUET_PREFETCH=nta|t0. The note says how: "measured: nta 1.00, t0 0.40", "cached in PATH", "DUET_PREFETCH", or ""
// where there was nothing to choose. force_prefetch_hint (tests, benchmarks) returns false for an unknown name.
const char* prefetch_hint_name();
const char* prefetch_choice_note();
bool force_prefetch_hint(std::string_view name);

// Whether prefill steps (48 tokens or more) over Q4_0, Q8_0, Q4_K and Q6_K matrices in their rows16 layouts run on Intel AMX tiles
// (kernels/cpu/amx.h: weights and activations rounded to bf16, fp32 sums) on the avx512 backend: on where the CPU
// and OS have AMX-BF16, unless DUET_AMX=0 at start (the note then says "DUET_AMX=0"). force_amx (tests, benchmarks)
// returns false, changing nothing, when asked for AMX on a CPU without it.
bool amx_active();
bool amx_prefill_on();  // amx_active() with the avx512 backend active: whether prefill steps take the tiles now
const char* amx_choice_note();
bool force_amx(bool on);

// Bytes of scratch matmul() needs for quantized activations of n_tokens rows of n elements.
size_t matmul_scratch_size(TensorType wtype, int64_t n, int64_t n_tokens);

// W (d,n) @ X (n_tokens,n)^T -> Y (n_tokens,d). Y[t][i] = dot(W row i, X row t).
// scratch: at least matmul_scratch_size() bytes, 64-byte aligned. pool may be null (single thread).
// layout: how W's bytes are arranged (plain: the file's rows; others come from pack_weights).
void matmul(TensorType wtype, const void* w, int64_t n, int64_t d, const float* x, int64_t n_tokens, float* y,
            void* scratch, ThreadPool* pool, WeightLayout layout = WeightLayout::plain);

// The layout the active backend reads W (d,n) of `type` fastest in: the rows16 layouts of Q4_0, Q8_0, Q4_K and Q6_K
// on avx512 (d a multiple of 16), plain otherwise. A model repacks its matrices into it once at load (pack_weights);
// matmul reads any layout on every backend (the others through the naive twin, kernels/ref/packed.h: slow).
WeightLayout preferred_layout(TensorType type, int64_t n, int64_t d);
// Rows per group of every packed layout: a slice of whole groups packs on its own (at packed_size(.., r0) bytes).
constexpr int64_t kPackedGroupRows = 16;
// Bytes of W (d,n) of `type` in `layout`.
size_t packed_size(WeightLayout layout, TensorType type, int64_t n, int64_t d);
// W (d,n) in file rows -> `layout` in out (packed_size bytes, 64-byte aligned for speed).
void pack_weights(WeightLayout layout, TensorType type, const void* w, int64_t n, int64_t d, void* out);

// Several matmuls of the same activations X (n_tokens,n): W_k (d_k,n) @ X^T -> Y_k (n_tokens,d_k) for each op,
// e.g. the q, k and v projections. When every op has the same type the activations are quantized once and all
// ops run in one parallel region; otherwise this is a loop of matmul(). Results equal matmul()'s.
struct MatmulOp {
    TensorType type;
    const void* w;
    int64_t d;
    float* y;
    WeightLayout layout = WeightLayout::plain;
};
void matmul_many(std::span<const MatmulOp> ops, int64_t n, const float* x, int64_t n_tokens, void* scratch,
                 ThreadPool* pool);

// Row i of W (d,n) dequantized to F32 -> out (n,). (embedding lookup: token_embd is W (n_vocab, n_embd))
void get_row(TensorType wtype, const void* w, int64_t n, int64_t i, float* out);

// out (n,) = x (n,) / sqrt(mean(x^2) + eps) * w (n,). out may alias x.
void rmsnorm(float* out, const float* x, const float* w, int64_t n, float eps);

// out (n,) = (x - mean(x)) / sqrt(var(x) + eps) * w (n,) + b (n,), var biased (/ n): BERT's LayerNorm, as ggml's
// norm + mul + add (sums in double). out may alias x.
void layernorm(float* out, const float* x, const float* w, const float* b, int64_t n, float eps);

// out (n,) = gelu(x) with ggml's CPU semantics: the tanh approximation evaluated at fp16(x) and rounded to fp16
// (0 for x <= -10, x for x >= 10), which is what llama.cpp's BERT computes. out may alias x.
void gelu(float* out, const float* x, int64_t n);

enum class RopeMode { norm, neox };  // norm: pairs (2i, 2i+1) as in Llama; neox: pairs (i, i + n_rot/2) as in Qwen2

// Rotate in place the first n_rot dims of each of n_heads heads of x (n_heads, head_dim) at position pos:
// angle_i = pos * freq_base^(-2i/n_rot) / freq_factors[i] (freq_factors (n_rot/2,) may be null).
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos, float freq_base,
          const float* freq_factors, RopeMode mode);

// RoPE in two steps, for a batch whose layers rotate q and k at the same positions: the angles once per position,
// cs (n_rot,) = cos(angle_i), sin(angle_i) for each pair i < n_rot/2 (angle_i as in rope()), then the rotation of
// n_heads heads with them. rope_rotate(rope_angles(pos)) gives rope(pos)'s results bit for bit.
void rope_angles(float* cs, int64_t n_rot, int64_t pos, float freq_base, const float* freq_factors);
void rope_rotate(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, const float* cs, RopeMode mode);

// In place: x (n,) = softmax(x).
void softmax(float* x, int64_t n);

// The index of the first largest value of x (n > 0), NaNs passed over (but 0 when x[0] is NaN: nothing compares
// greater than it): greedy decoding's token.
int64_t argmax(const float* x, int64_t n);

// out (n,) = silu(gate (n,)) * up (n,). out may alias gate.
void silu_mul(float* out, const float* gate, const float* up, int64_t n);

// out (n,) = a (n,) + b (n,). out may alias a.
void add(float* out, const float* a, const float* b, int64_t n);

// dot of two float vectors of n.
float dot_f32(const float* a, const float* b, int64_t n);
// dot of an f16 vector and a float vector of n (attention over an F16 KV cache).
float dot_f16_f32(const uint16_t* a, const float* b, int64_t n);
// out (n,) += w * v (n,) with v in f16 / f32 (attention value accumulation).
void axpy_f16(float* out, float w, const uint16_t* v, int64_t n);
void axpy_f32(float* out, float w, const float* v, int64_t n);
// Convert n floats to f16 (writing the KV cache).
void f32_to_f16(uint16_t* out, const float* x, int64_t n);

// Attention over one block of KV positions for the n_q query heads that share one KV head (grouped-query
// attention). Row p of K or V (head_dim elements of the KV head) starts at k + p * stride (elements), p in [0, n):
//
//   scores (n_q, ld), columns [0, n):  scores[j * ld + p] = scale * q_j . k_p          q (n_q, head_dim)
//   out (n_q, head_dim):                out_j += sum_p w[j * ld + p] * v_p              w (n_q, ld)
//
// One K or V row is read (and converted from f16) once for all n_q heads.
void attn_scores_f16(float* scores, int64_t ld, const float* q, int64_t n_q, const uint16_t* k, int64_t stride,
                     int64_t n, int64_t head_dim, float scale);
void attn_values_f16(float* out, const float* w, int64_t ld, int64_t n_q, const uint16_t* v, int64_t stride, int64_t n,
                     int64_t head_dim);
void attn_scores_f32(float* scores, int64_t ld, const float* q, int64_t n_q, const float* k, int64_t stride, int64_t n,
                     int64_t head_dim, float scale);
void attn_values_f32(float* out, const float* w, int64_t ld, int64_t n_q, const float* v, int64_t stride, int64_t n,
                     int64_t head_dim);

}  // namespace duet::kernels
