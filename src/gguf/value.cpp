// value.cpp: GGUF metadata values: type names and sizes, array element access, GgufFile's typed getters.
#include <cmath>
#include <cstring>
#include <limits>

#include "common/assert.h"
#include "gguf/gguf.h"

namespace duet::gguf {

std::string_view value_type_name(ValueType type) {
    switch (type) {
        case ValueType::UINT8:
            return "u8";
        case ValueType::INT8:
            return "i8";
        case ValueType::UINT16:
            return "u16";
        case ValueType::INT16:
            return "i16";
        case ValueType::UINT32:
            return "u32";
        case ValueType::INT32:
            return "i32";
        case ValueType::FLOAT32:
            return "f32";
        case ValueType::BOOL:
            return "bool";
        case ValueType::STRING:
            return "string";
        case ValueType::ARRAY:
            return "array";
        case ValueType::UINT64:
            return "u64";
        case ValueType::INT64:
            return "i64";
        case ValueType::FLOAT64:
            return "f64";
    }
    return "unknown";
}

size_t value_type_size(ValueType type) {
    switch (type) {
        case ValueType::UINT8:
        case ValueType::INT8:
        case ValueType::BOOL:
            return 1;
        case ValueType::UINT16:
        case ValueType::INT16:
            return 2;
        case ValueType::UINT32:
        case ValueType::INT32:
        case ValueType::FLOAT32:
            return 4;
        case ValueType::UINT64:
        case ValueType::INT64:
        case ValueType::FLOAT64:
            return 8;
        case ValueType::STRING:
        case ValueType::ARRAY:
            return 0;
    }
    return 0;
}

namespace {

template <typename T>
T load(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

// "u8", "array of 512 f32", ... for error messages.
std::string describe(const Value& value) {
    if (value.type != ValueType::ARRAY) return std::string(value_type_name(value.type));
    const auto& arr = std::get<Array>(value.v);
    return strformat("array of %llu %s", static_cast<unsigned long long>(arr.count),
                     std::string(value_type_name(arr.elem_type)).c_str());
}

Status wrong_type(std::string_view key, const Value& value, const char* expected) {
    return Status::invalid_data("gguf: key '%.*s' has type %s, expected %s", static_cast<int>(key.size()), key.data(),
                                describe(value).c_str(), expected);
}

Status missing(std::string_view key) {
    return Status::not_found("gguf: key '%.*s' not found", static_cast<int>(key.size()), key.data());
}

bool is_unsigned(ValueType t) {
    return t == ValueType::UINT8 || t == ValueType::UINT16 || t == ValueType::UINT32 || t == ValueType::UINT64;
}
bool is_signed(ValueType t) {
    return t == ValueType::INT8 || t == ValueType::INT16 || t == ValueType::INT32 || t == ValueType::INT64;
}

// Any integer value as (negative?, magnitude) so range checks need no casts that could overflow.
struct IntValue {
    bool negative;
    uint64_t magnitude;
};

std::optional<IntValue> int_value(const Value& value) {
    if (is_unsigned(value.type)) return IntValue{false, std::get<uint64_t>(value.v)};
    if (is_signed(value.type)) {
        int64_t v = std::get<int64_t>(value.v);
        if (v >= 0) return IntValue{false, static_cast<uint64_t>(v)};
        return IntValue{true, static_cast<uint64_t>(-(v + 1)) + 1};
    }
    return std::nullopt;
}

Status out_of_range(std::string_view key, IntValue v, const char* target) {
    return Status::out_of_range("gguf: key '%.*s' value %s%llu does not fit %s", static_cast<int>(key.size()),
                                key.data(), v.negative ? "-" : "", static_cast<unsigned long long>(v.magnitude),
                                target);
}

}  // namespace

double Array::as_double(uint64_t i) const {
    DUET_ASSERT(i < count && elem_type != ValueType::STRING && elem_type != ValueType::ARRAY);
    const uint8_t* p = data + i * value_type_size(elem_type);
    switch (elem_type) {
        case ValueType::UINT8:
            return load<uint8_t>(p);
        case ValueType::INT8:
            return load<int8_t>(p);
        case ValueType::UINT16:
            return load<uint16_t>(p);
        case ValueType::INT16:
            return load<int16_t>(p);
        case ValueType::UINT32:
            return load<uint32_t>(p);
        case ValueType::INT32:
            return load<int32_t>(p);
        case ValueType::FLOAT32:
            return load<float>(p);
        case ValueType::BOOL:
            return load<uint8_t>(p) != 0 ? 1.0 : 0.0;
        case ValueType::UINT64:
            return static_cast<double>(load<uint64_t>(p));
        case ValueType::INT64:
            return static_cast<double>(load<int64_t>(p));
        case ValueType::FLOAT64:
            return load<double>(p);
        case ValueType::STRING:
        case ValueType::ARRAY:
            break;
    }
    DUET_UNREACHABLE();
}

int64_t Array::as_int(uint64_t i) const {
    DUET_ASSERT(i < count && elem_type != ValueType::STRING && elem_type != ValueType::ARRAY);
    const uint8_t* p = data + i * value_type_size(elem_type);
    switch (elem_type) {
        case ValueType::UINT8:
            return load<uint8_t>(p);
        case ValueType::INT8:
            return load<int8_t>(p);
        case ValueType::UINT16:
            return load<uint16_t>(p);
        case ValueType::INT16:
            return load<int16_t>(p);
        case ValueType::UINT32:
            return load<uint32_t>(p);
        case ValueType::INT32:
            return load<int32_t>(p);
        case ValueType::BOOL:
            return load<uint8_t>(p) != 0 ? 1 : 0;
        case ValueType::UINT64:
            return static_cast<int64_t>(load<uint64_t>(p));  // wraps above INT64_MAX
        case ValueType::INT64:
            return load<int64_t>(p);
        case ValueType::FLOAT32:
        case ValueType::FLOAT64: {
            // Saturating truncation (a plain cast of an out-of-range or NaN double is UB).
            double d = elem_type == ValueType::FLOAT32 ? load<float>(p) : load<double>(p);
            if (std::isnan(d)) return 0;
            if (d >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
            if (d <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
            return static_cast<int64_t>(d);
        }
        case ValueType::STRING:
        case ValueType::ARRAY:
            break;
    }
    DUET_UNREACHABLE();
}

const KeyValue* GgufFile::find(std::string_view key) const {
    for (const auto& kv : kv_)
        if (kv.key == key) return &kv;
    return nullptr;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
    for (const auto& t : tensors_)
        if (t.name == name) return &t;
    return nullptr;
}

Result<std::string_view> GgufFile::get_string(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (kv == nullptr) return missing(key);
    if (kv->value.type != ValueType::STRING) return wrong_type(key, kv->value, "string");
    return std::get<std::string_view>(kv->value.v);
}

Result<uint64_t> GgufFile::get_u64(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (kv == nullptr) return missing(key);
    auto v = int_value(kv->value);
    if (!v) return wrong_type(key, kv->value, "an integer");
    if (v->negative) return out_of_range(key, *v, "u64");
    return v->magnitude;
}

Result<uint32_t> GgufFile::get_u32(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (kv == nullptr) return missing(key);
    auto v = int_value(kv->value);
    if (!v) return wrong_type(key, kv->value, "an integer");
    if (v->negative || v->magnitude > std::numeric_limits<uint32_t>::max()) return out_of_range(key, *v, "u32");
    return static_cast<uint32_t>(v->magnitude);
}

Result<int64_t> GgufFile::get_i64(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (kv == nullptr) return missing(key);
    auto v = int_value(kv->value);
    if (!v) return wrong_type(key, kv->value, "an integer");
    constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (!v->negative) {
        if (v->magnitude > kMaxPositive) return out_of_range(key, *v, "i64");
        return static_cast<int64_t>(v->magnitude);
    }
    return std::get<int64_t>(kv->value.v);  // negative values only come from signed types
}

Result<float> GgufFile::get_f32(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (kv == nullptr) return missing(key);
    if (kv->value.type != ValueType::FLOAT32 && kv->value.type != ValueType::FLOAT64)
        return wrong_type(key, kv->value, "f32 or f64");
    double d = std::get<double>(kv->value.v);
    if (std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max())
        return Status::out_of_range("gguf: key '%.*s' value %g does not fit f32", static_cast<int>(key.size()),
                                    key.data(), d);
    return static_cast<float>(d);
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (kv == nullptr) return missing(key);
    if (kv->value.type != ValueType::BOOL) return wrong_type(key, kv->value, "bool");
    return std::get<bool>(kv->value.v);
}

Result<const Array*> GgufFile::get_array(std::string_view key) const {
    const KeyValue* kv = find(key);
    if (kv == nullptr) return missing(key);
    if (kv->value.type != ValueType::ARRAY) return wrong_type(key, kv->value, "array");
    return &std::get<Array>(kv->value.v);
}

Result<uint32_t> GgufFile::get_u32_or(std::string_view key, uint32_t def) const {
    if (find(key) == nullptr) return def;
    return get_u32(key);
}

Result<float> GgufFile::get_f32_or(std::string_view key, float def) const {
    if (find(key) == nullptr) return def;
    return get_f32(key);
}

Result<bool> GgufFile::get_bool_or(std::string_view key, bool def) const {
    if (find(key) == nullptr) return def;
    return get_bool(key);
}

Result<std::string_view> GgufFile::get_string_or(std::string_view key, std::string_view def) const {
    if (find(key) == nullptr) return def;
    return get_string(key);
}

}  // namespace duet::gguf
