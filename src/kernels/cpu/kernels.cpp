// kernels.cpp: the ops of kernels.h. Each picks the backend and (for matmul) the weight type's kernel once per
// call, then runs a plain loop split over the thread pool. A build has the SIMD kernels of one architecture
// (src/CMakeLists.txt): x86 (kernels_avx2.h) or AArch64 (kernels_neon.h); elsewhere only the reference twins.
#include "kernels/kernels.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/assert.h"
#include "common/huge_pages.h"
#include "common/tail_split.h"
#include "kernels/cpu/activation_layouts.h"
#include "kernels/cpu/amx.h"
#include "kernels/cpu/kernels_avx2.h"
#include "kernels/cpu/kernels_decode_avx512.h"
#include "kernels/cpu/simd_arch.h"
#include "kernels/cpu/width_probe.h"
#include "kernels/ref/ops.h"
#include "kernels/ref/packed.h"
#include "kernels/ref/quants.h"
#include "kernels/ref/vec_dot.h"

namespace duet::kernels {

static_assert(kPackedGroupRows == ref::kRows16, "the packed layouts group rows as ref/packed.h draws them");

namespace {

constexpr Backend kAllBackends[] = {Backend::ref,    Backend::avx2, Backend::avx512_vnni,
                                    Backend::avx512, Backend::neon, Backend::neon_dotprod};

std::string g_width_note;  // width_choice_note(); written once, while g_backend is initialized

cpu::WidthTimings measure_widths();  // below: times the two backends' decode matmuls

// The best backend the CPU supports, or a supported one named by DUET_BACKEND (ref, avx2, neon, ...) for A/B
// comparisons; an unsupported name falls back to the best. Between avx512 and avx512_vnni the width probe decides.
Backend best_backend() {
    if (const char* forced = std::getenv("DUET_BACKEND")) {
        for (Backend b : kAllBackends)
            if (std::string_view(forced) == backend_name(b) && backend_supported(b)) {
                g_width_note = "DUET_BACKEND";
                return b;
            }
    }
    if (backend_supported(Backend::avx512)) {
        const std::string path = cpu::width_cache_path(cpu::cpu_model_key());
        const cpu::WidthChoice choice = cpu::choose_width_cached(path, measure_widths);
        const bool wide = choice.width == cpu::VectorWidth::w512;
        char note[256];
        if (choice.cached)
            std::snprintf(note, sizeof(note), "%s-bit (cached in %s)", wide ? "512" : "256", path.c_str());
        else
            std::snprintf(note, sizeof(note), "%s-bit (measured: 256-bit 1.00, 512-bit %.2f)", wide ? "512" : "256",
                          choice.timings.t256 > 0 ? choice.timings.t512 / choice.timings.t256 : 0.0);
        g_width_note = note;
        return wide ? Backend::avx512 : Backend::avx512_vnni;
    }
    for (Backend b : {Backend::avx2, Backend::neon_dotprod, Backend::neon})
        if (backend_supported(b)) return b;
    return Backend::ref;
}

// The backend the ops use: atomic, not immutable, because tests and benchmarks compare backends inside one
// process (force_backend between runs) and a freed-up pool worker may still be finishing an op when the next
// call switches; a plain global would make that a data race. Relaxed order suffices: the value only selects
// code and publishes no data. Each op reads it once (matmul_many passes its copy down), so a call never mixes
// backends; on x86 a relaxed load is a plain mov, so the hot path pays nothing.
std::atomic<Backend> g_backend{best_backend()};

Backend current_backend() { return g_backend.load(std::memory_order_relaxed); }

std::string g_prefetch_note;  // prefetch_choice_note(); written once, while g_prefetch is initialized

cpu::PrefetchTimings measure_prefetch();  // below: times a streaming Q4_0 rows16 decode with each hint

// The rows16 kernels' prefetch hint: DUET_PREFETCH=nta|t0, else measured once per CPU model (cached) where the
// start-up backend is avx512 (the only one with those kernels), else T0 (read only if a test forces avx512).
cpu::StreamPrefetch best_prefetch() {
    if (const char* forced = std::getenv("DUET_PREFETCH"))
        if (const auto hint = cpu::parse_stream_prefetch(forced)) {
            g_prefetch_note = "DUET_PREFETCH";
            return *hint;
        }
    if (current_backend() != Backend::avx512) return cpu::StreamPrefetch::t0;
    const std::string path = cpu::prefetch_cache_path(cpu::cpu_model_key());
    const cpu::PrefetchChoice choice = cpu::choose_prefetch_cached(path, measure_prefetch);
    char note[256];
    if (choice.cached) std::snprintf(note, sizeof(note), "cached in %s", path.c_str());
    else
        std::snprintf(note, sizeof(note), "measured: nta 1.00, t0 %.2f",
                      choice.timings.nta > 0 ? choice.timings.t0 / choice.timings.nta : 0.0);
    g_prefetch_note = note;
    return choice.hint;
}

// As g_backend: atomic because tests and benchmarks switch it between runs (force_prefetch_hint).
std::atomic<cpu::StreamPrefetch> g_prefetch{best_prefetch()};

// Prefill of the rows16 matrices on AMX tiles (kernels/cpu/amx.h): where the CPU and OS have AMX-BF16, unless
// DUET_AMX=0. As g_backend: atomic because tests and benchmarks switch it (force_amx).
const char* g_amx_note = "";  // amx_choice_note()
bool amx_at_start() {
    if (!cpu::cpu_has_amx_bf16()) return false;
    if (const char* env = std::getenv("DUET_AMX"); env != nullptr && std::string_view(env) == "0") {
        g_amx_note = "DUET_AMX=0";
        return false;
    }
    return true;
}
std::atomic<bool> g_amx{amx_at_start()};

}  // namespace

std::span<const Backend> all_backends() { return kAllBackends; }

Backend active_backend() { return current_backend(); }

const char* backend_name(Backend backend) {
    switch (backend) {
        case Backend::ref:
            return "ref";
        case Backend::avx2:
            return "avx2";
        case Backend::avx512_vnni:
            return "avx512_vnni";
        case Backend::avx512:
            return "avx512";
        case Backend::neon:
            return "neon";
        case Backend::neon_dotprod:
            return "neon_dotprod";
    }
    return "?";
}

bool backend_supported(Backend backend) {
    switch (backend) {
        case Backend::ref:
            return true;
        case Backend::avx2:
            return cpu::cpu_has_avx2();
        case Backend::avx512_vnni:
        case Backend::avx512:
            return cpu::cpu_has_avx512_vnni();
#if DUET_SIMD_NEON
        case Backend::neon:
            return true;
        case Backend::neon_dotprod:
            return cpu::cpu_has_neon_dotprod();
#else
        case Backend::neon:
        case Backend::neon_dotprod:
            return false;
#endif
    }
    return false;
}

const char* width_choice_note() { return g_width_note.c_str(); }

const char* prefetch_hint_name() { return cpu::stream_prefetch_name(g_prefetch.load(std::memory_order_relaxed)); }

const char* prefetch_choice_note() { return g_prefetch_note.c_str(); }

bool force_prefetch_hint(std::string_view name) {
    const auto hint = cpu::parse_stream_prefetch(name);
    if (hint) g_prefetch.store(*hint, std::memory_order_relaxed);
    return hint.has_value();
}

bool amx_active() { return g_amx.load(std::memory_order_relaxed); }

bool amx_prefill_on() { return amx_active() && current_backend() == Backend::avx512; }

const char* amx_choice_note() { return g_amx_note; }

bool force_amx(bool on) {
    if (on && !cpu::cpu_has_amx_bf16()) return false;
    g_amx.store(on, std::memory_order_relaxed);
    return true;
}

void force_backend(Backend backend) {
    DUET_ASSERT(backend_supported(backend));
    g_backend.store(backend, std::memory_order_relaxed);
}

void matmul(TensorType wtype, const void* w, int64_t n, int64_t d, const float* x, int64_t n_tokens, float* y,
            void* scratch, ThreadPool* pool, WeightLayout layout) {
    const MatmulOp op{wtype, w, d, y, layout};
    matmul_many(std::span<const MatmulOp>(&op, 1), n, x, n_tokens, scratch, pool);
}

WeightLayout preferred_layout(TensorType type, int64_t n, int64_t d) {
    if (current_backend() != Backend::avx512) return WeightLayout::plain;
    for (WeightLayout layout :
         {WeightLayout::q4_0_rows16, WeightLayout::q8_0_rows16, WeightLayout::q4_k_rows16, WeightLayout::q6_k_rows16})
        if (ref::layout_fits(layout, type, n, d)) return layout;
    return WeightLayout::plain;
}

size_t packed_size(WeightLayout layout, TensorType type, int64_t n, int64_t d) {
    return ref::packed_size(layout, type, n, d);
}

void pack_weights(WeightLayout layout, TensorType type, const void* w, int64_t n, int64_t d, void* out) {
    DUET_ASSERT(ref::layout_fits(layout, type, n, d));
    if (layout == WeightLayout::plain) std::memcpy(out, w, row_size(type, n) * static_cast<size_t>(d));
    else ref::pack(layout, type, w, n, d, out);
}

namespace {

// Parallel over every op's rows, in granules of `granule` rows, all in one parallel region (no barrier between the
// ops). The ops' granules are one run of units [q's | k's | v's]; each thread takes its contiguous share and steals
// the tail of a slower one's (common/tail_split.h) in pieces of at least kStealBytes of weights.
void run_rows(cpu::MatmulRowsFn rows_fn, const cpu::MatmulArgs& args, std::span<const MatmulOp> ops, int64_t granule,
              ThreadPool* pool) {
    constexpr int64_t kStealBytes = 32 << 10;
    int64_t n_units = 0;
    for (const MatmulOp& op : ops) n_units += (op.d + granule - 1) / granule;
    // Units [u0, u1) of the run: each op's part of them.
    auto rows = [&](int64_t u0, int64_t u1) {
        int64_t first = 0;  // the op's first unit
        for (const MatmulOp& op : ops) {
            const int64_t n_op = (op.d + granule - 1) / granule;
            const int64_t g0 = std::max<int64_t>(u0 - first, 0), g1 = std::min<int64_t>(u1 - first, n_op);
            first += n_op;
            if (g0 >= g1) continue;
            cpu::MatmulArgs op_args = args;
            op_args.w = static_cast<const uint8_t*>(op.w);
            op_args.d = op.d;
            op_args.y = op.y;
            rows_fn(op_args, g0 * granule, std::min(op.d, g1 * granule));
        }
    };
    const int nth = pool != nullptr ? pool->n_threads() : 1;
    if (nth == 1) {
        rows(0, n_units);
        return;
    }
    if (nth > TailSplit::kMaxThreads) {  // more threads than TailSplit has shares for: static shares
        pool->run([&](int ith, int nth_) {
            int64_t u0, u1;
            split_range(n_units, ith, nth_, &u0, &u1);
            rows(u0, u1);
        });
        return;
    }
    const int64_t granule_bytes = std::max<int64_t>(1, granule * static_cast<int64_t>(args.w_row_size));
    TailSplit split(n_units, nth, (kStealBytes + granule_bytes - 1) / granule_bytes);
    pool->run([&](int ith, int) {
        int64_t u0, u1;
        while (split.next(ith, &u0, &u1)) rows(u0, u1);
    });
}

// Whether a matmul's activation rows are quantized over the pool (each thread its share of the tokens, then a join)
// or by the caller alone: a few tokens of a short row take a microsecond or two, less than the fork and join (a
// 4-stream decode step of R1-1.5B has three 1536-wide inputs a layer; its 8960-wide FFN input stays split).
constexpr int64_t kParallelQuantizeValues = 16384;
bool quantize_in_parallel(int nth, int64_t n_tokens, int64_t n) {
    return nth > 1 && n_tokens >= 2 * nth && n_tokens * n >= kParallelQuantizeValues;
}

// prepare(t) for every token of a step: over the pool (quantize_in_parallel) or by the caller alone.
template <class Prepare>
void prepare_tokens(ThreadPool* pool, int64_t n_tokens, int64_t n, const Prepare& prepare) {
    if (!quantize_in_parallel(pool ? pool->n_threads() : 1, n_tokens, n)) {
        for (int64_t t = 0; t < n_tokens; ++t) prepare(t);
        return;
    }
    pool->run([&](int ith, int nth) {
        int64_t t0, t1;
        split_range(n_tokens, ith, nth, &t0, &t1);
        for (int64_t t = t0; t < t1; ++t) prepare(t);
    });
}

// Ops over packed weights (one layout, one type): on avx512, steps of kAmxMinTokens or more on AMX tiles where the
// CPU has them (kernels/cpu/amx.h), other steps on the layout's VNNI kernel; the naive twin elsewhere.
void matmul_packed_on(Backend backend, std::span<const MatmulOp> ops, int64_t n, const float* x, int64_t n_tokens,
                      void* scratch, ThreadPool* pool) {
    const TensorType wtype = ops[0].type;
#if DUET_SIMD_X86
    const size_t group_bytes = ref::packed_size(ops[0].layout, wtype, n, ref::kRows16);
    if (backend == Backend::avx512 && n_tokens >= cpu::kAmxMinTokens && g_amx.load(std::memory_order_relaxed)) {
        const cpu::AmxKernel amx = cpu::amx_kernel(ops[0].layout, g_prefetch.load(std::memory_order_relaxed));
        if (amx.rows != nullptr) {
            auto* xs = static_cast<uint8_t*>(scratch);
            prepare_tokens(pool, n_tokens, n, [&](int64_t t) { amx.prepare(x + t * n, t, n, n_tokens, xs); });
            const cpu::MatmulArgs args{nullptr, group_bytes / ref::kRows16, n, 0, xs, 0, n_tokens, nullptr};
            run_rows(amx.rows, args, ops, 2 * ref::kRows16, pool);  // pairs of groups
            return;
        }
    }
    const cpu::PackedKernel kernel =
        backend == Backend::avx512
            ? cpu::packed_kernel_avx512(ops[0].layout, g_prefetch.load(std::memory_order_relaxed))
            : cpu::PackedKernel{};
    if (kernel.rows != nullptr) {
        auto* xq = static_cast<uint8_t*>(scratch);
        const size_t xq_row = kernel.x_row_size(n);
        prepare_tokens(pool, n_tokens, n, [&](int64_t t) { kernel.prepare(x + t * n, xq + t * xq_row, n); });
        const cpu::MatmulArgs args{nullptr, group_bytes / ref::kRows16, n, 0, xq, xq_row, n_tokens, nullptr};
        run_rows(kernel.rows, args, ops, ref::kRows16, pool);
        return;
    }
#else
    (void)backend;
#endif
    for (const MatmulOp& op : ops)
        ref::matmul_packed(op.layout, op.type, op.w, n, op.d, x, n_tokens, op.y, scratch, pool);
}

// matmul_many on a given backend (the width probe times two of them before any is active).
void matmul_many_on(Backend backend, std::span<const MatmulOp> ops, int64_t n, const float* x, int64_t n_tokens,
                    void* scratch, ThreadPool* pool) {
    if (ops.empty()) return;
    const TensorType wtype = ops[0].type;
    const bool same_type = std::all_of(ops.begin(), ops.end(), [&](const MatmulOp& op) { return op.type == wtype; });
    // The AVX2 float kernels walk rows in blocks of 8 elements; other row lengths (stories260K's n_ff 172)
    // take the reference path.
    const bool float_row_fits = ref::activation_format(wtype) != ref::ActivationFormat::f32 || n % 8 == 0;
    const WeightLayout wlayout = ops[0].layout;
    const bool same_layout =
        std::all_of(ops.begin(), ops.end(), [&](const MatmulOp& op) { return op.layout == wlayout; });
    if (!same_type || !same_layout) {  // e.g. Q4_K_M's attn_v is Q6_K next to Q4_K attn_q / attn_k
        // Runs of ops alike go together (q and k in one parallel region, then v): one join fewer per run.
        for (size_t i = 0; i < ops.size();) {
            size_t j = i + 1;
            while (j < ops.size() && ops[j].type == ops[i].type && ops[j].layout == ops[i].layout) ++j;
            matmul_many_on(backend, ops.subspan(i, j - i), n, x, n_tokens, scratch, pool);
            i = j;
        }
        return;
    }
    if (wlayout != WeightLayout::plain) {
        matmul_packed_on(backend, ops, n, x, n_tokens, scratch, pool);
        return;
    }
    if (backend == Backend::ref || !float_row_fits) {
        for (const MatmulOp& op : ops) ref::matmul(op.type, op.w, n, op.d, x, n_tokens, op.y, scratch, pool);
        return;
    }
    DUET_ASSERT(type_has_kernels(wtype) && n % traits(wtype).block_size == 0);
    const XLayout layout = choose_layout(backend, wtype, n, n_tokens);
    const cpu::MatmulRowsFn rows_fn = rows_fn_for(backend, layout, wtype);
    if (rows_fn == nullptr) {  // a type this backend has no kernel for (NEON: Q4_1, Q5_0, Q5_1, BF16)
        for (const MatmulOp& op : ops) ref::matmul(op.type, op.w, n, op.d, x, n_tokens, op.y, scratch, pool);
        return;
    }
    const ref::ActivationFormat format = ref::activation_format(wtype);
    const int nth = pool ? pool->n_threads() : 1;

    // The activations are quantized once for every op (q, k and v read the same normed rows).
    cpu::MatmulArgs args{nullptr,
                         row_size(wtype, n),
                         n,
                         0,
                         reinterpret_cast<const uint8_t*>(x),
                         static_cast<size_t>(n) * sizeof(float),
                         n_tokens,
                         nullptr};
    if (format != ref::ActivationFormat::f32) {
        auto* xq = static_cast<uint8_t*>(scratch);
        const size_t xq_row = layout_row_size(layout, wtype, n);
        auto quantize = [&](int64_t t0, int64_t t1) {
            for (int64_t t = t0; t < t1; ++t) quantize_activation_row(layout, wtype, x + t * n, xq + t * xq_row, n);
        };
        if (quantize_in_parallel(nth, n_tokens, n)) {
            pool->run([&](int ith, int nth_) {
                int64_t t0, t1;
                split_range(n_tokens, ith, nth_, &t0, &t1);
                quantize(t0, t1);
            });
        } else {
            quantize(0, n_tokens);
        }
        args.x = xq;
        args.x_row_size = xq_row;
    }

    // Each thread takes its contiguous share of every op's rows (a multiple of the tile height), all in one
    // parallel region: no barrier between the ops.
#if DUET_SIMD_X86
    const int64_t granule = cpu::matmul_row_granularity_avx2(n_tokens);
#else
    const int64_t granule = 1;  // the NEON kernels tile tokens, not rows
#endif
    run_rows(rows_fn, args, ops, granule, pool);
}

// Decode matmuls of Q8_0 rows (L2-resident, one thread) of 1 and 4 tokens on avx512_vnni and avx512: the best of
// several alternated rounds each, summed over the two batch sizes. ~1-2 ms.
cpu::WidthTimings measure_widths() {
    constexpr TensorType kType = TensorType::Q8_0;
    constexpr int64_t n = 1536, d = 256, kTokens = 4, kRounds = 7, kCalls = 8;
    const size_t w_bytes = row_size(kType, n) * d;
    std::vector<uint8_t> w(w_bytes);
    uint32_t state = 12345;
    auto next = [&] { return state = state * 1664525u + 1013904223u; };
    for (int64_t b = 0; b < d * n / kQK; ++b) {  // bytes at random, scale 0.01 (f16 0x211f)
        auto* blk = reinterpret_cast<block_q8_0*>(w.data()) + b;
        blk->d = 0x211f;
        for (int8_t& q : blk->qs) q = static_cast<int8_t>(next() >> 24);
    }
    std::vector<float> x(static_cast<size_t>(n * kTokens)), y(static_cast<size_t>(d * kTokens));
    for (float& v : x) v = static_cast<float>(static_cast<int32_t>(next() >> 16) - 32768) / 32768.0f;
    const size_t scratch_bytes = matmul_scratch_size(kType, n, kTokens);
    void* scratch = std::aligned_alloc(64, (scratch_bytes + 63) / 64 * 64);
    const MatmulOp op{kType, w.data(), d, y.data()};
    double best[2][2] = {{1e30, 1e30}, {1e30, 1e30}};  // [wide][tokens 1 / 4]
    for (int64_t round = 0; round < kRounds; ++round)
        for (int wide = 0; wide < 2; ++wide)
            for (int k = 0; k < 2; ++k) {
                const Backend backend = wide ? Backend::avx512 : Backend::avx512_vnni;
                const int64_t n_tokens = k ? kTokens : 1;
                const auto t0 = std::chrono::steady_clock::now();
                for (int64_t c = 0; c < kCalls; ++c)
                    matmul_many_on(backend, {&op, 1}, n, x.data(), n_tokens, scratch, nullptr);
                const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                best[wide][k] = std::min(best[wide][k], dt);
            }
    std::free(scratch);
    return {best[0][0] + best[0][1], best[1][0] + best[1][1]};
}

// One token's Q4_0 rows16 matmul (one thread) over a matrix of kBytes, streamed from memory as in decode, with each
// hint: the best of kRounds alternated rounds each. ~0.1 s where NTA is the slow one; run once per CPU model.
cpu::PrefetchTimings measure_prefetch() {
#if DUET_SIMD_X86
    // 64 MiB: on the Xeon where NTA is slow, 16, 64 and 256 MiB measured NTA 1.58, 1.67 and 1.87 times T0's time.
    constexpr int64_t n = 1536, kRounds = 3, kBytes = 64 << 20;
    constexpr WeightLayout kLayout = WeightLayout::q4_0_rows16;
    const int64_t d = kBytes / static_cast<int64_t>(row_size(TensorType::Q4_0, n)) / ref::kRows16 * ref::kRows16;
    const size_t w_bytes = ref::packed_size(kLayout, TensorType::Q4_0, n, d);
    void* w = alloc_huge_pages(w_bytes);  // as a model's repacked weights
    if (w == nullptr) return {};
    std::memset(w, 0x11, w_bytes);  // nibbles 1, scales f16 0x1111 (normal numbers: no slow paths)
    const cpu::PackedKernel kernels[2] = {cpu::packed_kernel_avx512(kLayout, cpu::StreamPrefetch::nta),
                                          cpu::packed_kernel_avx512(kLayout, cpu::StreamPrefetch::t0)};
    const std::vector<float> x(n, 0.5f);
    std::vector<float> y(d);
    std::vector<uint8_t> xq(kernels[0].x_row_size(n));  // the same activations for both (one prepare)
    kernels[0].prepare(x.data(), xq.data(), n);
    const size_t group_bytes = ref::packed_size(kLayout, TensorType::Q4_0, n, ref::kRows16);
    const cpu::MatmulArgs args{
        static_cast<const uint8_t*>(w), group_bytes / ref::kRows16, n, d, xq.data(), xq.size(), 1, y.data()};
    double best[2] = {1e30, 1e30};  // [nta, t0]
    for (int64_t round = 0; round < kRounds; ++round)
        for (int k = 0; k < 2; ++k) {
            const auto t0 = std::chrono::steady_clock::now();
            kernels[k].rows(args, 0, d);
            best[k] = std::min(best[k], std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
    std::free(w);
    return {best[0], best[1]};
#else
    return {};
#endif
}

}  // namespace

void matmul_many(std::span<const MatmulOp> ops, int64_t n, const float* x, int64_t n_tokens, void* scratch,
                 ThreadPool* pool) {
    matmul_many_on(current_backend(), ops, n, x, n_tokens, scratch, pool);
}

}  // namespace duet::kernels
