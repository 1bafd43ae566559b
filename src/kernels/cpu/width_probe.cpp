// width_probe.cpp: the 256- / 512-bit choice, the streaming prefetch hint, their cache files and the CPU model key
// (width_probe.h).
#include "kernels/cpu/width_probe.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace duet::cpu {

VectorWidth choose_width(const WidthTimings& timings) {
    if (timings.t256 <= 0 || timings.t512 <= 0) return VectorWidth::w256;  // no measurement: the safe default
    return timings.t512 <= 0.9 * timings.t256 ? VectorWidth::w512 : VectorWidth::w256;
}

std::string cpu_model_key() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(0, &a, &b, &c, &d) == 0) return "unknown";
    char vendor[13] = {};
    std::memcpy(vendor, &b, 4);
    std::memcpy(vendor + 4, &d, 4);
    std::memcpy(vendor + 8, &c, 4);
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) return vendor;
    const unsigned base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
    const unsigned family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
    const unsigned model =
        base_family == 0x6 || base_family == 0xf ? base_model | (((a >> 16) & 0xf) << 4) : base_model;
    std::string key = vendor;
    for (char& ch : key)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return key + "-" + std::to_string(family) + "-" + std::to_string(model);
#else
    return "unknown";
#endif
}

namespace {

// $XDG_CACHE_HOME/duet/NAME-KEY, else $HOME/.cache/duet/NAME-KEY; empty when neither variable is set.
std::string cache_path(std::string_view name, std::string_view key) {
    std::string dir;
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] != '\0') dir = xdg;
    else if (const char* home = std::getenv("HOME"); home != nullptr && home[0] != '\0')
        dir = std::string(home) + "/.cache";
    else return "";
    return dir + "/duet/" + std::string(name) + "-" + std::string(key);
}

// The cache file's text; empty when there is none (or no path).
std::string read_cache(const std::string& path) {
    if (path.empty()) return "";
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return in ? text.str() : "";
}

// Best effort: an unwritable directory only means measuring again next time. An empty path never caches.
void write_cache(const std::string& path, const std::string& line) {
    if (path.empty()) return;
    std::error_code ec;
    const std::filesystem::path file(path);
    std::filesystem::create_directories(file.parent_path(), ec);
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(tmp);
        out << line;
    }
    std::filesystem::rename(tmp, file, ec);  // atomic: concurrent starts never see half a line
    if (ec) std::filesystem::remove(tmp, ec);
}

std::string_view first_word(std::string_view text) { return text.substr(0, text.find_first_of(" \n")); }

}  // namespace

std::string width_cache_path(std::string_view key) { return cache_path("vector-width", key); }

std::string format_width_cache(VectorWidth width, const WidthTimings& timings) {
    char line[128];
    std::snprintf(line, sizeof(line), "%s t256=%.6g t512=%.6g\n", width == VectorWidth::w512 ? "512" : "256",
                  timings.t256, timings.t512);
    return line;
}

std::optional<VectorWidth> parse_width_cache(std::string_view text) {
    const std::string_view first = first_word(text);
    if (first == "512") return VectorWidth::w512;
    if (first == "256") return VectorWidth::w256;
    return std::nullopt;
}

WidthChoice choose_width_cached(const std::string& path, const std::function<WidthTimings()>& measure) {
    if (const auto width = parse_width_cache(read_cache(path))) return {*width, {}, true};
    WidthChoice choice;
    choice.timings = measure();
    choice.width = choose_width(choice.timings);
    write_cache(path, format_width_cache(choice.width, choice.timings));
    return choice;
}

const char* stream_prefetch_name(StreamPrefetch hint) { return hint == StreamPrefetch::t0 ? "t0" : "nta"; }

std::optional<StreamPrefetch> parse_stream_prefetch(std::string_view name) {
    if (name == "nta") return StreamPrefetch::nta;
    if (name == "t0") return StreamPrefetch::t0;
    return std::nullopt;
}

StreamPrefetch choose_prefetch(const PrefetchTimings& timings) {
    if (timings.nta <= 0 || timings.t0 <= 0) return StreamPrefetch::t0;  // no measurement: the safe default
    return timings.nta <= 0.97 * timings.t0 ? StreamPrefetch::nta : StreamPrefetch::t0;
}

std::string prefetch_cache_path(std::string_view key) { return cache_path("stream-prefetch", key); }

std::string format_prefetch_cache(StreamPrefetch hint, const PrefetchTimings& timings) {
    char line[128];
    std::snprintf(line, sizeof(line), "%s nta=%.6g t0=%.6g\n", stream_prefetch_name(hint), timings.nta, timings.t0);
    return line;
}

std::optional<StreamPrefetch> parse_prefetch_cache(std::string_view text) {
    return parse_stream_prefetch(first_word(text));
}

PrefetchChoice choose_prefetch_cached(const std::string& path, const std::function<PrefetchTimings()>& measure) {
    if (const auto hint = parse_prefetch_cache(read_cache(path))) return {*hint, {}, true};
    PrefetchChoice choice;
    choice.timings = measure();
    choice.hint = choose_prefetch(choice.timings);
    write_cache(path, format_prefetch_cache(choice.hint, choice.timings));
    return choice;
}

}  // namespace duet::cpu
