// vocab_load.cpp: builds TokenizerImpl from GGUF `tokenizer.ggml.*` metadata, validating every value.
#include <algorithm>
#include <cstring>

#include "common/assert.h"
#include "common/log.h"
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace duet::tok {

namespace {

constexpr uint32_t kAbsentId = 0xFFFFFFFFu;  // converters write u32(-1) for "no such token"

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// "<0xZZ>" -> byte value, -1 when malformed.
int parse_byte_token(std::string_view text) {
    if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>' || !is_hex(text[3]) || !is_hex(text[4]))
        return -1;
    auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    return nibble(text[3]) * 16 + nibble(text[4]);
}

Status read_token_id(const gguf::GgufFile& file, const char* key, size_t n_vocab, TokenId& id) {
    if (file.find(key) == nullptr) return Status::ok_status();
    auto value = file.get_i64(key);
    if (!value.ok()) {
        auto as_u64 = file.get_u64(key);
        if (!as_u64.ok()) return value.status().with_context("tokenizer: ");
        if (*as_u64 == kAbsentId || *as_u64 == ~uint64_t(0)) {
            id = -1;
            return Status::ok_status();
        }
        return Status::invalid_data("tokenizer: %s = %llu out of range (n_vocab %zu)", key,
                                    static_cast<unsigned long long>(*as_u64), n_vocab);
    }
    const int64_t v = *value;
    if (v == -1 || v == int64_t(kAbsentId)) {
        id = -1;
        return Status::ok_status();
    }
    if (v < 0 || static_cast<uint64_t>(v) >= n_vocab)
        return Status::invalid_data("tokenizer: %s = %lld out of range (n_vocab %zu)", key, static_cast<long long>(v),
                                    n_vocab);
    id = static_cast<TokenId>(v);
    return Status::ok_status();
}

std::string decode_bpe_text(std::string_view text) {
    std::string out;
    for (size_t pos = 0; pos < text.size();) {
        const size_t start = pos;
        const uint32_t cp = unicode::decode_utf8(text, &pos);
        const int byte = bpe_char_to_byte(cp);
        if (byte >= 0) out.push_back(static_cast<char>(byte));
        else out.append(text.substr(start, pos - start));
    }
    return out;
}

std::string unescape_spaces(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
            out.push_back(' ');
            i += 3;
        } else {
            out.push_back(text[i++]);
        }
    }
    return out;
}

bool is_pre_llama3(std::string_view pre) { return pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3"; }

}  // namespace

void TokenIndex::reserve(size_t n_tokens) {
    size_t capacity = 16;
    while (capacity < 2 * n_tokens) capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
}

TokenId TokenIndex::insert(const std::vector<std::string>& texts, TokenId id) {
    DUET_ASSERT(!slots_.empty());  // reserve(n_vocab) first; never more than n_vocab inserts
    const std::string_view text = texts[id];
    const uint64_t h = std::hash<std::string_view>{}(text);
    const auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
        Slot& s = slots_[i];
        if (s.id < 0) {
            s = {tag, id};
            return id;
        }
        if (s.tag == tag && texts[s.id] == text) return s.id;
    }
}

const std::array<std::string, 256>& bpe_byte_chars() {
    static const std::array<std::string, 256> chars = [] {
        std::array<std::string, 256> c;
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            unicode::append_utf8(c[b], printable ? b : 256 + n++);
        }
        return c;
    }();
    return chars;
}

int bpe_char_to_byte(uint32_t cp) {
    static const std::array<int, 324> table = [] {
        std::array<int, 324> t;
        t.fill(-1);
        const auto& chars = bpe_byte_chars();
        for (int b = 0; b < 256; ++b) {
            size_t pos = 0;
            const uint32_t c = unicode::decode_utf8(chars[b], &pos);
            t[c] = b;
        }
        return t;
    }();
    return cp < table.size() ? table[cp] : -1;
}

Status load_tokenizer_impl(const gguf::GgufFile& file, TokenizerImpl& impl) {
    DUET_TRY(std::string_view model, file.get_string("tokenizer.ggml.model"));
    impl.model_name = std::string(model);
    if (model == "gpt2") impl.kind = TokenizerKind::bpe;
    else if (model == "llama") impl.kind = TokenizerKind::spm;
    else if (model == "bert") impl.kind = TokenizerKind::wordpiece;
    else
        return Status::unsupported("tokenizer: unsupported tokenizer.ggml.model '%.*s' (supported: gpt2, llama, bert)",
                                   int(model.size()), model.data());
    DUET_TRY(std::string_view pre, file.get_string_or("tokenizer.ggml.pre", ""));
    impl.pre_name = pre.empty() ? "default" : std::string(pre);

    // tokens
    DUET_TRY(const gguf::Array* tokens, file.get_array("tokenizer.ggml.tokens"));
    if (tokens->elem_type != gguf::ValueType::STRING)
        return Status::invalid_data("tokenizer: tokenizer.ggml.tokens must be an array of strings, got %s",
                                    std::string(gguf::value_type_name(tokens->elem_type)).c_str());
    const size_t n_vocab = tokens->strings.size();
    if (n_vocab == 0 || n_vocab != tokens->count || n_vocab > 0x7FFFFFFF)
        return Status::invalid_data("tokenizer: tokenizer.ggml.tokens has a bad length %llu",
                                    static_cast<unsigned long long>(tokens->count));
    impl.texts.resize(n_vocab);
    impl.token_index.reserve(n_vocab);
    for (size_t i = 0; i < n_vocab; ++i) {
        std::string& text = impl.texts[i];
        text.assign(tokens->strings[i]);
        if (text.empty()) text = "[EMPTY_" + std::to_string(i) + "]";
        impl.max_token_len = std::max(impl.max_token_len, text.size());
        const TokenId stored = impl.token_index.insert(impl.texts, static_cast<TokenId>(i));
        if (stored != static_cast<TokenId>(i))
            return Status::invalid_data("tokenizer: duplicate token '%s' (ids %d and %zu)", text.c_str(), stored, i);
    }

    // scores (optional)
    impl.scores.assign(n_vocab, 0.0f);
    if (file.find("tokenizer.ggml.scores") != nullptr) {
        DUET_TRY(const gguf::Array* scores, file.get_array("tokenizer.ggml.scores"));
        if (scores->elem_type != gguf::ValueType::FLOAT32 && scores->elem_type != gguf::ValueType::INT32)
            return Status::invalid_data("tokenizer: tokenizer.ggml.scores must be f32 or i32, got %s",
                                        std::string(gguf::value_type_name(scores->elem_type)).c_str());
        if (scores->count != n_vocab)
            return Status::invalid_data("tokenizer: tokenizer.ggml.scores has %llu entries, n_vocab is %zu",
                                        static_cast<unsigned long long>(scores->count), n_vocab);
        for (size_t i = 0; i < n_vocab; ++i) impl.scores[i] = static_cast<float>(scores->as_double(i));
    }

    // token types (optional)
    impl.types.assign(n_vocab, TokenType::normal);
    if (file.find("tokenizer.ggml.token_type") != nullptr) {
        DUET_TRY(const gguf::Array* types, file.get_array("tokenizer.ggml.token_type"));
        if (types->elem_type != gguf::ValueType::INT32 && types->elem_type != gguf::ValueType::UINT32)
            return Status::invalid_data("tokenizer: tokenizer.ggml.token_type must be i32, got %s",
                                        std::string(gguf::value_type_name(types->elem_type)).c_str());
        if (types->count != n_vocab)
            return Status::invalid_data("tokenizer: tokenizer.ggml.token_type has %llu entries, n_vocab is %zu",
                                        static_cast<unsigned long long>(types->count), n_vocab);
        for (size_t i = 0; i < n_vocab; ++i) {
            const int64_t t = types->as_int(i);
            if (t < 0 || t > static_cast<int64_t>(TokenType::byte))
                return Status::invalid_data("tokenizer: token %zu ('%s') has invalid token_type %lld", i,
                                            impl.texts[i].c_str(), static_cast<long long>(t));
            impl.types[i] = static_cast<TokenType>(t);
        }
    }

    // byte tokens
    impl.byte_token.fill(-1);
    for (size_t i = 0; i < n_vocab; ++i) {
        if (impl.types[i] != TokenType::byte) continue;
        const int byte = parse_byte_token(impl.texts[i]);
        if (byte < 0)
            return Status::invalid_data("tokenizer: byte token %zu is '%s', expected <0xZZ>", i, impl.texts[i].c_str());
        if (impl.kind != TokenizerKind::bpe) impl.byte_token[byte] = static_cast<TokenId>(i);
    }
    if (impl.kind == TokenizerKind::bpe) {
        const auto& chars = bpe_byte_chars();
        for (int b = 0; b < 256; ++b) impl.byte_token[b] = impl.lookup(chars[b]);
    }

    // BPE merges and pre-tokenizer
    if (impl.kind == TokenizerKind::bpe) {
        DUET_TRY(impl.pre_tokenizer, PreTokenizer::for_name(impl.pre_name));
        impl.ignore_merges = is_pre_llama3(impl.pre_name);
        impl.apply_nfc = impl.pre_name == "qwen2" || impl.pre_name == "deepseek-r1-qwen";
        DUET_TRY(const gguf::Array* merges, file.get_array("tokenizer.ggml.merges"));
        if (merges->elem_type != gguf::ValueType::STRING)
            return Status::invalid_data("tokenizer: tokenizer.ggml.merges must be an array of strings");
        impl.merges.reserve(merges->strings.size());
        size_t n_skipped = 0;
        std::string joined;
        for (size_t rank = 0; rank < merges->strings.size(); ++rank) {
            const std::string_view merge = merges->strings[rank];
            const size_t space = merge.size() > 1 ? merge.find(' ', 1) : std::string_view::npos;
            if (space == std::string_view::npos)
                return Status::invalid_data("tokenizer: merge %zu '%.*s' is not 'left right'", rank,
                                            int(std::min<size_t>(merge.size(), 64)), merge.data());
            const std::string_view left = merge.substr(0, space), right = merge.substr(space + 1);
            joined.assign(left);
            joined.append(right);
            const TokenId left_id = impl.lookup(left), right_id = impl.lookup(right), merged = impl.lookup(joined);
            if (left_id < 0 || right_id < 0 || merged < 0) {
                ++n_skipped;
                continue;
            }
            impl.merges.insert(MergeTable::key(left_id, right_id), BpeMerge{static_cast<int32_t>(rank), merged});
        }
        if (n_skipped > 0) DUET_LOG_DEBUG("tokenizer: %zu merges name tokens not in the vocab; skipped", n_skipped);
    }

    // special ids and flags (defaults as the original converters assume)
    switch (impl.kind) {
        case TokenizerKind::spm:
            impl.bos = 1, impl.eos = 2, impl.unk = 0;
            impl.add_bos = true, impl.add_space_prefix = true;
            break;
        case TokenizerKind::wordpiece:
            impl.bos = 101, impl.unk = 100, impl.sep = 102, impl.pad = 0;
            impl.add_bos = true, impl.add_sep = true;
            break;
        case TokenizerKind::bpe:
            impl.add_bos = is_pre_llama3(impl.pre_name);
            break;
    }
    for (TokenId* id : {&impl.bos, &impl.eos, &impl.unk, &impl.sep, &impl.pad})
        if (!impl.valid(*id)) *id = -1;
    DUET_RETURN_IF_ERROR(read_token_id(file, "tokenizer.ggml.bos_token_id", n_vocab, impl.bos));
    DUET_RETURN_IF_ERROR(read_token_id(file, "tokenizer.ggml.cls_token_id", n_vocab, impl.bos));
    DUET_RETURN_IF_ERROR(read_token_id(file, "tokenizer.ggml.eos_token_id", n_vocab, impl.eos));
    DUET_RETURN_IF_ERROR(read_token_id(file, "tokenizer.ggml.eot_token_id", n_vocab, impl.eot));
    DUET_RETURN_IF_ERROR(read_token_id(file, "tokenizer.ggml.unknown_token_id", n_vocab, impl.unk));
    DUET_RETURN_IF_ERROR(read_token_id(file, "tokenizer.ggml.seperator_token_id", n_vocab, impl.sep));
    DUET_RETURN_IF_ERROR(read_token_id(file, "tokenizer.ggml.padding_token_id", n_vocab, impl.pad));
    DUET_TRY(impl.add_bos, file.get_bool_or("tokenizer.ggml.add_bos_token", impl.add_bos));
    DUET_TRY(impl.add_eos, file.get_bool_or("tokenizer.ggml.add_eos_token", impl.add_eos));
    DUET_TRY(impl.add_space_prefix, file.get_bool_or("tokenizer.ggml.add_space_prefix", impl.add_space_prefix));
    if (impl.add_bos && impl.bos < 0)
        return Status::invalid_data("tokenizer: add_bos_token is true but there is no bos_token_id");
    if (impl.add_eos && impl.eos < 0)
        return Status::invalid_data("tokenizer: add_eos_token is true but there is no eos_token_id");
    if (impl.add_sep && impl.sep < 0) impl.add_sep = false;

    // end-of-generation tokens: eos, eot, and the end-of-turn tokens of known chat formats
    static constexpr std::string_view kEndOfTurn[] = {
        "<|eot_id|>",      "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
        "<|end_of_text|>", "<|eom_id|>", "<EOT>",   "<|EOT|>",       "<｜end▁of▁sentence｜>",
    };
    for (std::string_view text : kEndOfTurn) {
        const TokenId id = impl.lookup(text);
        if (id < 0) continue;
        if (impl.eot < 0 && text != "<|endoftext|>" && text != "<|end_of_text|>") impl.eot = id;
        impl.eog_ids.push_back(id);
    }
    if (impl.eos >= 0) impl.eog_ids.push_back(impl.eos);
    if (impl.eot >= 0) impl.eog_ids.push_back(impl.eot);
    std::sort(impl.eog_ids.begin(), impl.eog_ids.end());
    impl.eog_ids.erase(std::unique(impl.eog_ids.begin(), impl.eog_ids.end()), impl.eog_ids.end());

    // tokens matched inside text, longest first
    for (size_t i = 0; i < n_vocab; ++i) {
        const TokenType t = impl.types[i];
        if (t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown) {
            impl.special_tokens.push_back(static_cast<TokenId>(i));
        }
    }
    std::stable_sort(impl.special_tokens.begin(), impl.special_tokens.end(),
                     [&](TokenId a, TokenId b) { return impl.texts[a].size() > impl.texts[b].size(); });
    for (TokenId id : impl.special_tokens)
        impl.special_by_first_byte[static_cast<uint8_t>(impl.texts[id][0])].push_back(id);

    // decoded pieces
    impl.pieces.resize(n_vocab);
    for (size_t i = 0; i < n_vocab; ++i) {
        const std::string& text = impl.texts[i];
        switch (impl.types[i]) {
            case TokenType::control:
            case TokenType::unknown:
            case TokenType::user_defined:
                impl.pieces[i] = text;
                break;
            case TokenType::unused:
                break;
            case TokenType::byte:
                impl.pieces[i] = std::string(1, static_cast<char>(parse_byte_token(text)));
                break;
            case TokenType::normal:
            case TokenType::undefined:
                impl.pieces[i] = impl.kind == TokenizerKind::bpe ? decode_bpe_text(text) : unescape_spaces(text);
                break;
        }
    }
    return Status::ok_status();
}

}  // namespace duet::tok
