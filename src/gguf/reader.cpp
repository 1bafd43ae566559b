// reader.cpp: GGUF parsing over untrusted bytes: every count, length, offset and size checked before use.
#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_set>

#include "gguf/gguf.h"

namespace duet::gguf {

namespace {

using ull = unsigned long long;

// Up-front reservations from file counts are capped; vectors grow as entries actually parse.
constexpr uint64_t kReserveCap = 4096;

// Bytes of untrusted text (keys, names) made safe for a one-line message: escaped and truncated.
std::string printable(std::string_view s) {
    constexpr size_t kMaxShown = 96;
    std::string out;
    for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') out += static_cast<char>(c);
        else out += strformat("\\x%02x", c);
    }
    if (s.size() > kMaxShown) out += "...";
    return out;
}

// A cursor over the file bytes. Every read checks the remaining length first.
class ByteReader {
public:
    explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    uint64_t pos() const { return pos_; }
    uint64_t size() const { return bytes_.size(); }
    uint64_t remaining() const { return bytes_.size() - pos_; }
    const uint8_t* here() const { return bytes_.data() + pos_; }

    // Errors name `what` + `detail` (+ " element <index>" for array elements); built only on failure.
    Status need(uint64_t n, const std::string& what, const char* detail = "", uint64_t index = kNoIndex) const {
        if (n > remaining())
            return Status::invalid_data("%s: truncated: needs %llu bytes at offset %llu, file size %llu",
                                        name(what, detail, index).c_str(), static_cast<ull>(n), static_cast<ull>(pos_),
                                        static_cast<ull>(size()));
        return {};
    }
    // Caller checked need(n).
    void skip(uint64_t n) { pos_ += n; }

    template <typename T>
    Status read(T* out, const std::string& what, const char* detail = "", uint64_t index = kNoIndex) {
        DUET_RETURN_IF_ERROR(need(sizeof(T), what, detail, index));
        std::memcpy(out, here(), sizeof(T));
        pos_ += sizeof(T);
        return {};
    }

    // u64 length + bytes; the length is checked against `cap` and the remaining bytes before anything else.
    Status read_string(std::string_view* out, uint64_t cap, const std::string& what, const char* detail = "",
                       uint64_t index = kNoIndex) {
        uint64_t length = 0;
        DUET_RETURN_IF_ERROR(read(&length, what, detail, index));
        if (length > cap)
            return Status::invalid_data("%s: string length %llu exceeds the limit of %llu bytes",
                                        name(what, detail, index).c_str(), static_cast<ull>(length),
                                        static_cast<ull>(cap));
        if (length > remaining())
            return Status::invalid_data(
                "%s: string of %llu bytes at offset %llu runs past the end of the file "
                "(size %llu)",
                name(what, detail, index).c_str(), static_cast<ull>(length), static_cast<ull>(pos_),
                static_cast<ull>(size()));
        *out = std::string_view(reinterpret_cast<const char*>(here()), length);
        pos_ += length;
        return {};
    }

    static constexpr uint64_t kNoIndex = ~uint64_t{0};

private:
    static std::string name(const std::string& what, const char* detail, uint64_t index) {
        std::string out = what + detail;
        if (index != kNoIndex) out += strformat(" element %llu", static_cast<ull>(index));
        return out;
    }
    std::span<const uint8_t> bytes_;
    uint64_t pos_ = 0;
};

bool known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::FLOAT64); }

Status read_scalar(ByteReader& in, ValueType type, Value* out, const std::string& what) {
    out->type = type;
    switch (type) {
        case ValueType::UINT8: {
            uint8_t v;
            DUET_RETURN_IF_ERROR(in.read(&v, what));
            out->v = uint64_t{v};
            break;
        }
        case ValueType::UINT16: {
            uint16_t v;
            DUET_RETURN_IF_ERROR(in.read(&v, what));
            out->v = uint64_t{v};
            break;
        }
        case ValueType::UINT32: {
            uint32_t v;
            DUET_RETURN_IF_ERROR(in.read(&v, what));
            out->v = uint64_t{v};
            break;
        }
        case ValueType::UINT64: {
            uint64_t v;
            DUET_RETURN_IF_ERROR(in.read(&v, what));
            out->v = v;
            break;
        }
        case ValueType::INT8: {
            int8_t v;
            DUET_RETURN_IF_ERROR(in.read(&v, what));
            out->v = int64_t{v};
            break;
        }
        case ValueType::INT16: {
            int16_t v;
            DUET_RETURN_IF_ERROR(in.read(&v, what));
            out->v = int64_t{v};
            break;
        }
        case ValueType::INT32: {
            int32_t v;
            DUET_RETURN_IF_ERROR(in.read(&v, what));
            out->v = int64_t{v};
            break;
        }
        case ValueType::INT64: {
            int64_t v;
            DUET_RETURN_IF_ERROR(in.read(&v, what));
            out->v = v;
            break;
        }
        case ValueType::FLOAT32: {
            float v;
            DUET_RETURN_IF_ERROR(in.read(&v, what));
            out->v = double{v};
            break;
        }
        case ValueType::FLOAT64: {
            double v;
            DUET_RETURN_IF_ERROR(in.read(&v, what));
            out->v = v;
            break;
        }
        case ValueType::BOOL: {
            uint8_t v;
            DUET_RETURN_IF_ERROR(in.read(&v, what));
            out->v = v != 0;
            break;
        }
        case ValueType::STRING:
        case ValueType::ARRAY:
            return Status::invalid_data("%s: not a scalar type", what.c_str());
    }
    return {};
}

Status read_array(ByteReader& in, Value* out, const std::string& what) {
    uint32_t raw_elem = 0;
    DUET_RETURN_IF_ERROR(in.read(&raw_elem, what, " element type"));
    if (!known_value_type(raw_elem))
        return Status::invalid_data("%s: unknown array element type %u", what.c_str(), raw_elem);
    auto elem = static_cast<ValueType>(raw_elem);
    if (elem == ValueType::ARRAY) return Status::invalid_data("%s: arrays of arrays are not supported", what.c_str());
    Array arr;
    arr.elem_type = elem;
    DUET_RETURN_IF_ERROR(in.read(&arr.count, what, " count"));
    if (elem == ValueType::STRING) {
        // Each string element takes at least its 8-byte length.
        if (arr.count > in.remaining() / 8)
            return Status::invalid_data("%s: %llu strings cannot fit in the %llu bytes that remain", what.c_str(),
                                        static_cast<ull>(arr.count), static_cast<ull>(in.remaining()));
        arr.strings.reserve(std::min<uint64_t>(arr.count, kReserveCap));
        for (uint64_t i = 0; i < arr.count; ++i) {
            std::string_view s;
            DUET_RETURN_IF_ERROR(in.read_string(&s, kMaxStringLength, what, "", i));
            arr.strings.push_back(s);
        }
    } else {
        const uint64_t elem_size = value_type_size(elem);
        if (arr.count > in.remaining() / elem_size)
            return Status::invalid_data(
                "%s: %llu %s elements (%llu bytes each) run past the end of the file "
                "(offset %llu, size %llu)",
                what.c_str(), static_cast<ull>(arr.count), std::string(value_type_name(elem)).c_str(),
                static_cast<ull>(elem_size), static_cast<ull>(in.pos()), static_cast<ull>(in.size()));
        arr.data = in.here();
        in.skip(arr.count * elem_size);
    }
    out->type = ValueType::ARRAY;
    out->v = std::move(arr);
    return {};
}

Status read_value(ByteReader& in, uint32_t raw_type, Value* out, const std::string& what) {
    if (!known_value_type(raw_type)) return Status::invalid_data("%s: unknown value type %u", what.c_str(), raw_type);
    auto type = static_cast<ValueType>(raw_type);
    if (type == ValueType::ARRAY) return read_array(in, out, what);
    if (type == ValueType::STRING) {
        std::string_view s;
        DUET_RETURN_IF_ERROR(in.read_string(&s, kMaxStringLength, what, " string"));
        out->type = ValueType::STRING;
        out->v = s;
        return {};
    }
    return read_scalar(in, type, out, what);
}

Status check_alignment(const Value& value, uint64_t* alignment) {
    if (value.type != ValueType::UINT32)
        return Status::invalid_data("key 'general.alignment' has type %s, expected u32",
                                    std::string(value_type_name(value.type)).c_str());
    uint64_t a = std::get<uint64_t>(value.v);
    if (a == 0 || (a & (a - 1)) != 0 || a > kMaxAlignment)
        return Status::invalid_data("key 'general.alignment' = %llu: must be a power of two in [1, %u]",
                                    static_cast<ull>(a), kMaxAlignment);
    *alignment = a;
    return {};
}

// Reads one tensor info (name, dims, type, offset) and computes its byte size; no data bounds yet.
Status read_tensor_info(ByteReader& in, uint64_t index, uint64_t alignment, TensorInfo* t) {
    std::string what = strformat("tensor #%llu", static_cast<ull>(index));
    DUET_RETURN_IF_ERROR(in.read_string(&t->name, kMaxTensorNameLength, what, " name"));
    if (t->name.empty()) return Status::invalid_data("%s: empty name", what.c_str());
    what = "tensor '" + printable(t->name) + "'";

    uint32_t n_dims = 0;
    DUET_RETURN_IF_ERROR(in.read(&n_dims, what, " n_dims"));
    if (n_dims < 1 || n_dims > static_cast<uint32_t>(kMaxDims))
        return Status::invalid_data("%s: n_dims %u is not in [1, %d]", what.c_str(), n_dims, kMaxDims);
    t->n_dims = static_cast<int>(n_dims);
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
        uint64_t ne = 0;
        DUET_RETURN_IF_ERROR(in.read(&ne, what, " shape"));
        if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return Status::invalid_data("%s: dimension %u is negative (%lld)", what.c_str(), d,
                                        static_cast<long long>(static_cast<int64_t>(ne)));
        if (ne == 0)
            return Status::invalid_data("%s: dimension %u is 0 (empty tensors are not supported)", what.c_str(), d);
        t->ne[d] = static_cast<int64_t>(ne);
        if (__builtin_mul_overflow(n_elements, t->ne[d], &n_elements))
            return Status::invalid_data("%s: element count overflows (dimension %u = %llu)", what.c_str(), d,
                                        static_cast<ull>(ne));
    }

    uint32_t raw_type = 0;
    DUET_RETURN_IF_ERROR(in.read(&raw_type, what, " type"));
    auto traits = tensor_type_traits(raw_type);
    if (!traits) return Status::unsupported("%s: unknown tensor type %u", what.c_str(), raw_type);
    t->type = traits->type;
    if (t->ne[0] % traits->block_size != 0)
        return Status::invalid_data("%s: row length %lld is not a multiple of the %.*s block size %lld", what.c_str(),
                                    static_cast<long long>(t->ne[0]), static_cast<int>(traits->name.size()),
                                    traits->name.data(), static_cast<long long>(traits->block_size));
    uint64_t row_bytes = 0;
    uint64_t n_bytes = 0;
    const auto n_blocks = static_cast<uint64_t>(t->ne[0] / traits->block_size);
    if (__builtin_mul_overflow(n_blocks, static_cast<uint64_t>(traits->type_size), &row_bytes) ||
        __builtin_mul_overflow(row_bytes, static_cast<uint64_t>(t->n_rows()), &n_bytes))
        return Status::invalid_data("%s: byte size overflows", what.c_str());
    t->n_bytes = n_bytes;

    DUET_RETURN_IF_ERROR(in.read(&t->offset, what, " offset"));
    if (t->offset % alignment != 0)
        return Status::invalid_data("%s: data offset %llu is not a multiple of the alignment %llu", what.c_str(),
                                    static_cast<ull>(t->offset), static_cast<ull>(alignment));
    return {};
}

}  // namespace

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
    auto mapped = MappedFile::open(path);
    if (!mapped.ok()) return mapped.status().with_context("gguf: ");
    std::unique_ptr<GgufFile> file(new GgufFile());
    file->file_ = std::move(mapped).value();
    file->bytes_ = file->file_->bytes();
    file->path_ = path;
    Status st = file->parse();
    if (!st.ok()) return st.with_context("gguf: '" + path + "': ");
    return file;
}

Result<std::unique_ptr<GgufFile>> GgufFile::from_bytes(std::span<const uint8_t> bytes) {
    std::unique_ptr<GgufFile> file(new GgufFile());
    file->bytes_ = bytes;
    Status st = file->parse();
    if (!st.ok()) return st.with_context("gguf: ");
    return file;
}

Result<std::unique_ptr<GgufFile>> GgufFile::from_bytes(std::vector<uint8_t>&& bytes) {
    std::unique_ptr<GgufFile> file(new GgufFile());
    file->owned_ = std::move(bytes);
    file->bytes_ = file->owned_;
    Status st = file->parse();
    if (!st.ok()) return st.with_context("gguf: ");
    return file;
}

Status GgufFile::parse() {
    ByteReader in(bytes_);
    if (in.size() < 4)
        return Status::invalid_data("file of %llu bytes is too small for a GGUF header", static_cast<ull>(in.size()));
    uint32_t magic = 0;
    DUET_RETURN_IF_ERROR(in.read(&magic, "magic"));
    if (magic != kGgufMagic) {
        return Status::invalid_data(
            "bad magic '%s', expected 'GGUF'",
            printable(std::string_view(reinterpret_cast<const char*>(bytes_.data()), 4)).c_str());
    }
    DUET_RETURN_IF_ERROR(in.read(&version_, "version"));
    if (version_ == 1) return Status::unsupported("GGUF v%u is not supported (only v2 and v3)", version_);
    if (version_ == 0x02000000u || version_ == 0x03000000u)
        return Status::unsupported("big-endian GGUF (version 0x%08x) is not supported", version_);
    if (version_ != 2 && version_ != 3)
        return Status::unsupported("unsupported GGUF version %u (only v2 and v3)", version_);

    uint64_t n_tensors = 0;
    uint64_t n_kv = 0;
    DUET_RETURN_IF_ERROR(in.read(&n_tensors, "n_tensors"));
    DUET_RETURN_IF_ERROR(in.read(&n_kv, "n_kv"));

    // Each key-value needs >= 8 (key length) + 4 (type) bytes: bound n_kv before reserving anything.
    if (n_kv > in.remaining() / 12)
        return Status::invalid_data("n_kv %llu cannot fit in the %llu bytes that remain", static_cast<ull>(n_kv),
                                    static_cast<ull>(in.remaining()));
    // Grow as entries actually parse (a small file cannot claim a huge reservation).
    kv_.reserve(std::min<uint64_t>(n_kv, kReserveCap));
    std::unordered_set<std::string_view> keys;
    for (uint64_t i = 0; i < n_kv; ++i) {
        KeyValue kv;
        DUET_RETURN_IF_ERROR(in.read_string(&kv.key, kMaxKeyLength, strformat("key #%llu", static_cast<ull>(i))));
        if (kv.key.empty()) return Status::invalid_data("key #%llu is empty", static_cast<ull>(i));
        const std::string what = "key '" + printable(kv.key) + "'";
        if (!keys.insert(kv.key).second) return Status::invalid_data("duplicate %s", what.c_str());
        uint32_t raw_type = 0;
        DUET_RETURN_IF_ERROR(in.read(&raw_type, what, " type"));
        DUET_RETURN_IF_ERROR(read_value(in, raw_type, &kv.value, what));
        if (kv.key == "general.alignment") DUET_RETURN_IF_ERROR(check_alignment(kv.value, &alignment_));
        kv_.push_back(std::move(kv));
    }

    // Each tensor info needs >= 8 (name length) + 4 (n_dims) + 8 (one dim) + 4 (type) + 8 (offset) bytes.
    if (n_tensors > in.remaining() / 32)
        return Status::invalid_data("n_tensors %llu cannot fit in the %llu bytes that remain",
                                    static_cast<ull>(n_tensors), static_cast<ull>(in.remaining()));
    tensors_.reserve(std::min<uint64_t>(n_tensors, kReserveCap));
    std::unordered_set<std::string_view> names;
    for (uint64_t i = 0; i < n_tensors; ++i) {
        TensorInfo t;
        DUET_RETURN_IF_ERROR(read_tensor_info(in, i, alignment_, &t));
        if (!names.insert(t.name).second)
            return Status::invalid_data("duplicate tensor name '%s'", printable(t.name).c_str());
        tensors_.push_back(t);
    }

    // The data section starts at the next multiple of the alignment (pos <= file size, so no overflow).
    data_offset_ = (in.pos() + alignment_ - 1) / alignment_ * alignment_;
    const uint64_t file_size = bytes_.size();
    for (auto& t : tensors_) {
        uint64_t start = 0;
        uint64_t end = 0;
        if (__builtin_add_overflow(data_offset_, t.offset, &start) || __builtin_add_overflow(start, t.n_bytes, &end) ||
            end > file_size)
            return Status::invalid_data("tensor '%s': data [offset %llu, +%llu) beyond file size %llu",
                                        printable(t.name).c_str(),
                                        static_cast<ull>(start < data_offset_ ? t.offset : start),
                                        static_cast<ull>(t.n_bytes), static_cast<ull>(file_size));
        t.data = bytes_.data() + start;
    }

    // No two tensors may share bytes (gaps are fine).
    std::vector<size_t> order(tensors_.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
    for (size_t i = 1; i < order.size(); ++i) {
        const TensorInfo& prev = tensors_[order[i - 1]];
        const TensorInfo& cur = tensors_[order[i]];
        if (prev.offset + prev.n_bytes > cur.offset)  // both in bounds, so no overflow
            return Status::invalid_data("tensor '%s' [offset %llu, +%llu) overlaps tensor '%s' at offset %llu",
                                        printable(prev.name).c_str(), static_cast<ull>(data_offset_ + prev.offset),
                                        static_cast<ull>(prev.n_bytes), printable(cur.name).c_str(),
                                        static_cast<ull>(data_offset_ + cur.offset));
    }
    return {};
}

}  // namespace duet::gguf
