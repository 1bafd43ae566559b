// width_probe.h: whether this CPU runs the decode kernels faster on 512-bit vectors (a full-width AVX-512 datapath:
// Zen 5, Intel server cores) or on 256-bit ones (Zen 4 splits 512-bit ops in two), decided once per CPU model by a
// short measurement (kernels.cpp times the two backends' decode matmuls) and cached in a small file, so later
// starts read the answer instead of measuring. DUET_BACKEND overrides all of it (kernels.cpp).
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

}  // namespace duet::cpu
