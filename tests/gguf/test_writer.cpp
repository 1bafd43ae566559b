// test_writer.cpp: GgufWriter round trips (every value type, several tensor types, streamed tensors, alignment).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "gguf/gguf.h"
#include "support/fixtures.h"

namespace duet::gguf {
namespace {

// Parses bytes the GgufFile then owns (string and tensor views stay valid after the caller's copy is gone).
std::unique_ptr<GgufFile> parse(std::vector<uint8_t> bytes) {
    auto f = GgufFile::from_bytes(std::move(bytes));
    EXPECT_TRUE(f.ok()) << f.status().message();
    return f.ok() ? std::move(f).value() : nullptr;
}

// Deterministic bytes for a tensor: byte i = (seed * 31 + i * 7) mod 251.
std::vector<uint8_t> pattern(size_t n, int seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((seed * 31 + i * 7) % 251);
    return v;
}

TEST(GgufWriter, EveryValueTypeRoundTrips) {
    GgufWriter w;
    w.set_u8("t.u8", 200);
    w.set_i8("t.i8", -100);
    w.set_u16("t.u16", 60000);
    w.set_i16("t.i16", -30000);
    w.set_u32("t.u32", 4000000000u);
    w.set_i32("t.i32", -2000000000);
    w.set_u64("t.u64", 18000000000000000000ull);
    w.set_i64("t.i64", -9000000000000000000ll);
    w.set_f32("t.f32", 1.5e-5f);
    w.set_f64("t.f64", 3.141592653589793);
    w.set_bool("t.true", true);
    w.set_bool("t.false", false);
    w.set_string("t.str", "h\xc3\xa9llo");
    w.set_string("t.empty", "");
    w.set_array_string("t.astr", {"a", "", "\xe2\x96\x81the"});
    w.set_array_f32("t.af32", {0.5f, -2.0f, 1e30f});
    w.set_array_i32("t.ai32", {1, -2, 2147483647});
    w.set_array_i32("t.aempty", {});
    std::vector<uint8_t> u16_array = {
        static_cast<uint8_t>(ValueType::UINT16), 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x34, 0x12, 0xff, 0xff};
    w.set_raw("t.au16", ValueType::ARRAY, u16_array);
    w.set_u32("t.replaced", 1);
    w.set_u32("t.replaced", 2);  // set again: replaces, no duplicate key

    auto f = parse(w.to_bytes());
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->metadata().size(), 20u);
    EXPECT_EQ(f->get_u32("t.u8").value(), 200u);
    EXPECT_EQ(f->find("t.u8")->value.type, ValueType::UINT8);
    EXPECT_EQ(f->get_i64("t.i8").value(), -100);
    EXPECT_EQ(f->get_u32("t.u16").value(), 60000u);
    EXPECT_EQ(f->get_i64("t.i16").value(), -30000);
    EXPECT_EQ(f->get_u32("t.u32").value(), 4000000000u);
    EXPECT_EQ(f->get_i64("t.i32").value(), -2000000000);
    EXPECT_EQ(f->get_u64("t.u64").value(), 18000000000000000000ull);
    EXPECT_EQ(f->get_i64("t.i64").value(), -9000000000000000000ll);
    EXPECT_FLOAT_EQ(f->get_f32("t.f32").value(), 1.5e-5f);
    EXPECT_EQ(std::get<double>(f->find("t.f64")->value.v), 3.141592653589793);
    EXPECT_TRUE(f->get_bool("t.true").value());
    EXPECT_FALSE(f->get_bool("t.false").value());
    EXPECT_EQ(f->get_string("t.str").value(), "h\xc3\xa9llo");
    EXPECT_EQ(f->get_string("t.empty").value(), "");
    EXPECT_EQ(f->get_u32("t.replaced").value(), 2u);

    const Array* astr = f->get_array("t.astr").value();
    ASSERT_EQ(astr->elem_type, ValueType::STRING);
    ASSERT_EQ(astr->strings.size(), 3u);
    EXPECT_EQ(astr->strings[1], "");
    EXPECT_EQ(astr->strings[2], "\xe2\x96\x81the");
    const Array* af = f->get_array("t.af32").value();
    ASSERT_EQ(af->count, 3u);
    EXPECT_EQ(af->as_double(1), -2.0);
    EXPECT_FLOAT_EQ(static_cast<float>(af->as_double(2)), 1e30f);
    const Array* ai = f->get_array("t.ai32").value();
    EXPECT_EQ(ai->as_int(1), -2);
    EXPECT_EQ(ai->as_int(2), 2147483647);
    EXPECT_EQ(f->get_array("t.aempty").value()->count, 0u);
    const Array* au = f->get_array("t.au16").value();
    ASSERT_EQ(au->elem_type, ValueType::UINT16);
    EXPECT_EQ(au->as_int(0), 0x1234);
    EXPECT_EQ(au->as_int(1), 0xffff);
}

TEST(GgufWriter, IntegerGettersCheckRange) {
    GgufWriter w;
    w.set_i32("neg", -1);
    w.set_u64("big", 1ull << 40);
    w.set_u64("huge", std::numeric_limits<uint64_t>::max());
    w.set_f64("wide", 1e300);
    w.set_u8("u8", 3);
    auto f = parse(w.to_bytes());
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->get_u32("neg").status().code(), StatusCode::out_of_range);
    EXPECT_EQ(f->get_u64("neg").status().code(), StatusCode::out_of_range);
    EXPECT_EQ(f->get_i64("neg").value(), -1);
    EXPECT_EQ(f->get_u32("big").status().code(), StatusCode::out_of_range);
    EXPECT_EQ(f->get_u64("big").value(), 1ull << 40);
    EXPECT_EQ(f->get_i64("huge").status().code(), StatusCode::out_of_range);
    EXPECT_EQ(f->get_f32("wide").status().code(), StatusCode::out_of_range);
    EXPECT_EQ(f->get_u32("u8").value(), 3u);
    auto wrong = f->get_f32("u8");  // u8 must not silently be read as a float
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(wrong.status().message().find("'u8' has type u8"), std::string::npos) << wrong.status().message();
}

TEST(GgufWriter, TensorsOfSeveralTypesRoundTrip) {
    struct Spec {
        const char* name;
        TensorType type;
        std::vector<int64_t> ne;
    };
    const std::vector<Spec> specs = {
        {"a.f32", TensorType::F32, {3}},  // 12 bytes: the next tensor needs padding
        {"b.f16", TensorType::F16, {5, 3}},
        {"c.q8_0", TensorType::Q8_0, {64, 2}},
        {"d.q4_k", TensorType::Q4_K, {256, 3}},
        {"e.q6_k", TensorType::Q6_K, {512, 1, 2}},
        {"f.bf16", TensorType::BF16, {2, 2, 2, 2}},
        {"g.q4_0", TensorType::Q4_0, {32}},
    };
    GgufWriter w;
    w.set_string("general.architecture", "test");
    std::vector<std::vector<uint8_t>> datas;
    for (size_t i = 0; i < specs.size(); ++i) {
        int64_t rows = 1;
        for (size_t d = 1; d < specs[i].ne.size(); ++d) rows *= specs[i].ne[d];
        datas.push_back(pattern(row_size(specs[i].type, specs[i].ne[0]) * rows, static_cast<int>(i)));
        w.add_tensor(specs[i].name, specs[i].type, specs[i].ne, datas.back());
    }
    const std::vector<uint8_t> bytes = w.to_bytes();
    EXPECT_EQ(bytes.size(), w.file_size());
    auto f = parse(bytes);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->alignment(), kDefaultAlignment);
    EXPECT_EQ(f->data_offset() % kDefaultAlignment, 0u);
    ASSERT_EQ(f->tensors().size(), specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
        const TensorInfo& t = f->tensors()[i];  // order is preserved
        EXPECT_EQ(t.name, specs[i].name);
        EXPECT_EQ(t.type, specs[i].type);
        ASSERT_EQ(t.n_dims, static_cast<int>(specs[i].ne.size()));
        for (int d = 0; d < t.n_dims; ++d) EXPECT_EQ(t.ne[d], specs[i].ne[d]) << t.name;
        for (int d = t.n_dims; d < kMaxDims; ++d) EXPECT_EQ(t.ne[d], 1) << t.name;
        EXPECT_EQ(t.offset % kDefaultAlignment, 0u) << t.name;
        ASSERT_EQ(t.n_bytes, datas[i].size()) << t.name;
        EXPECT_EQ(std::memcmp(t.data, datas[i].data(), t.n_bytes), 0) << t.name;
    }
}

TEST(GgufWriter, StreamedTensorsAndCustomAlignmentViaFile) {
    GgufWriter w;
    w.set_alignment(64);
    w.set_u32("general.alignment", 64);  // idempotent with set_alignment
    std::vector<uint8_t> small = pattern(4 * 7, 1);
    w.add_tensor("small", TensorType::F32, {7}, small);
    int calls = 0;
    w.add_tensor("streamed", TensorType::F16, {100, 3}, [&](uint8_t* dst) {
        ++calls;
        std::vector<uint8_t> p = pattern(600, 9);
        std::memcpy(dst, p.data(), p.size());
    });
    const std::string path = test::temp_dir() + "/writer_stream.gguf";
    ASSERT_TRUE(w.write(path).ok());
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(std::filesystem::file_size(path), w.file_size());

    auto opened = GgufFile::open(path);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    const auto& f = *opened.value();
    EXPECT_EQ(f.alignment(), 64u);
    EXPECT_EQ(f.get_u32("general.alignment").value(), 64u);
    EXPECT_EQ(f.metadata().size(), 1u);
    EXPECT_EQ(f.data_offset() % 64, 0u);
    const TensorInfo* s = f.find_tensor("streamed");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->offset, 64u);  // 28 bytes of "small", padded to 64
    EXPECT_EQ(s->n_bytes, 600u);
    std::vector<uint8_t> expect = pattern(600, 9);
    EXPECT_EQ(std::memcmp(s->data, expect.data(), 600), 0);
    EXPECT_EQ(std::memcmp(f.find_tensor("small")->data, small.data(), small.size()), 0);

    // to_bytes() gives the same bytes as write().
    std::string on_disk = test::read_file(path);
    std::vector<uint8_t> in_memory = w.to_bytes();
    ASSERT_EQ(on_disk.size(), in_memory.size());
    EXPECT_EQ(std::memcmp(on_disk.data(), in_memory.data(), in_memory.size()), 0);
    EXPECT_EQ(calls, 2);
}

TEST(GgufWriter, WriteToBadPathFails) {
    GgufWriter w;
    Status st = w.write("/nonexistent-dir/x.gguf");
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("/nonexistent-dir/x.gguf"), std::string::npos);
}

TEST(GgufWriter, CopyMetadataByPrefix) {
    DUET_REQUIRE_FIXTURES();
    auto src = GgufFile::open(test::fixture("stories260K/stories260K.gguf"));
    ASSERT_TRUE(src.ok()) << src.status().message();
    GgufWriter w;
    w.copy_metadata(*src.value(), "tokenizer.");
    auto f = parse(w.to_bytes());
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->find("general.architecture"), nullptr);
    size_t n_tokenizer_keys = 0;
    for (const auto& kv : src.value()->metadata()) {
        if (!kv.key.starts_with("tokenizer.")) continue;
        ++n_tokenizer_keys;
        const KeyValue* copy = f->find(kv.key);
        ASSERT_NE(copy, nullptr) << kv.key;
        EXPECT_EQ(copy->value.type, kv.value.type) << kv.key;
    }
    EXPECT_EQ(f->metadata().size(), n_tokenizer_keys);
    const Array* a = src.value()->get_array("tokenizer.ggml.scores").value();
    const Array* b = f->get_array("tokenizer.ggml.scores").value();
    ASSERT_EQ(a->count, b->count);
    for (uint64_t i = 0; i < a->count; ++i) ASSERT_EQ(a->as_double(i), b->as_double(i));
    EXPECT_EQ(f->get_array("tokenizer.ggml.tokens").value()->strings,
              src.value()->get_array("tokenizer.ggml.tokens").value()->strings);
    EXPECT_EQ(f->get_u32("tokenizer.ggml.seperator_token_id").value(), 0xFFFFFFFFu);
}

TEST(GgufWriter, RewritesAWholeModelIdentically) {
    DUET_REQUIRE_FIXTURES();
    auto src = GgufFile::open(test::fixture("reference-logits/qwen2-tiny-Q4_K_M.gguf"));
    ASSERT_TRUE(src.ok()) << src.status().message();
    const GgufFile& s = *src.value();
    GgufWriter w;
    w.copy_metadata(s, "");
    for (const auto& t : s.tensors()) {
        std::vector<int64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
        w.add_tensor(std::string(t.name), t.type, ne, [&t](uint8_t* dst) { std::memcpy(dst, t.data, t.n_bytes); });
    }
    std::vector<uint8_t> bytes = w.to_bytes();
    // Same metadata and tensors in the same order with the same alignment: a byte-identical file.
    ASSERT_EQ(bytes.size(), s.file_size());
    EXPECT_EQ(std::memcmp(bytes.data(), s.mapping()->data(), bytes.size()), 0);
}

}  // namespace
}  // namespace duet::gguf
