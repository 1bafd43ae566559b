// test_reader.cpp: the GGUF reader on real files (stories260K, reference-logits models, vocab-only GGUFs).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gguf/gguf.h"
#include "support/fixtures.h"

namespace duet::gguf {
namespace {

std::unique_ptr<GgufFile> open_fixture(const std::string& relative) {
    auto file = GgufFile::open(test::fixture(relative));
    EXPECT_TRUE(file.ok()) << file.status().message();
    return file.ok() ? std::move(file).value() : nullptr;
}

TEST(GgufReader, Stories260KHeaderAndKeys) {
    DUET_REQUIRE_FIXTURES();
    auto f = open_fixture("stories260K/stories260K.gguf");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->version(), 3u);
    EXPECT_EQ(f->alignment(), 32u);
    EXPECT_EQ(f->data_offset(), 14176u);
    EXPECT_EQ(f->file_size(), 1185376u);
    EXPECT_EQ(f->tensors().size(), 48u);
    EXPECT_EQ(f->find("general.alignment"), nullptr);

    EXPECT_EQ(f->get_string("general.architecture").value(), "llama");
    EXPECT_EQ(f->get_string("general.name").value(), "llama");
    EXPECT_EQ(f->get_u32("llama.context_length").value(), 2048u);
    EXPECT_EQ(f->get_u32("llama.embedding_length").value(), 64u);
    EXPECT_EQ(f->get_u32("llama.feed_forward_length").value(), 172u);
    EXPECT_EQ(f->get_u32("llama.attention.head_count").value(), 8u);
    EXPECT_EQ(f->get_u32("llama.attention.head_count_kv").value(), 4u);
    EXPECT_EQ(f->get_u32("llama.block_count").value(), 5u);
    EXPECT_EQ(f->get_u32("llama.rope.dimension_count").value(), 8u);
    EXPECT_FLOAT_EQ(f->get_f32("llama.attention.layer_norm_rms_epsilon").value(), 1e-5f);
    EXPECT_EQ(f->get_string("tokenizer.ggml.model").value(), "llama");
    EXPECT_EQ(f->get_u32("tokenizer.ggml.unknown_token_id").value(), 0u);
    EXPECT_EQ(f->get_u32("tokenizer.ggml.bos_token_id").value(), 1u);
    EXPECT_EQ(f->get_u32("tokenizer.ggml.eos_token_id").value(), 2u);
    EXPECT_EQ(f->get_u32("tokenizer.ggml.seperator_token_id").value(), 0xFFFFFFFFu);
    EXPECT_EQ(f->get_u32("tokenizer.ggml.padding_token_id").value(), 0xFFFFFFFFu);
    // Absent keys: defaults apply, plain getters say not_found.
    EXPECT_FLOAT_EQ(f->get_f32_or("llama.rope.freq_base", 10000.0f).value(), 10000.0f);
    EXPECT_EQ(f->get_u32("llama.vocab_size").status().code(), StatusCode::not_found);
    EXPECT_EQ(f->get_u32_or("general.file_type", 7).value(), 7u);

    const Array* tokens = f->get_array("tokenizer.ggml.tokens").value();
    EXPECT_EQ(tokens->elem_type, ValueType::STRING);
    ASSERT_EQ(tokens->strings.size(), 512u);
    EXPECT_EQ(tokens->strings[0], "<unk>");
    EXPECT_EQ(tokens->strings[1], "<s>");
    EXPECT_EQ(tokens->strings[2], "</s>");
    const Array* scores = f->get_array("tokenizer.ggml.scores").value();
    EXPECT_EQ(scores->elem_type, ValueType::FLOAT32);
    EXPECT_EQ(scores->count, 512u);
    const Array* types = f->get_array("tokenizer.ggml.token_type").value();
    ASSERT_EQ(types->elem_type, ValueType::INT32);
    ASSERT_EQ(types->count, 512u);
    int n_byte = 0, n_control = 0, n_unknown = 0, n_normal = 0;
    for (uint64_t i = 0; i < types->count; ++i) {
        int64_t t = types->as_int(i);
        n_byte += t == 6;
        n_control += t == 3;
        n_unknown += t == 2;
        n_normal += t == 1;
    }
    EXPECT_EQ(n_byte, 256);
    EXPECT_EQ(n_control, 2);
    EXPECT_EQ(n_unknown, 1);
    EXPECT_EQ(n_normal, 253);
}

TEST(GgufReader, Stories260KTensors) {
    DUET_REQUIRE_FIXTURES();
    auto f = open_fixture("stories260K/stories260K.gguf");
    ASSERT_NE(f, nullptr);
    const TensorInfo* embd = f->find_tensor("token_embd.weight");
    ASSERT_NE(embd, nullptr);
    EXPECT_EQ(embd->type, TensorType::F32);
    EXPECT_EQ(embd->n_dims, 2);
    EXPECT_EQ(embd->ne[0], 64);
    EXPECT_EQ(embd->ne[1], 512);
    EXPECT_EQ(embd->n_bytes, 64u * 512u * 4u);
    EXPECT_EQ(embd->data, f->mapping()->data() + f->data_offset() + embd->offset);  // zero copy

    const TensorInfo* out = f->find_tensor("output.weight");
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(std::memcmp(out->data, embd->data, embd->n_bytes), 0);  // a stored copy of token_embd

    const TensorInfo* k = f->find_tensor("blk.4.attn_k.weight");
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->ne[0], 64);
    EXPECT_EQ(k->ne[1], 32);
    const TensorInfo* down = f->find_tensor("blk.0.ffn_down.weight");
    ASSERT_NE(down, nullptr);
    EXPECT_EQ(down->ne[0], 172);
    EXPECT_EQ(down->ne[1], 64);
    const TensorInfo* norm = f->find_tensor("output_norm.weight");
    ASSERT_NE(norm, nullptr);
    EXPECT_EQ(norm->n_dims, 1);
    EXPECT_EQ(norm->n_elements(), 64);
    EXPECT_EQ(f->find_tensor("blk.5.attn_q.weight"), nullptr);

    uint64_t total = 0;
    for (const auto& t : f->tensors()) {
        EXPECT_EQ(t.type, TensorType::F32) << t.name;
        EXPECT_EQ(t.offset % f->alignment(), 0u) << t.name;
        EXPECT_LE(f->data_offset() + t.offset + t.n_bytes, f->file_size()) << t.name;
        total += t.n_bytes;
    }
    EXPECT_LE(f->data_offset() + total, f->file_size());
}

TEST(GgufReader, GetterTypeChecks) {
    DUET_REQUIRE_FIXTURES();
    auto f = open_fixture("stories260K/stories260K.gguf");
    ASSERT_NE(f, nullptr);
    // Integer getters accept any integer type whose value fits.
    EXPECT_EQ(f->get_u64("llama.block_count").value(), 5u);
    EXPECT_EQ(f->get_i64("llama.block_count").value(), 5);
    // Wrong types name the key and the actual type.
    auto s = f->get_u32("general.architecture");
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("general.architecture"), std::string::npos);
    EXPECT_NE(s.status().message().find("string"), std::string::npos);
    auto a = f->get_f32("tokenizer.ggml.scores");
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.status().message().find("array of 512 f32"), std::string::npos) << a.status().message();
    EXPECT_FALSE(f->get_f32("llama.block_count").ok());  // integers are not floats
    EXPECT_FALSE(f->get_bool("llama.block_count").ok());
    EXPECT_FALSE(f->get_string_or("llama.block_count", "x").ok());  // present, wrong type: still an error
    EXPECT_FALSE(f->get_array("general.name").ok());
    EXPECT_EQ(f->get_string_or("general.absent", "dflt").value(), "dflt");
    EXPECT_TRUE(f->get_bool_or("general.absent", true).value());
}

TEST(GgufReader, ReferenceLogitsModelsMatchTheirJson) {
    DUET_REQUIRE_FIXTURES();
    for (const char* name :
         {"llama3-tiny-F32", "llama3-tiny-BF16", "llama3-tiny-Q8_0", "llama3-tiny-Q4_0", "llama3-tiny-Q4_K_M",
          "llama3-tiny-Q5_K_M", "llama3-tiny-Q6_K", "qwen2-tiny-F32", "qwen2-tiny-F16", "qwen2-tiny-Q8_0",
          "qwen2-tiny-Q4_0", "qwen2-tiny-Q4_K_M", "qwen2-tiny-Q5_K_M", "qwen2-tiny-Q6_K", "qwen2-tiny-tied-F16",
          "qwen2-tiny-tied-Q8_0", "qwen2-tiny-tied-Q4_K_M"}) {
        SCOPED_TRACE(name);
        auto f = open_fixture(std::string("reference-logits/") + name + ".gguf");
        ASSERT_NE(f, nullptr);
        std::ifstream in(test::fixture(std::string("reference-logits/") + name + ".json"));
        auto ref = nlohmann::json::parse(in);
        EXPECT_EQ(f->file_size(), ref["model_bytes"].get<uint64_t>());
        EXPECT_EQ(f->get_string("general.architecture").value(), ref["arch"].get<std::string>());
        std::string arch = ref["arch"].get<std::string>();
        EXPECT_EQ(f->get_u32(arch + ".block_count").value(), ref["hparams"]["n_layer"].get<uint32_t>());
        EXPECT_EQ(f->get_u32(arch + ".attention.head_count_kv").value(), ref["hparams"]["n_head_kv"].get<uint32_t>());
        ASSERT_EQ(f->tensors().size(), ref["tensors"].size());
        for (const auto& rt : ref["tensors"]) {
            std::string tname = rt["name"].get<std::string>();
            const TensorInfo* t = f->find_tensor(tname);
            ASSERT_NE(t, nullptr) << tname;
            EXPECT_EQ(tensor_type_name(t->type), rt["type"].get<std::string>()) << tname;
            ASSERT_EQ(static_cast<size_t>(t->n_dims), rt["ne"].size()) << tname;
            for (int d = 0; d < t->n_dims; ++d) EXPECT_EQ(t->ne[d], rt["ne"][d].get<int64_t>()) << tname;
            EXPECT_EQ(f->data_offset() + t->offset, rt["file_offset"].get<uint64_t>()) << tname;
            EXPECT_EQ(t->n_bytes, rt["nbytes"].get<uint64_t>()) << tname;
        }
    }
}

TEST(GgufReader, VocabOnlyFiles) {
    DUET_REQUIRE_FIXTURES();
    struct Case {
        const char* file;
        const char* arch;
        const char* pre;
        uint64_t n_tokens;
        uint32_t bos;
        uint32_t eos;
    };
    for (const Case& c :
         {Case{"vocab-derived/vocab-llama3-instruct.derived.gguf", "llama", "llama-bpe", 128256, 128000, 128009},
          Case{"vocab-derived/vocab-qwen2.5-instruct.derived.gguf", "qwen2", "qwen2", 151936, 151643, 151645},
          Case{"vocab-derived/vocab-deepseek-r1-distill-qwen.derived.gguf", "qwen2", "deepseek-r1-qwen", 151936, 151646,
               151643}}) {
        SCOPED_TRACE(c.file);
        auto f = open_fixture(c.file);
        ASSERT_NE(f, nullptr);
        EXPECT_TRUE(f->tensors().empty());
        EXPECT_EQ(f->get_string("general.architecture").value(), c.arch);
        EXPECT_EQ(f->get_string("tokenizer.ggml.pre").value(), c.pre);
        EXPECT_EQ(f->get_u32("tokenizer.ggml.bos_token_id").value(), c.bos);
        EXPECT_EQ(f->get_u32("tokenizer.ggml.eos_token_id").value(), c.eos);
        const Array* tokens = f->get_array("tokenizer.ggml.tokens").value();
        EXPECT_EQ(tokens->elem_type, ValueType::STRING);
        EXPECT_EQ(tokens->strings.size(), c.n_tokens);
        EXPECT_EQ(f->get_array("tokenizer.ggml.token_type").value()->count, c.n_tokens);
        EXPECT_FALSE(f->get_string("tokenizer.chat_template").value().empty());
        EXPECT_GT(f->get_array("tokenizer.ggml.merges").value()->strings.size(), 150000u);
    }
}

TEST(GgufReader, LlamaCppVocabFiles) {
    DUET_REQUIRE_FIXTURES();
    for (const char* name : {"bert-bge", "deepseek-coder", "deepseek-llm", "gpt-2", "llama-spm", "phi-3"}) {
        SCOPED_TRACE(name);
        auto f = open_fixture(std::string("llamacpp-vocab/ggml-vocab-") + name + ".gguf");
        ASSERT_NE(f, nullptr);
        EXPECT_TRUE(f->version() == 2 || f->version() == 3);
        const Array* tokens = f->get_array("tokenizer.ggml.tokens").value();
        EXPECT_EQ(tokens->elem_type, ValueType::STRING);
        EXPECT_GT(tokens->strings.size(), 1000u);
        EXPECT_TRUE(f->get_string("tokenizer.ggml.model").ok());
    }
}

TEST(GgufReader, OpenMissingFileNamesThePath) {
    auto f = GgufFile::open("/nonexistent/dir/model.gguf");
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.status().message().find("/nonexistent/dir/model.gguf"), std::string::npos);
}

}  // namespace
}  // namespace duet::gguf
