// writer.cpp: GgufWriter: GGUF v3 files with aligned tensor data, streamed to disk one tensor at a time.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "common/assert.h"
#include "gguf/gguf.h"

namespace duet::gguf {

namespace {

template <typename T>
void append(std::vector<uint8_t>& out, T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.insert(out.end(), b, b + sizeof(T));
}

void append_string(std::vector<uint8_t>& out, std::string_view s) {
    append<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

template <typename T>
std::vector<uint8_t> scalar_bytes(T v) {
    std::vector<uint8_t> out;
    append(out, v);
    return out;
}

// The bytes of a parsed value as they follow its type tag (for copy_metadata).
std::vector<uint8_t> encode_value(const Value& value) {
    std::vector<uint8_t> out;
    switch (value.type) {
        case ValueType::UINT8:
            append<uint8_t>(out, static_cast<uint8_t>(std::get<uint64_t>(value.v)));
            break;
        case ValueType::UINT16:
            append<uint16_t>(out, static_cast<uint16_t>(std::get<uint64_t>(value.v)));
            break;
        case ValueType::UINT32:
            append<uint32_t>(out, static_cast<uint32_t>(std::get<uint64_t>(value.v)));
            break;
        case ValueType::UINT64:
            append<uint64_t>(out, std::get<uint64_t>(value.v));
            break;
        case ValueType::INT8:
            append<int8_t>(out, static_cast<int8_t>(std::get<int64_t>(value.v)));
            break;
        case ValueType::INT16:
            append<int16_t>(out, static_cast<int16_t>(std::get<int64_t>(value.v)));
            break;
        case ValueType::INT32:
            append<int32_t>(out, static_cast<int32_t>(std::get<int64_t>(value.v)));
            break;
        case ValueType::INT64:
            append<int64_t>(out, std::get<int64_t>(value.v));
            break;
        case ValueType::FLOAT32:
            append<float>(out, static_cast<float>(std::get<double>(value.v)));
            break;
        case ValueType::FLOAT64:
            append<double>(out, std::get<double>(value.v));
            break;
        case ValueType::BOOL:
            append<uint8_t>(out, std::get<bool>(value.v) ? 1 : 0);
            break;
        case ValueType::STRING:
            append_string(out, std::get<std::string_view>(value.v));
            break;
        case ValueType::ARRAY: {
            const auto& arr = std::get<Array>(value.v);
            append<uint32_t>(out, static_cast<uint32_t>(arr.elem_type));
            append<uint64_t>(out, arr.count);
            if (arr.elem_type == ValueType::STRING) {
                for (std::string_view s : arr.strings) append_string(out, s);
            } else {
                out.insert(out.end(), arr.data, arr.data + arr.count * value_type_size(arr.elem_type));
            }
            break;
        }
    }
    return out;
}

}  // namespace

void GgufWriter::put(const std::string& key, ValueType type, std::vector<uint8_t> bytes) {
    DUET_ASSERT(!key.empty() && key.size() <= kMaxKeyLength);
    for (auto& kv : kv_) {
        if (kv.key == key) {  // setting a key again replaces its value
            kv.type = type;
            kv.bytes = std::move(bytes);
            return;
        }
    }
    kv_.push_back({key, type, std::move(bytes)});
}

void GgufWriter::set_u8(const std::string& key, uint8_t v) { put(key, ValueType::UINT8, scalar_bytes(v)); }
void GgufWriter::set_i8(const std::string& key, int8_t v) { put(key, ValueType::INT8, scalar_bytes(v)); }
void GgufWriter::set_u16(const std::string& key, uint16_t v) { put(key, ValueType::UINT16, scalar_bytes(v)); }
void GgufWriter::set_i16(const std::string& key, int16_t v) { put(key, ValueType::INT16, scalar_bytes(v)); }
void GgufWriter::set_i32(const std::string& key, int32_t v) { put(key, ValueType::INT32, scalar_bytes(v)); }
void GgufWriter::set_u32(const std::string& key, uint32_t v) { put(key, ValueType::UINT32, scalar_bytes(v)); }
void GgufWriter::set_u64(const std::string& key, uint64_t v) { put(key, ValueType::UINT64, scalar_bytes(v)); }
void GgufWriter::set_i64(const std::string& key, int64_t v) { put(key, ValueType::INT64, scalar_bytes(v)); }
void GgufWriter::set_f32(const std::string& key, float v) { put(key, ValueType::FLOAT32, scalar_bytes(v)); }
void GgufWriter::set_f64(const std::string& key, double v) { put(key, ValueType::FLOAT64, scalar_bytes(v)); }
void GgufWriter::set_bool(const std::string& key, bool v) {
    put(key, ValueType::BOOL, scalar_bytes<uint8_t>(v ? 1 : 0));
}

void GgufWriter::set_string(const std::string& key, const std::string& v) {
    std::vector<uint8_t> bytes;
    append_string(bytes, v);
    put(key, ValueType::STRING, std::move(bytes));
}

void GgufWriter::set_array_string(const std::string& key, const std::vector<std::string>& v) {
    std::vector<uint8_t> bytes;
    append<uint32_t>(bytes, static_cast<uint32_t>(ValueType::STRING));
    append<uint64_t>(bytes, v.size());
    for (const auto& s : v) append_string(bytes, s);
    put(key, ValueType::ARRAY, std::move(bytes));
}

void GgufWriter::set_array_f32(const std::string& key, const std::vector<float>& v) {
    std::vector<uint8_t> bytes;
    append<uint32_t>(bytes, static_cast<uint32_t>(ValueType::FLOAT32));
    append<uint64_t>(bytes, v.size());
    for (float f : v) append(bytes, f);
    put(key, ValueType::ARRAY, std::move(bytes));
}

void GgufWriter::set_array_i32(const std::string& key, const std::vector<int32_t>& v) {
    std::vector<uint8_t> bytes;
    append<uint32_t>(bytes, static_cast<uint32_t>(ValueType::INT32));
    append<uint64_t>(bytes, v.size());
    for (int32_t i : v) append(bytes, i);
    put(key, ValueType::ARRAY, std::move(bytes));
}

void GgufWriter::set_raw(const std::string& key, ValueType type, std::vector<uint8_t> value_bytes) {
    kv_.push_back({key, type, std::move(value_bytes)});  // no replacement: tests use it to write duplicates
}

void GgufWriter::copy_metadata(const GgufFile& from, std::string_view prefix) {
    for (const auto& kv : from.metadata()) {
        if (kv.key.substr(0, prefix.size()) != prefix) continue;
        if (kv.key == "general.alignment") {
            set_alignment(static_cast<uint32_t>(std::get<uint64_t>(kv.value.v)));  // validated by the reader
            continue;
        }
        put(std::string(kv.key), kv.value.type, encode_value(kv.value));
    }
}

void GgufWriter::set_alignment(uint32_t alignment) {
    DUET_ASSERT(alignment != 0 && (alignment & (alignment - 1)) == 0 && alignment <= kMaxAlignment);
    alignment_ = alignment;
    set_u32("general.alignment", alignment);
}

uint64_t GgufWriter::check_new_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& ne) const {
    DUET_ASSERT(!name.empty() && name.size() <= kMaxTensorNameLength);
    DUET_ASSERT(!ne.empty() && ne.size() <= static_cast<size_t>(kMaxDims));
    for (const auto& t : tensors_) DUET_ASSERT(t.name != name);
    uint64_t rows = 1;
    for (size_t d = 0; d < ne.size(); ++d) {
        DUET_ASSERT(ne[d] >= 1);
        if (d > 0) rows *= static_cast<uint64_t>(ne[d]);
    }
    DUET_ASSERT(ne[0] % traits(type).block_size == 0);
    return row_size(type, ne[0]) * rows;
}

void GgufWriter::add_tensor(const std::string& name, TensorType type, std::vector<int64_t> ne,
                            std::vector<uint8_t> data) {
    uint64_t n_bytes = check_new_tensor(name, type, ne);
    DUET_ASSERT(data.size() == n_bytes);
    tensors_.push_back({name, type, std::move(ne), std::move(data), nullptr, n_bytes});
}

void GgufWriter::add_tensor(const std::string& name, TensorType type, std::vector<int64_t> ne,
                            std::function<void(uint8_t* dst)> fill) {
    uint64_t n_bytes = check_new_tensor(name, type, ne);
    DUET_ASSERT(fill != nullptr);
    tensors_.push_back({name, type, std::move(ne), {}, std::move(fill), n_bytes});
}

std::vector<uint8_t> GgufWriter::header_bytes() const {
    std::vector<uint8_t> out;
    append<uint32_t>(out, kGgufMagic);
    append<uint32_t>(out, 3);
    append<uint64_t>(out, tensors_.size());
    append<uint64_t>(out, kv_.size());
    for (const auto& kv : kv_) {
        append_string(out, kv.key);
        append<uint32_t>(out, static_cast<uint32_t>(kv.type));
        out.insert(out.end(), kv.bytes.begin(), kv.bytes.end());
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
        append_string(out, t.name);
        append<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
        for (int64_t n : t.ne) append<uint64_t>(out, static_cast<uint64_t>(n));
        append<uint32_t>(out, static_cast<uint32_t>(t.type));
        append<uint64_t>(out, offset);
        offset = align_up(offset + t.n_bytes, alignment_);
    }
    out.resize(align_up(out.size(), alignment_), 0);
    return out;
}

uint64_t GgufWriter::file_size() const {
    uint64_t size = header_bytes().size();
    for (const auto& t : tensors_) size = align_up(size + t.n_bytes, alignment_);
    return size;
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
    std::vector<uint8_t> out = header_bytes();
    for (const auto& t : tensors_) {
        size_t start = out.size();
        out.resize(start + t.n_bytes);
        if (t.fill) t.fill(out.data() + start);
        else std::memcpy(out.data() + start, t.data.data(), t.n_bytes);
        out.resize(align_up(out.size(), alignment_), 0);
    }
    return out;
}

Status GgufWriter::write(const std::string& path) const {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return Status::io_error("gguf: cannot create '%s': %s", path.c_str(), std::strerror(errno));
    auto fail = [&](const char* what) {
        Status st = Status::io_error("gguf: writing '%s': %s: %s", path.c_str(), what, std::strerror(errno));
        std::fclose(f);
        std::remove(path.c_str());
        return st;
    };
    auto put_bytes = [&](const uint8_t* p, size_t n) { return n == 0 || std::fwrite(p, 1, n, f) == n; };

    const std::vector<uint8_t> header = header_bytes();
    if (!put_bytes(header.data(), header.size())) return fail("header");
    uint64_t pos = header.size();
    const std::vector<uint8_t> zeros(alignment_, 0);
    std::vector<uint8_t> buffer;  // one streamed tensor at a time
    for (const auto& t : tensors_) {
        const uint8_t* src = t.data.data();
        if (t.fill) {
            buffer.resize(t.n_bytes);
            t.fill(buffer.data());
            src = buffer.data();
        }
        if (!put_bytes(src, t.n_bytes)) return fail("tensor data");
        pos += t.n_bytes;
        uint64_t pad = align_up(pos, alignment_) - pos;
        if (!put_bytes(zeros.data(), pad)) return fail("padding");
        pos += pad;
    }
    if (std::fflush(f) != 0) return fail("flush");
    if (std::fclose(f) != 0) {
        Status st = Status::io_error("gguf: closing '%s': %s", path.c_str(), std::strerror(errno));
        std::remove(path.c_str());
        return st;
    }
    return {};
}

}  // namespace duet::gguf
