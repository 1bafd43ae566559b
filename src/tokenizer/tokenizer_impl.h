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

// (left id, right id) -> merge: open addressing, linear probing, load <= 1/2 (one cache line per lookup,
// unlike std::unordered_map's bucket + node chase). Built once at load, then read-only.
class MergeTable {
public:
    static uint64_t key(TokenId left, TokenId right) { return (uint64_t(uint32_t(left)) << 32) | uint32_t(right); }
    void reserve(size_t n_merges);
    bool insert(uint64_t key, BpeMerge merge);  // false when the key is present (the first rank wins)
    const BpeMerge* find(uint64_t key) const {
        if (slots_.empty()) return nullptr;
        for (size_t i = hash(key);; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.key == key) return &s.merge;
            if (s.key == kEmpty) return nullptr;
        }
    }
    size_t size() const { return size_; }

private:
    static constexpr uint64_t kEmpty = ~uint64_t(0);  // ids are < 2^31, so never a real key
    struct Slot {
        uint64_t key = kEmpty;
        BpeMerge merge{};
    };
    size_t hash(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_) & mask_; }
    void grow();
    std::vector<Slot> slots_;
    size_t mask_ = 0, size_ = 0;
    int shift_ = 64;
};

// vocab string -> id over TokenizerImpl::texts: open addressing with the 32 high hash bits in the slot, so a
// lookup touches one slot line and (on a hash match) one string. Built once at load, then read-only.
class TokenIndex {
public:
    // Returns the id already stored for texts[id] (a duplicate), or id after inserting it.
    TokenId insert(const std::vector<std::string>& texts, TokenId id);
    void reserve(size_t n_tokens);
    TokenId find(const std::vector<std::string>& texts, std::string_view text) const {
        if (slots_.empty()) return -1;
        const uint64_t h = std::hash<std::string_view>{}(text);
        const auto tag = static_cast<uint32_t>(h >> 32);
        for (size_t i = h & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.id < 0) return -1;
            if (s.tag == tag && texts[s.id] == text) return s.id;
        }
    }

private:
    struct Slot {
        uint32_t tag = 0;
        TokenId id = -1;
    };
    std::vector<Slot> slots_;
    size_t mask_ = 0;
};

struct TokenizerImpl {
    TokenizerImpl();
    uint64_t serial;  // unique per instance (process-wide): keys the per-thread word caches

    TokenizerKind kind = TokenizerKind::bpe;
    std::string model_name;  // tokenizer.ggml.model
    std::string pre_name;    // tokenizer.ggml.pre

    std::vector<std::string> texts;   // (n_vocab,) the vocab strings as stored
    std::vector<float> scores;        // (n_vocab,) SPM merge priority (0 when absent)
    std::vector<TokenType> types;     // (n_vocab,)
    std::vector<std::string> pieces;  // (n_vocab,) decoded bytes of each token (special tokens: their text)
    TokenIndex token_index;           // texts -> id
    size_t max_token_len = 0;

    // byte-level BPE
    PreTokenizer pre_tokenizer;
    bool ignore_merges = false;  // llama-bpe: a word that is a whole token skips the merges
    bool apply_nfc = false;      // qwen2 family: the HF tokenizer.json normalizer is NFC
    MergeTable merges;

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
    std::array<std::vector<TokenId>, 256> special_by_first_byte;  // the same, bucketed by their first byte
    std::vector<TokenId> eog_ids;                                 // sorted

    TokenId lookup(std::string_view text) const { return token_index.find(texts, text); }
    bool valid(TokenId id) const { return id >= 0 && static_cast<size_t>(id) < texts.size(); }

    // Encoders of one raw-text fragment (no special tokens inside); append to out.
    void encode_bpe(std::string_view text, std::vector<TokenId>& out) const;
    void encode_spm(std::string_view text, std::vector<TokenId>& out) const;
    void encode_wordpiece(std::string_view text, std::vector<TokenId>& out) const;
};

// The per-thread BPE word cache is on by default; benchmarks turn it off to measure cold-cache speed.
void set_bpe_word_cache_enabled(bool enabled);  // for the calling thread only

// GPT-2 byte <-> unicode character mapping used by byte-level BPE vocabularies.
const std::array<std::string, 256>& bpe_byte_chars();  // byte -> UTF-8 of its character
int bpe_char_to_byte(uint32_t cp);                     // -1 when cp is not a byte character

Status load_tokenizer_impl(const gguf::GgufFile& file, TokenizerImpl& impl);

}  // namespace duet::tok
