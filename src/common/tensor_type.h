// tensor_type.h: the GGUF/ggml tensor element types duet knows, with their block layout sizes.
//
// Ids are ggml's (they are stored in GGUF files). A "block" is the unit of quantization: a row of
// n elements occupies (n / block_size) * type_size bytes and n must be a multiple of block_size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace duet {

enum class TensorType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
};

// How a weight matrix's bytes are arranged in memory. plain: the file's rows, one after another. The others are
// repacked at load for the avx512 backend (kernels/ref/packed.h draws them): q4_0_rows16, q8_0_rows16, q4_k_rows16
// and q6_k_rows16, rows of that type in groups of 16 (group g starts at 16g times the layout's bytes per row).
enum class WeightLayout : uint8_t { plain, q4_0_rows16, q8_0_rows16, q4_k_rows16, q6_k_rows16 };

constexpr int64_t kQK = 32;     // elements per block of the legacy quants (Q4_0 .. Q8_1)
constexpr int64_t kQK_K = 256;  // elements per super-block of the K-quants

struct TensorTypeTraits {
    TensorType type;
    std::string_view name;  // ggml's name: "f32", "q4_K", ...
    int64_t block_size;     // elements per block
    int64_t type_size;      // bytes per block
    bool supported;         // duet has kernels for it (dequantize + dot)
};

// Traits for a raw type id from a file; std::nullopt for ids we do not know.
std::optional<TensorTypeTraits> tensor_type_traits(uint32_t raw_type);
const TensorTypeTraits& traits(TensorType type);  // type must be a known enum value

inline std::string_view tensor_type_name(TensorType type) { return traits(type).name; }
std::optional<TensorType> tensor_type_from_name(std::string_view name);  // case-insensitive

// Bytes of one row of n elements; n must be a multiple of the block size (checked by callers).
inline size_t row_size(TensorType type, int64_t n) {
    const auto& t = traits(type);
    return static_cast<size_t>(n / t.block_size * t.type_size);
}

}  // namespace duet
