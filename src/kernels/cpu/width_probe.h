// width_probe.h: the kernels' choices that only a measurement on this CPU can make, each decided once per CPU model
// by a short run (kernels.cpp) and cached in a one-line file, so later starts read the answer instead of measuring:
//   - the vector width: whether the decode kernels run faster on 512-bit vectors (a full-width AVX-512 datapath:
//     Zen 5, Intel server cores) or on 256-bit ones (Zen 4 splits 512-bit ops in two). DUET_BACKEND overrides it.
//   - the streaming prefetch hint of the 512-bit rows16 kernels (StreamPrefetch below). DUET_PREFETCH overrides it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace duet::cpu {

enum class VectorWidth { w256, w512 };

// Time of the same work on each width (any unit, smaller is faster).
struct WidthTimings {
    double t256 = 0, t512 = 0;
};

// 512-bit only when it is clearly faster (by 10% or more): on a split datapath the two come out about even, and
// the 256-bit kernels are the long-tested path.
VectorWidth choose_width(const WidthTimings& timings);

// "vendor-family-model" of this CPU (e.g. AuthenticAMD-26-2): the cache key.
std::string cpu_model_key();

// The cache file for a key: $XDG_CACHE_HOME/duet/vector-width-KEY, else $HOME/.cache/duet/...; empty when neither
// variable is set.
std::string width_cache_path(std::string_view key);

// One line: "512 t256=... t512=..." (the choice first).
std::string format_width_cache(VectorWidth width, const WidthTimings& timings);
// The choice in such a line; nullopt for anything else (a damaged file is measured again).
std::optional<VectorWidth> parse_width_cache(std::string_view text);

struct WidthChoice {
    VectorWidth width = VectorWidth::w256;
    WidthTimings timings;  // zero when read from the cache
    bool cached = false;
};

// The cached choice at path when there is a valid one; otherwise measure(), choose, and write the cache (best
// effort: an unwritable directory only means measuring again next time). An empty path never caches.
WidthChoice choose_width_cached(const std::string& path, const std::function<WidthTimings()>& measure);

// How the rows16 kernels prefetch the weights they stream (kernels/cpu/rows16_avx512.h): non-temporal (NTA) or into
// every cache level (T0). Measured on R1-1.5B Q4_0 decode: NTA is the faster on Zen 5 (end to end 82 against 76
// tok/s), and 2.5 times slower on an Intel Xeon with AMX (family 6 model 167 under KVM: 5.2 against 13.3 GB/s a
// thread from memory), where the lines NTA fetches do not survive until their loads.
enum class StreamPrefetch { nta, t0 };
const char* stream_prefetch_name(StreamPrefetch hint);  // "nta", "t0"
std::optional<StreamPrefetch> parse_stream_prefetch(std::string_view name);

// Time of the same streaming matmul with each hint (any unit, smaller is faster).
struct PrefetchTimings {
    double nta = 0, t0 = 0;
};
// NTA only when it is faster by 3% or more: T0 is the hint no CPU measured so far punishes much.
StreamPrefetch choose_prefetch(const PrefetchTimings& timings);

std::string prefetch_cache_path(std::string_view key);  // as width_cache_path: .../duet/stream-prefetch-KEY
std::string format_prefetch_cache(StreamPrefetch hint, const PrefetchTimings& timings);  // "t0 nta=... t0=..."
std::optional<StreamPrefetch> parse_prefetch_cache(std::string_view text);

struct PrefetchChoice {
    StreamPrefetch hint = StreamPrefetch::t0;
    PrefetchTimings timings;  // zero when read from the cache
    bool cached = false;
};
// As choose_width_cached.
PrefetchChoice choose_prefetch_cached(const std::string& path, const std::function<PrefetchTimings()>& measure);

}  // namespace duet::cpu
