// fuzz_gguf.cpp: libFuzzer target: parse arbitrary bytes as GGUF and touch every value and tensor byte range.
#include <cstddef>
#include <cstdint>
#include <span>

#include "gguf/gguf.h"

namespace {

volatile uint64_t g_sink;  // keeps the reads below from being optimized away

void touch_value(const duet::gguf::Value& value) {
    using duet::gguf::ValueType;
    uint64_t acc = static_cast<uint64_t>(value.type);
    if (value.type == ValueType::STRING) {
        for (char c : std::get<std::string_view>(value.v)) acc += static_cast<unsigned char>(c);
    } else if (value.type == ValueType::ARRAY) {
        const auto& arr = std::get<duet::gguf::Array>(value.v);
        if (arr.elem_type == ValueType::STRING) {
            for (std::string_view s : arr.strings)
                if (!s.empty()) acc += static_cast<unsigned char>(s.front()) + static_cast<unsigned char>(s.back());
        } else {
            for (uint64_t i = 0; i < arr.count; ++i)
                acc += static_cast<uint64_t>(arr.as_int(i)) + (arr.as_double(i) != 0.0 ? 1 : 0);
        }
    }
    g_sink = g_sink + acc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto parsed = duet::gguf::GgufFile::from_bytes(std::span<const uint8_t>(data, size));
    if (!parsed.ok()) {
        g_sink = g_sink + parsed.status().message().size();
        return 0;
    }
    const auto& file = *parsed.value();
    for (const auto& kv : file.metadata()) {
        touch_value(kv.value);
        // The typed getters must never abort, whatever the stored type.
        (void)file.get_u32(kv.key);
        (void)file.get_u64(kv.key);
        (void)file.get_i64(kv.key);
        (void)file.get_f32(kv.key);
        (void)file.get_bool(kv.key);
        (void)file.get_string(kv.key);
        (void)file.get_array(kv.key);
    }
    for (const auto& t : file.tensors()) {
        // First and last byte of every tensor: out of bounds would trip ASan.
        uint64_t acc = t.data[0] + t.data[t.n_bytes - 1] + static_cast<uint64_t>(t.n_elements());
        if (file.find_tensor(t.name) != &t) __builtin_trap();
        g_sink = g_sink + acc;
    }
    return 0;
}
