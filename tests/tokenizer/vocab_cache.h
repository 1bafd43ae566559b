// vocab_cache.h: loads each fixture vocabulary once per test process (the big ones take ~0.3 s each).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "gguf/gguf.h"
#include "support/fixtures.h"
#include "tokenizer/tokenizer.h"

namespace duet::test {

// Fixture-relative GGUF path of a named vocabulary ("llama-bpe", "qwen2", "gpt-2", "stories260K", ...).
inline std::string vocab_path(const std::string& name) {
    if (name == "llama-bpe") return fixture("vocab-derived/vocab-llama3-instruct.derived.gguf");
    if (name == "qwen2") return fixture("vocab-derived/vocab-qwen2.5-instruct.derived.gguf");
    if (name == "deepseek-r1-qwen") return fixture("vocab-derived/vocab-deepseek-r1-distill-qwen.derived.gguf");
    if (name == "stories260K") return fixture("stories260K/stories260K.gguf");
    return fixture("llamacpp-vocab/ggml-vocab-" + name + ".gguf");
}

// The tokenizer of a named vocabulary; aborts the test (ASSERT) in the caller when it fails to load.
inline const tok::Tokenizer* cached_vocab(const std::string& name, std::string* error = nullptr) {
    static std::map<std::string, std::unique_ptr<tok::Tokenizer>> cache;
    auto it = cache.find(name);
    if (it != cache.end()) return it->second.get();
    auto file = gguf::GgufFile::open(vocab_path(name));
    if (!file.ok()) {
        if (error) *error = file.status().message();
        return nullptr;
    }
    auto tokenizer = tok::Tokenizer::from_gguf(**file);
    if (!tokenizer.ok()) {
        if (error) *error = tokenizer.status().message();
        return nullptr;
    }
    return cache.emplace(name, std::move(tokenizer).value()).first->second.get();
}

}  // namespace duet::test
