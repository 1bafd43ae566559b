// test_corrupt.cpp: the corrupt-file corpus: one hand-built file per defect class, truncation at every byte,
// and seeded byte mutations; every one must come back as an error with a one-line message, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>

#include "gguf/gguf.h"

namespace duet::gguf {
namespace {

constexpr uint64_t kU64Max = ~uint64_t{0};

// Little-endian byte builder for hand-made (possibly invalid) GGUF files.
struct Bytes {
    std::vector<uint8_t> b;

    template <typename T>
    Bytes& put(T v) {
        uint8_t raw[sizeof(T)];
        std::memcpy(raw, &v, sizeof(T));
        b.insert(b.end(), raw, raw + sizeof(T));
        return *this;
    }
    Bytes& u32(uint32_t v) { return put(v); }
    Bytes& u64(uint64_t v) { return put(v); }
    Bytes& str(std::string_view s) {
        u64(s.size());
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    Bytes& raw(std::string_view s) {
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
        return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
    }
    Bytes& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
    Bytes& kv_str(std::string_view key, std::string_view v) { return str(key).u32(8).str(v); }
    // tensor_info = name, n_dims, ne[n_dims], type, offset
    Bytes& tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
        str(name).u32(static_cast<uint32_t>(ne.size()));
        for (uint64_t n : ne) u64(n);
        return u32(type).u64(offset);
    }
    // Pad to `alignment`, then `n` bytes of tensor data.
    Bytes& data(size_t n, size_t alignment = 32) {
        b.resize((b.size() + alignment - 1) / alignment * alignment, 0);
        b.resize(b.size() + n, 0x5a);
        return *this;
    }
};

// A valid single-tensor file, to show each corpus builder differs from a good file only by its defect.
std::vector<uint8_t> one_f32_tensor(std::vector<uint64_t> ne, uint64_t offset = 0, size_t n_data = 64) {
    return Bytes().header(1, 1).kv_str("general.architecture", "llama").tensor("w", ne, 0, offset).data(n_data).b;
}

std::vector<uint8_t> with_alignment_kv(uint32_t type, uint32_t value) {
    return Bytes().header(0, 1).str("general.alignment").u32(type).u32(value).b;
}

struct CorruptCase {
    std::string name;
    std::function<std::vector<uint8_t>()> make;
    std::string expect;  // a substring of the error message
};

std::vector<CorruptCase> corpus() {
    const std::string big_key(kMaxKeyLength + 1, 'k');
    return {
        {"empty_file", [] { return std::vector<uint8_t>{}; }, "too small"},
        {"bad_magic", [] { return Bytes().raw("GGUX").u32(3).u64(0).u64(0).b; }, "bad magic 'GGUX'"},
        {"version_1", [] { return Bytes().header(0, 0, 1).b; }, "v1 is not supported"},
        {"version_4", [] { return Bytes().header(0, 0, 4).b; }, "unsupported GGUF version 4"},
        {"version_big_endian", [] { return Bytes().header(0, 0, 0x03000000).b; }, "big-endian"},
        {"header_truncated", [] { return Bytes().raw("GGUF").u32(3).u64(0).b; }, "n_kv: truncated"},
        {"n_tensors_u64_max", [] { return Bytes().header(kU64Max, 0).b; }, "n_tensors 18446744073709551615"},
        {"n_kv_u64_max", [] { return Bytes().header(0, kU64Max).b; }, "n_kv 18446744073709551615"},
        {"key_oversized", [big_key] { return Bytes().header(0, 1).kv_u32(big_key, 1).b; }, "exceeds the limit"},
        {"key_length_u64_max", [] { return Bytes().header(0, 1).u64(kU64Max).u32(4).u32(1).b; },
         "key #0: string length 18446744073709551615 exceeds"},
        {"key_empty", [] { return Bytes().header(0, 1).kv_u32("", 1).b; }, "key #0 is empty"},
        {"key_duplicate", [] { return Bytes().header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2).b; },
         "duplicate key 'a.b'"},
        {"value_type_unknown", [] { return Bytes().header(0, 1).str("a").u32(13).u32(0).b; },
         "key 'a': unknown value type 13"},
        {"value_truncated", [] { return Bytes().header(0, 1).str("a").u32(10).u32(0).b; }, "key 'a': truncated"},
        {"string_length_u64_max", [] { return Bytes().header(0, 1).str("s").u32(8).u64(kU64Max).b; },
         "key 's' string: string length 18446744073709551615 exceeds"},
        {"string_past_end", [] { return Bytes().header(0, 1).str("s").u32(8).u64(100).raw("abc").b; },
         "runs past the end"},
        {"array_of_array", [] { return Bytes().header(0, 1).str("a").u32(9).u32(9).u64(1).u32(4).u64(1).u32(7).b; },
         "arrays of arrays"},
        {"array_elem_type_unknown", [] { return Bytes().header(0, 1).str("a").u32(9).u32(77).u64(0).b; },
         "unknown array element type 77"},
        {"array_count_2p63", [] { return Bytes().header(0, 1).str("a").u32(9).u32(0).u64(1ull << 63).u64(0).b; },
         "9223372036854775808 u8 elements"},
        {"array_count_u64_max_f64", [] { return Bytes().header(0, 1).str("a").u32(9).u32(12).u64(kU64Max).b; },
         "run past the end"},
        {"string_array_count_2p63",
         [] { return Bytes().header(0, 1).str("a").u32(9).u32(8).u64(1ull << 63).str("x").b; },
         "9223372036854775808 strings cannot fit"},
        {"string_array_element_past_end",
         [] { return Bytes().header(0, 1).str("a").u32(9).u32(8).u64(2).str("x").u64(1000).b; },
         "key 'a' element 1: string of 1000 bytes"},
        {"alignment_0", [] { return with_alignment_kv(4, 0); }, "general.alignment' = 0"},
        {"alignment_3", [] { return with_alignment_kv(4, 3); }, "general.alignment' = 3"},
        {"alignment_2p31", [] { return with_alignment_kv(4, 1u << 31); }, "general.alignment' = 2147483648"},
        {"alignment_int32_typed", [] { return with_alignment_kv(5, 32); }, "has type i32, expected u32"},
        {"tensor_name_size_u64_max", [] { return Bytes().header(1, 0).u64(kU64Max).u32(1).u64(1).u32(0).u64(0).b; },
         "tensor #0 name: string length 18446744073709551615"},
        {"tensor_name_too_long",
         [] { return Bytes().header(1, 0).tensor(std::string(kMaxTensorNameLength + 1, 'n'), {8}, 0, 0).data(32).b; },
         "exceeds the limit of 1024"},
        {"tensor_name_empty", [] { return Bytes().header(1, 0).tensor("", {8}, 0, 0).data(32).b; }, "empty name"},
        {"n_dims_0", [] { return Bytes().header(1, 0).tensor("w", {}, 0, 0).u64(0).u64(0).data(32).b; },
         "n_dims 0 is not in [1, 4]"},
        {"n_dims_5",
         [] {
             return one_f32_tensor({1, 1, 1, 1, 1});
         },
         "n_dims 5 is not in [1, 4]"},
        {"n_dims_u32_max", [] { return Bytes().header(1, 0).str("w").u32(~0u).u64(1).u32(0).u64(0).data(64).b; },
         "n_dims 4294967295"},
        {"dim_zero",
         [] {
             return one_f32_tensor({16, 0});
         },
         "dimension 1 is 0"},
        {"dim_negative",
         [] {
             return one_f32_tensor({16, static_cast<uint64_t>(-4)});
         },
         "dimension 1 is negative (-4)"},
        {"dim_product_overflow",
         [] {
             return one_f32_tensor({1ull << 32, 1ull << 32});
         },
         "element count overflows"},
        {"byte_size_overflow", [] { return one_f32_tensor({1ull << 62}); }, "byte size overflows"},
        {"tensor_type_unknown", [] { return Bytes().header(1, 0).tensor("w", {32}, 4, 0).data(64).b; },
         "unknown tensor type 4"},
        {"tensor_type_u32_max", [] { return Bytes().header(1, 0).tensor("w", {32}, ~0u, 0).data(64).b; },
         "unknown tensor type 4294967295"},
        {"row_not_whole_blocks",
         [] {
             return Bytes().header(1, 0).tensor("w", {33, 2}, 2, 0).data(64).b;
         },
         "row length 33 is not a multiple of the q4_0 block size 32"},
        {"offset_out_of_bounds", [] { return one_f32_tensor({16}, 1024); }, "beyond file size"},
        {"data_one_byte_short", [] { return one_f32_tensor({16}, 0, 63); },
         "data [offset 128, +64) beyond file size 191"},
        {"offset_u64_max_aligned", [] { return one_f32_tensor({16}, kU64Max - 31); }, "beyond file size"},
        {"offset_misaligned", [] { return one_f32_tensor({16}, 16, 96); },
         "offset 16 is not a multiple of the alignment 32"},
        {"tensors_overlap",
         [] { return Bytes().header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {16}, 0, 32).data(96).b; },
         "tensor 'a' [offset 96, +64) overlaps tensor 'b'"},
        {"tensor_name_duplicate",
         [] { return Bytes().header(2, 0).tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).data(64).b; },
         "duplicate tensor name 'w'"},
        {"two_huge_tensors",
         [] {
             return Bytes()
                 .header(2, 0)
                 .tensor("a", {0x7FFFFFFFFFFFFFC0ull}, 24, 0)
                 .tensor("b", {0x7FFFFFFFFFFFFFC0ull}, 24, 0x7FFFFFFFFFFFFFC0ull)
                 .data(64)
                 .b;
         },
         "tensor 'a': data [offset 96, +9223372036854775744) beyond file size"},
        {"tensor_info_truncated", [] { return Bytes().header(1, 0).str("a_longer_tensor_name").u32(2).u64(4).b; },
         "tensor 'a_longer_tensor_name' shape: truncated"},
        {"unprintable_key_is_escaped", [] { return Bytes().header(0, 2).kv_u32("a\nb'", 1).kv_u32("a\nb'", 1).b; },
         "duplicate key 'a\\x0ab\\x27'"},
    };
}

void PrintTo(const CorruptCase& c, std::ostream* os) { *os << c.name; }

class GgufCorrupt : public ::testing::TestWithParam<CorruptCase> {};

TEST_P(GgufCorrupt, IsRejectedWithAMessage) {
    const CorruptCase& c = GetParam();
    std::vector<uint8_t> bytes = c.make();
    auto f = GgufFile::from_bytes(bytes);
    ASSERT_FALSE(f.ok()) << c.name << " was accepted";
    const std::string msg = f.status().message();
    EXPECT_EQ(msg.rfind("gguf: ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << "message: " << msg << "\nexpected to contain: " << c.expect;
}

INSTANTIATE_TEST_SUITE_P(Corpus, GgufCorrupt, ::testing::ValuesIn(corpus()),
                         [](const ::testing::TestParamInfo<CorruptCase>& info) { return info.param.name; });

// The builders themselves make valid files when the defect is removed (so each case tests one defect).
TEST(GgufCorruptControls, ValidVariantsParse) {
    auto ok = [](const std::vector<uint8_t>& bytes) {
        auto f = GgufFile::from_bytes(bytes);
        EXPECT_TRUE(f.ok()) << f.status().message();
        return f.ok();
    };
    EXPECT_TRUE(ok(one_f32_tensor({16})));
    EXPECT_TRUE(ok(one_f32_tensor({4, 2, 1, 2})));
    EXPECT_TRUE(ok(with_alignment_kv(4, 64)));
    EXPECT_TRUE(ok(Bytes().header(0, 0, 2).b));  // v2 is accepted
    EXPECT_TRUE(ok(Bytes().header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {16}, 0, 64).data(128).b));  // gap
    EXPECT_TRUE(ok(Bytes().header(1, 0).tensor("w", {64, 2}, 2, 0).data(72).b));  // q4_0: 2 rows of 18 * 2 bytes
    EXPECT_TRUE(ok(Bytes().header(0, 1).str("a").u32(9).u32(8).u64(2).str("x").str("").b));
}

// A small valid file from the writer: a few keys and tensors of three types.
std::vector<uint8_t> small_valid_file() {
    GgufWriter w;
    w.set_string("general.architecture", "llama");
    w.set_u32("llama.block_count", 1);
    w.set_array_string("tokenizer.ggml.tokens", {"<s>", "</s>", "a", "bc"});
    w.set_array_f32("tokenizer.ggml.scores", {0.f, 0.f, -1.f, -2.f});
    w.set_bool("flag", true);
    std::vector<uint8_t> f32(4 * 12, 1), f16(2 * 8 * 2, 2), q8(34 * 2, 3);
    w.add_tensor("token_embd.weight", TensorType::F32, {12}, f32);
    w.add_tensor("blk.0.attn_q.weight", TensorType::F16, {8, 2}, f16);
    w.add_tensor("output.weight", TensorType::Q8_0, {32, 2}, q8);
    return w.to_bytes();
}

TEST(GgufTruncation, EveryPrefixIsRejectedUntilTheLastTensorEnds) {
    const std::vector<uint8_t> full = small_valid_file();
    auto parsed = GgufFile::from_bytes(full);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    uint64_t last_data_end = 0;
    for (const auto& t : parsed.value()->tensors())
        last_data_end = std::max(last_data_end, parsed.value()->data_offset() + t.offset + t.n_bytes);
    ASSERT_LT(last_data_end, full.size());  // the writer pads after the last tensor too

    for (size_t cut = 0; cut < full.size(); ++cut) {
        // An exactly-sized copy, so a sanitizer build catches any read past the end.
        std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
        auto f = GgufFile::from_bytes(prefix);
        if (cut < last_data_end) {
            ASSERT_FALSE(f.ok()) << "prefix of " << cut << " bytes accepted";
            ASSERT_FALSE(f.status().message().empty());
        } else {
            ASSERT_TRUE(f.ok()) << "cut " << cut << ": " << f.status().message();  // only padding is missing
        }
    }
}

// Seeded byte mutations of a valid file: each parses or fails cleanly; parsed ones have in-bounds tensors.
TEST(GgufMutation, SeededMutantsNeverCrash) {
    const std::vector<uint8_t> base = small_valid_file();
    std::mt19937_64 rng(20261128);
    int n_ok = 0;
    int n_rejected = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        std::vector<uint8_t> m = base;
        int n_edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < n_edits; ++e) {
            size_t pos = rng() % m.size();
            switch (rng() % 3) {
                case 0:
                    m[pos] = static_cast<uint8_t>(rng());
                    break;
                case 1:
                    m[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
                    break;
                default:
                    m[pos] = (rng() % 2) ? 0xff : 0x00;
                    break;
            }
        }
        auto f = GgufFile::from_bytes(m);
        if (!f.ok()) {
            ASSERT_FALSE(f.status().message().empty());
            ++n_rejected;
            continue;
        }
        ++n_ok;
        for (const auto& t : f.value()->tensors()) {
            ASSERT_GE(t.data, m.data());
            ASSERT_LE(t.data + t.n_bytes, m.data() + m.size());
        }
    }
    EXPECT_GT(n_rejected, 0);
    EXPECT_GT(n_ok, 0);  // mutations of data bytes leave a valid file
}

}  // namespace
}  // namespace duet::gguf
