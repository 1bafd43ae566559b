// gguf.h: GGUF (v2, v3) reader over an mmap or borrowed bytes, zero copy, every file value checked.
//
// The file is untrusted: every count, length, offset and size is validated against the bytes that remain
// and against overflow before it is used, and failures come back as Status with context, e.g.
//   gguf: tensor 'blk.3.attn_q.weight': data [offset 123, +456) beyond file size 789
// Strings, string arrays and tensor data are views into the mapping; they live as long as the GgufFile.
//
// File layout (little endian):
//   | magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv | kv[n_kv] | tensor_info[n_tensors] | pad |
//   | tensor data (each tensor at data_offset + info.offset, offsets aligned to general.alignment) |
//   kv          = string key, u32 value_type, value
//   string      = u64 length, bytes (no terminator)
//   array value = u32 elem_type, u64 count, elements
//   tensor_info = string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset
//
// What the reader accepts (anything else is an error with context, never an abort):
//   - version 2 or 3 (v1 used 32-bit counts and is rejected; a byte-swapped version hints at big endian);
//   - n_kv / n_tensors no larger than the remaining bytes allow (>= 12 bytes per kv, >= 32 per tensor info);
//   - keys: 1 .. kMaxKeyLength bytes, unique; string values <= kMaxStringLength; value types 0..12;
//     arrays of any scalar type or of strings (arrays of arrays are rejected), count checked against the bytes;
//   - general.alignment: UINT32, a power of two in [1, kMaxAlignment] (default 32);
//   - tensor names: 1 .. kMaxTensorNameLength bytes, unique; n_dims 1..4; every ne[i] >= 1 (zero-size and
//     negative dimensions are rejected) and the element count fits int64; a known type (common/tensor_type.h);
//     ne[0] a whole number of blocks; offset a multiple of the alignment; [offset, offset + n_bytes) inside
//     the file and not overlapping another tensor (gaps between tensors are allowed).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/mapped_file.h"
#include "common/status.h"
#include "common/tensor_type.h"

namespace duet::gguf {

enum class ValueType : uint32_t {
    UINT8 = 0,
    INT8 = 1,
    UINT16 = 2,
    INT16 = 3,
    UINT32 = 4,
    INT32 = 5,
    FLOAT32 = 6,
    BOOL = 7,
    STRING = 8,
    ARRAY = 9,
    UINT64 = 10,
    INT64 = 11,
    FLOAT64 = 12,
};
std::string_view value_type_name(ValueType type);

constexpr uint32_t kDefaultAlignment = 32;
constexpr int kMaxDims = 4;
constexpr uint32_t kMaxAlignment = 1u << 20;       // 1 MiB: larger values are rejected
constexpr uint64_t kMaxKeyLength = 64 * 1024;      // 64 KiB
constexpr uint64_t kMaxStringLength = 1ull << 30;  // 1 GiB (string values and string array elements)
constexpr uint64_t kMaxTensorNameLength = 1024;
constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian u32

// Bytes of one scalar element (UINT8..FLOAT64, BOOL); 0 for STRING, ARRAY and unknown types.
size_t value_type_size(ValueType type);

// An array value. Scalar elements stay in the file (read them with at<T>() / the typed helpers);
// string elements are views.
struct Array {
    ValueType elem_type = ValueType::UINT8;
    uint64_t count = 0;
    const uint8_t* data = nullptr;          // scalar arrays: count * element size bytes, unaligned
    std::vector<std::string_view> strings;  // STRING arrays only

    // Element i converted to double / int64 (scalar arrays only; i < count checked by the caller).
    double as_double(uint64_t i) const;
    int64_t as_int(uint64_t i) const;
};

// One metadata value: integers are widened (signed to int64, unsigned to uint64), floats to double.
struct Value {
    ValueType type = ValueType::UINT8;
    std::variant<uint64_t, int64_t, double, bool, std::string_view, Array> v;
};

struct KeyValue {
    std::string_view key;
    Value value;
};

struct TensorInfo {
    std::string_view name;
    TensorType type = TensorType::F32;
    int n_dims = 0;
    std::array<int64_t, kMaxDims> ne = {1, 1, 1, 1};  // ne[0] is the row length (fastest-varying)
    uint64_t offset = 0;                              // relative to the data section
    uint64_t n_bytes = 0;
    const uint8_t* data = nullptr;  // into the file bytes

    int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
    int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
};

class GgufFile {
public:
    // Map and parse a file. Errors name the path.
    static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
    // Parse borrowed bytes (tests, fuzzing); `bytes` must outlive the GgufFile.
    static Result<std::unique_ptr<GgufFile>> from_bytes(std::span<const uint8_t> bytes);
    // Parse bytes the GgufFile takes ownership of (so from_bytes(writer.to_bytes()) is safe).
    static Result<std::unique_ptr<GgufFile>> from_bytes(std::vector<uint8_t>&& bytes);

    uint32_t version() const { return version_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t data_offset() const { return data_offset_; }
    uint64_t file_size() const { return bytes_.size(); }
    const std::string& path() const { return path_; }
    const MappedFile* mapping() const { return file_.get(); }

    const std::vector<KeyValue>& metadata() const { return kv_; }
    const KeyValue* find(std::string_view key) const;

    // Typed getters: error when absent or of an incompatible type (integers must fit the target type).
    Result<std::string_view> get_string(std::string_view key) const;
    Result<uint64_t> get_u64(std::string_view key) const;
    Result<uint32_t> get_u32(std::string_view key) const;
    Result<int64_t> get_i64(std::string_view key) const;
    Result<float> get_f32(std::string_view key) const;
    Result<bool> get_bool(std::string_view key) const;
    Result<const Array*> get_array(std::string_view key) const;
    // Same, but the default when the key is absent (a present key of the wrong type is still an error).
    Result<uint32_t> get_u32_or(std::string_view key, uint32_t def) const;
    Result<float> get_f32_or(std::string_view key, float def) const;
    Result<bool> get_bool_or(std::string_view key, bool def) const;
    Result<std::string_view> get_string_or(std::string_view key, std::string_view def) const;

    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* find_tensor(std::string_view name) const;

private:
    GgufFile() = default;
    Status parse();

    std::unique_ptr<MappedFile> file_;
    std::vector<uint8_t> owned_;  // from_bytes(vector&&) only
    std::span<const uint8_t> bytes_;
    std::string path_;
    uint32_t version_ = 0;
    uint64_t alignment_ = kDefaultAlignment;
    uint64_t data_offset_ = 0;
    std::vector<KeyValue> kv_;
    std::vector<TensorInfo> tensors_;
};

// Builds a GGUF v3 file (write() streams it to disk; to_bytes() builds it in memory). Used by tests, make-model and tools; inputs are ours (trusted).
class GgufWriter {
public:
    void set_u8(const std::string& key, uint8_t v);
    void set_i32(const std::string& key, int32_t v);
    void set_u32(const std::string& key, uint32_t v);
    void set_u64(const std::string& key, uint64_t v);
    void set_f32(const std::string& key, float v);
    void set_bool(const std::string& key, bool v);
    void set_string(const std::string& key, const std::string& v);
    void set_array_string(const std::string& key, const std::vector<std::string>& v);
    void set_array_f32(const std::string& key, const std::vector<float>& v);
    void set_array_i32(const std::string& key, const std::vector<int32_t>& v);
    // Raw escape hatch for tests: value bytes exactly as they go after the u32 type tag. Unlike set_*, it
    // always appends (so tests can write duplicate keys) and never changes the writer's alignment.
    void set_raw(const std::string& key, ValueType type, std::vector<uint8_t> value_bytes);
    // Copy every key-value pair of another file (e.g. tokenizer.* from a vocab GGUF) whose key starts with prefix.
    void copy_metadata(const GgufFile& from, std::string_view prefix);

    // ne[0] is the row length; data must be exactly row_size(type, ne[0]) * rows bytes.
    void add_tensor(const std::string& name, TensorType type, std::vector<int64_t> ne, std::vector<uint8_t> data);
    // Same, but the data is produced at write time: fill(dst) writes exactly the tensor's bytes into dst
    // (one tensor is buffered at a time, so multi-GB models are never held twice).
    void add_tensor(const std::string& name, TensorType type, std::vector<int64_t> ne,
                    std::function<void(uint8_t* dst)> fill);
    void set_i8(const std::string& key, int8_t v);
    void set_u16(const std::string& key, uint16_t v);
    void set_i16(const std::string& key, int16_t v);
    void set_i64(const std::string& key, int64_t v);
    void set_f64(const std::string& key, double v);
    // Bytes the tensor data section will take (with alignment padding) and the whole file.
    uint64_t file_size() const;

    void set_alignment(uint32_t alignment);  // also written as general.alignment; power of two <= kMaxAlignment
    std::vector<uint8_t> to_bytes() const;
    Status write(const std::string& path) const;

private:
    struct Kv {
        std::string key;
        ValueType type;
        std::vector<uint8_t> bytes;
    };
    struct Tensor {
        std::string name;
        TensorType type;
        std::vector<int64_t> ne;
        std::vector<uint8_t> data;
        std::function<void(uint8_t*)> fill;  // set instead of data for streamed tensors
        uint64_t n_bytes = 0;
    };
    void put(const std::string& key, ValueType type, std::vector<uint8_t> bytes);
    uint64_t check_new_tensor(const std::string& name, TensorType type, const std::vector<int64_t>& ne) const;
    std::vector<uint8_t> header_bytes() const;  // everything before the data section, padding included
    uint32_t alignment_ = kDefaultAlignment;
    std::vector<Kv> kv_;
    std::vector<Tensor> tensors_;
};

}  // namespace duet::gguf
