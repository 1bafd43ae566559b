// fuzz_tokenizer.cpp: libFuzzer target: encode -> decode -> streaming decode -> reasoning split on real vocabs.
//
// Input: byte 0 picks the vocabulary (bits 0-2) and flags (bit 3 add_special, bit 4 parse_special,
// bit 5 skip_special, bit 6 stop string); the rest is the text. Vocabularies load once from $DUET_FIXTURES
// (default /work/shared/fixtures, else ../shared/fixtures). Checks, beyond "no crash / no sanitizer report":
//   - byte-level BPE without NFC: decode(encode(text)) == text (lossless);
//   - streaming: the concatenation of feed() + flush() equals the sanitized concatenation of the pieces;
//   - every streamed chunk is valid UTF-8.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tokenizer/reasoning.h"
#include "tokenizer/tokenizer.h"

namespace {

struct Vocab {
    std::unique_ptr<duet::gguf::GgufFile> file;
    std::unique_ptr<duet::tok::Tokenizer> tokenizer;
    bool lossless = false;  // decode(encode(x)) == x for every byte string
};

std::string fixtures_dir() {
    if (const char* env = std::getenv("DUET_FIXTURES")) return env;
    for (const char* dir : {"/work/shared/fixtures", "../shared/fixtures", "../../shared/fixtures"})
        if (std::filesystem::is_directory(dir)) return dir;
    return "";
}

std::vector<Vocab>& vocabs() {
    static std::vector<Vocab> all = [] {
        struct Entry {
            const char* path;
            bool lossless;
        };
        const Entry entries[] = {
            {"llamacpp-vocab/ggml-vocab-gpt-2.gguf", true},
            {"llamacpp-vocab/ggml-vocab-llama-spm.gguf", false},
            {"llamacpp-vocab/ggml-vocab-bert-bge.gguf", false},
            // deepseek vocabs made some byte characters (e.g. "ÿ" = byte 0xFF) user-defined tokens, which decode
            // as their text (as in HF and llama.cpp): raw byte 0xFF comes back as "ÿ", so not lossless.
            {"llamacpp-vocab/ggml-vocab-deepseek-coder.gguf", false},
            {"llamacpp-vocab/ggml-vocab-deepseek-llm.gguf", false},
            {"vocab-derived/vocab-llama3-instruct.derived.gguf", true},
            {"vocab-derived/vocab-qwen2.5-instruct.derived.gguf", false},  // NFC changes text
            {"stories260K/stories260K.gguf", false},
        };
        const std::string dir = fixtures_dir();
        std::vector<Vocab> v;
        for (const Entry& e : entries) {
            auto file = duet::gguf::GgufFile::open(dir + "/" + e.path);
            if (!file.ok()) {
                std::fprintf(stderr, "fuzz_tokenizer: %s\n", file.status().message().c_str());
                std::abort();
            }
            auto tokenizer = duet::tok::Tokenizer::from_gguf(**file);
            if (!tokenizer.ok()) {
                std::fprintf(stderr, "fuzz_tokenizer: %s\n", tokenizer.status().message().c_str());
                std::abort();
            }
            v.push_back({std::move(file).value(), std::move(tokenizer).value(), e.lossless});
        }
        return v;
    }();
    return all;
}

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz_tokenizer: check failed: %s\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const uint8_t flags = data[0];
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    const Vocab& v = vocabs()[flags & 7];
    const bool add_special = flags & 8, parse_special = flags & 16, skip_special = flags & 32;
    const duet::tok::Tokenizer& tok = *v.tokenizer;

    const std::vector<duet::tok::TokenId> ids = tok.encode(text, add_special, parse_special);
    for (duet::tok::TokenId id : ids) check(id >= 0 && id < tok.n_vocab(), "id in range");
    const std::string decoded = tok.decode(ids, skip_special);
    if (v.lossless && !add_special && !parse_special && !skip_special) check(decoded == text, "lossless round trip");

    std::vector<std::string> stops;
    if ((flags & 64) && text.size() >= 2) stops.push_back(text.substr(text.size() / 2, 2));
    duet::tok::StreamingDecoder stream(tok, stops, skip_special);
    std::string streamed, pieces;
    for (duet::tok::TokenId id : ids) {
        const std::string chunk = stream.feed(id);
        check(duet::tok::sanitize_utf8(chunk) == chunk, "streamed chunk is valid UTF-8");
        streamed += chunk;
        if (!(skip_special && tok.is_special(id))) pieces += tok.token_to_piece(id);
    }
    streamed += stream.flush();
    if (stops.empty()) check(streamed == duet::tok::sanitize_utf8(pieces), "stream == sanitized pieces");

    duet::tok::ReasoningSplitter splitter(flags & 128);
    for (size_t i = 0; i < streamed.size(); i += 3) splitter.feed(std::string_view(streamed).substr(i, 3));
    splitter.flush();
    return 0;
}
