// tensor_type.cpp: the table of ggml tensor types.
#include "common/tensor_type.h"

#include <array>

#include "common/ascii.h"
#include "common/assert.h"

namespace duet {

namespace {

constexpr std::array kTypes = {
    TensorTypeTraits{TensorType::F32, "f32", 1, 4, true},
    TensorTypeTraits{TensorType::F16, "f16", 1, 2, true},
    TensorTypeTraits{TensorType::Q4_0, "q4_0", kQK, 2 + kQK / 2, true},
    TensorTypeTraits{TensorType::Q4_1, "q4_1", kQK, 4 + kQK / 2, true},
    TensorTypeTraits{TensorType::Q5_0, "q5_0", kQK, 2 + 4 + kQK / 2, true},
    TensorTypeTraits{TensorType::Q5_1, "q5_1", kQK, 4 + 4 + kQK / 2, true},
    TensorTypeTraits{TensorType::Q8_0, "q8_0", kQK, 2 + kQK, true},
    TensorTypeTraits{TensorType::Q8_1, "q8_1", kQK, 4 + kQK, false},
    TensorTypeTraits{TensorType::Q2_K, "q2_K", kQK_K, kQK_K / 16 + kQK_K / 4 + 4, false},
    TensorTypeTraits{TensorType::Q3_K, "q3_K", kQK_K, kQK_K / 8 + kQK_K / 4 + 12 + 2, false},
    TensorTypeTraits{TensorType::Q4_K, "q4_K", kQK_K, 4 + 12 + kQK_K / 2, true},
    TensorTypeTraits{TensorType::Q5_K, "q5_K", kQK_K, 4 + 12 + kQK_K / 8 + kQK_K / 2, true},
    TensorTypeTraits{TensorType::Q6_K, "q6_K", kQK_K, kQK_K / 2 + kQK_K / 4 + kQK_K / 16 + 2, true},
    TensorTypeTraits{TensorType::Q8_K, "q8_K", kQK_K, 4 + kQK_K + kQK_K / 16 * 2, false},
    TensorTypeTraits{TensorType::I8, "i8", 1, 1, false},
    TensorTypeTraits{TensorType::I16, "i16", 1, 2, false},
    TensorTypeTraits{TensorType::I32, "i32", 1, 4, false},
    TensorTypeTraits{TensorType::I64, "i64", 1, 8, false},
    TensorTypeTraits{TensorType::F64, "f64", 1, 8, false},
    TensorTypeTraits{TensorType::BF16, "bf16", 1, 2, true},
};

}  // namespace

std::optional<TensorTypeTraits> tensor_type_traits(uint32_t raw_type) {
    for (const auto& t : kTypes)
        if (static_cast<uint32_t>(t.type) == raw_type) return t;
    return std::nullopt;
}

const TensorTypeTraits& traits(TensorType type) {
    for (const auto& t : kTypes)
        if (t.type == type) return t;
    DUET_UNREACHABLE();
}

std::optional<TensorType> tensor_type_from_name(std::string_view name) {
    for (const auto& t : kTypes)
        if (iequals(t.name, name)) return t.type;
    return std::nullopt;
}

}  // namespace duet
