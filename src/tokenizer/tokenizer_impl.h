// tokenizer_impl.h: the vocabulary tables behind Tokenizer, and the per-algorithm encoders (internal header).
//
// encode(text):
//   text --split_special()--> | raw text | special id | raw text | ...   (longest special match first)
//   raw text --kind--> bpe:       [NFC] -> pre-tokenizer regexes -> words -> byte-encode -> rank merges
//                      spm:       [" " prefix] -> " "->"▁" -> score merges -> byte fallback <0xXX>
//                      wordpiece: lower-case, strip accents, split -> "▁"word -> greedy longest match
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

namespace duet::tok {

// Heterogeneous lookup (string_view keys without a std::string temporary).
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct BpeMerge {
    int32_t rank;
    TokenId merged;
};

struct TokenizerImpl {
    TokenizerKind kind = TokenizerKind::bpe;
    std::string model_name;  // tokenizer.ggml.model
    std::string pre_name;    // tokenizer.ggml.pre

    std::vector<std::string> texts;    // (n_vocab,) the vocab strings as stored
    std::vector<float> scores;         // (n_vocab,) SPM merge priority (0 when absent)
    std::vector<TokenType> types;      // (n_vocab,)
    std::vector<std::string> pieces;   // (n_vocab,) decoded bytes of each token (special tokens: their text)
    std::unordered_map<std::string, TokenId, StringHash, std::equal_to<>> token_to_id;
    size_t max_token_len = 0;

    // byte-level BPE
    PreTokenizer pre_tokenizer;
    bool ignore_merges = false;  // llama-bpe: a word that is a whole token skips the merges
    bool apply_nfc = false;      // qwen2 family: the HF tokenizer.json normalizer is NFC
    std::unordered_map<uint64_t, BpeMerge> merges;  // (left id << 32 | right id) -> rank, merged id

    // BPE: token of byte b's GPT-2 unicode character; SPM: the <0xXX> byte token. -1 when absent.
    std::array<TokenId, 256> byte_token{};

    bool add_space_prefix = false;  // SPM
    bool lowercase = true;          // WordPiece normalizer
    bool strip_accents = true;

    TokenId bos = -1, eos = -1, eot = -1, unk = -1, pad = -1, sep = -1;
    bool add_bos = false, add_eos = false, add_sep = false;

    // Tokens matched inside text (control / user-defined / unknown), longest first; user-defined ones are
    // matched even when parse_special is false (HF added tokens, llama.cpp does the same).
    std::vector<TokenId> special_tokens;
    std::array<bool, 256> special_first_byte{};
    std::vector<TokenId> eog_ids;  // sorted

    TokenId lookup(std::string_view text) const {
        const auto it = token_to_id.find(text);
        return it == token_to_id.end() ? -1 : it->second;
    }
    bool valid(TokenId id) const { return id >= 0 && static_cast<size_t>(id) < texts.size(); }

    // Encoders of one raw-text fragment (no special tokens inside); append to out.
    void encode_bpe(std::string_view text, std::vector<TokenId>& out) const;
    void encode_spm(std::string_view text, std::vector<TokenId>& out) const;
    void encode_wordpiece(std::string_view text, std::vector<TokenId>& out) const;
};

// GPT-2 byte <-> unicode character mapping used by byte-level BPE vocabularies.
const std::array<std::string, 256>& bpe_byte_chars();  // byte -> UTF-8 of its character
int bpe_char_to_byte(uint32_t cp);                      // -1 when cp is not a byte character

Status load_tokenizer_impl(const gguf::GgufFile& file, TokenizerImpl& impl);

}  // namespace duet::tok
