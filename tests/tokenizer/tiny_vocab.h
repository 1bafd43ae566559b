// tiny_vocab.h: small hand-made GGUF vocabularies (byte-level BPE, SPM) for unit tests of the algorithms.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_impl.h"

namespace duet::test {

// A byte-level BPE vocab: 256 byte tokens, then "aa", "aaaa", "he", "ll", "hell", "hello", then
// "<|end|>" (control) and "<think>" (user defined). Merges: a a, aa aa, h e, l l, he ll, hell o.
inline gguf::GgufWriter tiny_bpe_writer() {
    std::vector<std::string> tokens(tok::bpe_byte_chars().begin(), tok::bpe_byte_chars().end());
    for (const char* t : {"aa", "aaaa", "he", "ll", "hell", "hello", "<|end|>", "<think>"}) tokens.push_back(t);
    std::vector<int32_t> types(tokens.size(), 1);
    types[tokens.size() - 2] = 3;
    types[tokens.size() - 1] = 4;
    gguf::GgufWriter w;
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", "gpt-2");
    w.set_array_string("tokenizer.ggml.tokens", tokens);
    w.set_array_i32("tokenizer.ggml.token_type", types);
    w.set_array_string("tokenizer.ggml.merges", {"a a", "aa aa", "h e", "l l", "he ll", "hell o"});
    w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tokens.size() - 2));
    return w;
}

// Holds the bytes the GgufFile views.
struct OwnedVocab {
    std::vector<uint8_t> bytes;
    std::unique_ptr<gguf::GgufFile> file;
    Result<std::unique_ptr<tok::Tokenizer>> tokenizer = Status::invalid_argument("not loaded");
};

inline std::unique_ptr<OwnedVocab> load_writer(const gguf::GgufWriter& w) {
    auto v = std::make_unique<OwnedVocab>();
    v->bytes = w.to_bytes();
    auto file = gguf::GgufFile::from_bytes(v->bytes);
    if (!file.ok()) {
        v->tokenizer = file.status();
        return v;
    }
    v->file = std::move(file).value();
    v->tokenizer = tok::Tokenizer::from_gguf(*v->file);
    return v;
}

}  // namespace duet::test
