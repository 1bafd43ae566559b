// model_presets.cpp: make-model presets, per-tensor type choice, and the built-in byte-level vocabulary.
#include "app/model_presets.h"

#include <array>

#include "common/strformat.h"

namespace duet::app {

const std::vector<ModelPreset>& model_presets() {
    static const std::vector<ModelPreset> presets = {
        {"deepseek-r1-distill-qwen-1.5b", "qwen2", 1536, 28, 12, 2, 8960, 151936, 131072, 10000.0f, 1e-6f, true, false,
         false},
        {"llama-3-8b-instruct", "llama", 4096, 32, 32, 8, 14336, 128256, 8192, 500000.0f, 1e-5f, false, false, false},
        {"qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 4864, 151936, 32768, 1000000.0f, 1e-6f, true, true, false},
        {"tiny-llama", "llama", 256, 2, 8, 2, 512, 512, 2048, 500000.0f, 1e-5f, false, false, false},
        {"tiny-qwen2", "qwen2", 256, 2, 4, 2, 512, 512, 2048, 10000.0f, 1e-6f, true, false, false},
        {"demo", "qwen2", 256, 4, 4, 2, 768, 0, 4096, 10000.0f, 1e-6f, true, true, true},
        // encoders: bge-small-zh-v1.5's shape (CLS pooling); a tiny one for tests (mean pooling)
        {"bge-small-zh", "bert", 384, 12, 12, 12, 1536, 21128, 512, 0.0f, 1e-12f, true, false, false, 2},
        {"tiny-bert", "bert", 64, 2, 4, 4, 128, 1024, 128, 0.0f, 1e-12f, true, false, false, 1},
    };
    return presets;
}

Result<ModelPreset> find_preset(std::string_view name) {
    std::string names;
    for (const auto& p : model_presets()) {
        if (p.name == name) return p;
        names += (names.empty() ? "" : ", ") + p.name;
    }
    return Status::invalid_argument("unknown preset '%.*s' (known: %s)", static_cast<int>(name.size()), name.data(),
                                    names.c_str());
}

Result<WeightScheme> parse_weight_scheme(std::string_view name) {
    static const std::array<std::pair<std::string_view, WeightScheme>, 7> kSchemes = {{
        {"f32", WeightScheme::f32},
        {"f16", WeightScheme::f16},
        {"q8_0", WeightScheme::q8_0},
        {"q4_0", WeightScheme::q4_0},
        {"q4_k_m", WeightScheme::q4_k_m},
        {"q5_k_m", WeightScheme::q5_k_m},
        {"q6_k", WeightScheme::q6_k},
    }};
    std::string lower(name);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [n, s] : kSchemes)
        if (n == lower) return s;
    return Status::invalid_argument("unknown --type '%.*s' (f32, f16, q8_0, q4_0, q4_k_m, q5_k_m, q6_k)",
                                    static_cast<int>(name.size()), name.data());
}

uint32_t gguf_file_type(WeightScheme scheme) {
    switch (scheme) {
        case WeightScheme::f32:
            return 0;
        case WeightScheme::f16:
            return 1;
        case WeightScheme::q4_0:
            return 2;
        case WeightScheme::q8_0:
            return 7;
        case WeightScheme::q4_k_m:
            return 15;
        case WeightScheme::q5_k_m:
            return 17;
        case WeightScheme::q6_k:
            return 18;
    }
    return 0;
}

namespace {

// llama.cpp's "use more bits" layer rule for Q4_K_M / Q5_K_M attn_v / ffn_down.
bool use_more_bits(int32_t layer, int32_t n_layers) {
    return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

TensorType fit(TensorType t, int64_t row_length) {
    if (row_length % traits(t).block_size == 0) return t;
    if (t == TensorType::Q4_K) return row_length % kQK == 0 ? TensorType::Q5_0 : TensorType::F16;
    if (t == TensorType::Q6_K || t == TensorType::Q5_K)
        return row_length % kQK == 0 ? TensorType::Q8_0 : TensorType::F16;
    return TensorType::F16;
}

}  // namespace

TensorType tensor_type_for(WeightScheme scheme, const std::string& name, int32_t layer, int32_t n_layers,
                           int64_t row_length, bool is_output) {
    TensorType t = TensorType::F32;
    switch (scheme) {
        case WeightScheme::f32:
            t = TensorType::F32;
            break;
        case WeightScheme::f16:
            t = TensorType::F16;
            break;
        case WeightScheme::q8_0:
            t = TensorType::Q8_0;
            break;
        case WeightScheme::q6_k:
            t = TensorType::Q6_K;
            break;
        case WeightScheme::q4_0:
            t = TensorType::Q4_0;
            break;  // every matrix, like the 1.006 GB R1-1.5B file of performance.md
        case WeightScheme::q4_k_m:
        case WeightScheme::q5_k_m: {
            const bool more = (name.find("attn_v.weight") != std::string::npos ||
                               name.find("ffn_down.weight") != std::string::npos) &&
                              use_more_bits(layer, n_layers);
            const TensorType base = scheme == WeightScheme::q4_k_m ? TensorType::Q4_K : TensorType::Q5_K;
            t = is_output || more ? TensorType::Q6_K : base;
            break;
        }
    }
    return fit(t, row_length);
}

namespace {

// GPT-2's reversible byte -> unicode code point map (printable bytes map to themselves).
std::string byte_token(int b) {
    int cp = b;
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    if (!printable) {
        int n = 0;
        for (int x = 0; x < b; ++x) {
            const bool p = (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255);
            if (!p) ++n;
        }
        cp = 256 + n;
    }
    std::string s;
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
}

}  // namespace

Result<int32_t> write_byte_vocab(gguf::GgufWriter& w, const ModelPreset& preset) {
    const std::string sp = byte_token(' ');  // "Ġ"
    // Merges (left, right) in priority order; each result becomes a token.
    const std::vector<std::pair<std::string, std::string>> merges = {
        {sp, "t"},  {"h", "e"}, {sp + "t", "he"}, {"i", "n"}, {"e", "r"},       {"a", "n"}, {sp, "a"},
        {"o", "n"}, {"r", "e"}, {sp, "s"},        {"e", "n"}, {"a", "t"},       {"o", "r"}, {sp, "w"},
        {"i", "s"}, {"e", "s"}, {sp, "o"},        {"i", "t"}, {sp, "b"},        {"e", "d"}, {sp, "c"},
        {"o", "u"}, {"n", "g"}, {"in", "g"},      {"n", "d"}, {sp + "a", "nd"},
    };
    std::vector<std::string> tokens;
    std::vector<int32_t> types;
    for (int b = 0; b < 256; ++b) {
        tokens.push_back(byte_token(b));
        types.push_back(1);  // normal
    }
    std::vector<std::string> merge_strings;
    for (const auto& [l, r] : merges) {
        tokens.push_back(l + r);
        types.push_back(1);
        merge_strings.push_back(l + " " + r);
    }
    const bool llama = preset.arch == "llama";
    const std::vector<std::string> specials =
        llama ? std::vector<std::string>{"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                                         "<|end_header_id|>", "<|eot_id|>"}
              : std::vector<std::string>{"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    const int32_t first_special = static_cast<int32_t>(tokens.size());
    for (const auto& s : specials) {
        tokens.push_back(s);
        types.push_back(3);  // control
    }
    const int32_t n_vocab = preset.n_vocab > 0 ? preset.n_vocab : static_cast<int32_t>(tokens.size());
    if (n_vocab < static_cast<int32_t>(tokens.size()))
        return Status::invalid_argument("preset '%s': n_vocab %d is below the %zu built-in tokens", preset.name.c_str(),
                                        n_vocab, tokens.size());
    for (int32_t i = static_cast<int32_t>(tokens.size()); i < n_vocab; ++i) {
        tokens.push_back(strformat("<|pad_%d|>", i));
        types.push_back(5);  // unused
    }

    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", llama ? "llama-bpe" : "qwen2");
    w.set_array_string("tokenizer.ggml.tokens", tokens);
    w.set_array_i32("tokenizer.ggml.token_type", types);
    w.set_array_string("tokenizer.ggml.merges", merge_strings);
    if (llama) {
        w.set_u32("tokenizer.ggml.bos_token_id", first_special);
        w.set_u32("tokenizer.ggml.eos_token_id", first_special + 4);  // <|eot_id|>
        w.set_bool("tokenizer.ggml.add_bos_token", true);
        w.set_string(
            "tokenizer.chat_template",
            "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
            "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
            "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}");
    } else {
        w.set_u32("tokenizer.ggml.bos_token_id", first_special);      // <|endoftext|> (not added)
        w.set_u32("tokenizer.ggml.eos_token_id", first_special + 2);  // <|im_end|>
        w.set_u32("tokenizer.ggml.padding_token_id", first_special);
        w.set_bool("tokenizer.ggml.add_bos_token", false);
        w.set_string("tokenizer.chat_template",
                     "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
                     "'<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
                     "{% endif %}");
    }
    return n_vocab;
}

Result<int32_t> write_wordpiece_vocab(gguf::GgufWriter& w, const ModelPreset& preset) {
    const std::string word_start = "\xE2\x96\x81";  // U+2581, llama.cpp's marker for a word's first piece
    std::vector<std::string> tokens;
    std::vector<int32_t> types;
    auto add = [&](std::string text, int32_t type) {
        tokens.push_back(std::move(text));
        types.push_back(type);
    };
    add("[PAD]", 3);
    for (int i = 0; i < 99; ++i) add(strformat("[unused%d]", i), 5);
    add("[UNK]", 2);
    add("[CLS]", 3);
    add("[SEP]", 3);
    add("[MASK]", 3);
    const auto n_vocab = static_cast<size_t>(preset.n_vocab);
    if (n_vocab < tokens.size() + 95)
        return Status::invalid_argument("preset '%s': n_vocab %d is below the %zu tokens of the WordPiece base",
                                        preset.name.c_str(), preset.n_vocab, tokens.size() + 95);
    for (char c = '!'; c <= '~'; ++c) add(word_start + std::string(1, c), 1);
    for (char c = 'a'; c <= 'z'; ++c) add(std::string(1, c), 1);  // continuations
    for (char c = '0'; c <= '9'; ++c) add(std::string(1, c), 1);
    // CJK ideographs as word starts (the tokenizer splits every CJK character into its own word)
    for (uint32_t cp = 0x4E00; cp <= 0x9FFF && tokens.size() < n_vocab; ++cp) {
        std::string utf8;
        utf8 += static_cast<char>(0xE0 | (cp >> 12));
        utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        utf8 += static_cast<char>(0x80 | (cp & 0x3F));
        add(word_start + utf8, 1);
    }
    for (size_t i = 99; tokens.size() < n_vocab; ++i) add(strformat("[unused%zu]", i), 5);
    tokens.resize(n_vocab);
    types.resize(n_vocab);

    w.set_string("tokenizer.ggml.model", "bert");
    w.set_string("tokenizer.ggml.pre", "default");
    w.set_array_string("tokenizer.ggml.tokens", tokens);
    w.set_array_i32("tokenizer.ggml.token_type", types);
    w.set_u32("tokenizer.ggml.token_type_count", 2);
    w.set_u32("tokenizer.ggml.unknown_token_id", 100);
    w.set_u32("tokenizer.ggml.seperator_token_id", 102);  // sic: llama.cpp's key
    w.set_u32("tokenizer.ggml.padding_token_id", 0);
    w.set_u32("tokenizer.ggml.cls_token_id", 101);
    w.set_u32("tokenizer.ggml.mask_token_id", 103);
    return static_cast<int32_t>(n_vocab);
}

}  // namespace duet::app
