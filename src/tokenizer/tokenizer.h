// tokenizer.h: text <-> token ids for GGUF vocabularies (byte-level BPE, SentencePiece BPE, WordPiece).
//
// A Tokenizer is built once from a GGUF file's `tokenizer.ggml.*` metadata and is immutable afterwards:
// encode/decode are const and may be called from many threads at once (scratch buffers and a bounded
// word -> ids cache are per thread; nothing is shared or locked). The GgufFile may be closed after loading.
// A StreamingDecoder is per request: it turns a stream of ids into text that is safe to show.
//
//   ids --feed()--> | pending bytes (incomplete UTF-8) | held text (may start a stop string) | --> shown text
//                                                                                 flush() --> the rest (U+FFFD)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "gguf/gguf.h"

namespace duet::tok {

using TokenId = int32_t;

enum class TokenizerKind { bpe, spm, wordpiece };

// GGUF tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
    undefined = 0,
    normal = 1,
    unknown = 2,
    control = 3,
    user_defined = 4,
    unused = 5,
    byte = 6,
};

struct TokenizerImpl;  // the vocab tables and the algorithm (tokenizer_impl.h)

// A byte range [begin, end) of a text.
struct TextSpan {
    size_t begin = 0, end = 0;
};

class Tokenizer {
public:
    // Every file value is validated (types, array lengths == n_vocab, ids < n_vocab, byte tokens).
    static Result<std::unique_ptr<Tokenizer>> from_gguf(const gguf::GgufFile& file);
    ~Tokenizer();
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // add_special: BOS/EOS (and CLS/SEP for WordPiece) as the vocab asks (add_bos/add_eos).
    // parse_special: control / user-defined tokens written in the text become their ids (longest match first).
    std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const;
    // encode() with special tokens parsed everywhere except in `literal` (sorted, non-overlapping spans of text),
    // where the text stays text as with parse_special = false; the text around and inside the spans is otherwise
    // tokenized as one (chat templates: the template's markers are tokens, message content is text).
    std::vector<TokenId> encode_with_literals(std::string_view text, bool add_special,
                                              std::span<const TextSpan> literal) const;
    // Where parse_special would read a control token that parse_special = false would leave as text.
    std::vector<TextSpan> control_token_spans(std::string_view text) const;
    // Bytes, concatenated pieces; may be invalid UTF-8 (e.g. a prefix of a stream). Ids out of range are skipped.
    std::string decode(std::span<const TokenId> ids, bool skip_special = false) const;
    std::string token_to_piece(TokenId id) const;   // the bytes this token decodes to ("" when out of range)
    std::string_view token_text(TokenId id) const;  // the vocab string as stored ("" when out of range)
    TokenType token_type(TokenId id) const;
    bool is_special(TokenId id) const;  // control / unknown / unused (not shown when skip_special)

    int32_t n_vocab() const;
    TokenId bos_id() const;  // -1 when absent
    TokenId eos_id() const;
    TokenId eot_id() const;
    TokenId unk_id() const;
    TokenId pad_id() const;
    bool add_bos() const;
    bool add_eos() const;
    bool is_end_of_generation(TokenId id) const;  // eos, eot (<|eot_id|>, <|im_end|>, <｜end▁of▁sentence｜>...)
    std::vector<TokenId> end_of_generation_ids() const;
    std::optional<TokenId> find_token(std::string_view text) const;  // exact vocab lookup (e.g. "<think>")
    TokenizerKind kind() const;
    std::string_view model_name() const;  // tokenizer.ggml.model ("gpt2", "llama", "bert")
    std::string_view pre_name() const;    // tokenizer.ggml.pre ("llama-bpe", "qwen2", ...; "default" when absent)

    const TokenizerImpl& impl() const { return *impl_; }

private:
    explicit Tokenizer(std::unique_ptr<TokenizerImpl> impl);
    std::unique_ptr<TokenizerImpl> impl_;
};

// Per request: feed token ids, get text that is safe to show. Pieces are concatenated as generated text
// continues a prompt (an SPM leading space is kept, unlike decode() of a whole sequence).
class StreamingDecoder {
public:
    explicit StreamingDecoder(const Tokenizer& tokenizer, std::vector<std::string> stop_strings = {},
                              bool skip_special = false);

    // Returns only complete UTF-8 and text that cannot be the start of a stop string. After a stop string
    // matched, returns "" forever (the text before the stop string was returned, the stop string was not).
    std::string feed(TokenId id);
    // End of stream: whatever is held back (invalid / incomplete bytes become U+FFFD). "" after a stop.
    std::string flush();
    bool stopped() const { return stopped_; }

private:
    std::string take_safe_text();

    const Tokenizer& tokenizer_;
    std::vector<std::string> stop_strings_;
    bool skip_special_ = false;
    bool stopped_ = false;
    std::string pending_;  // decoded bytes not yet returned (incomplete UTF-8 tail and/or possible stop prefix)
};

// Replace every invalid UTF-8 sequence with U+FFFD (whole input). Helper for callers that need valid text.
std::string sanitize_utf8(std::string_view bytes);

}  // namespace duet::tok
