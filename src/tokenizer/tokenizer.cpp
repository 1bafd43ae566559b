// tokenizer.cpp: Tokenizer's public surface: special-token splitting, BOS/EOS, decode, lookups.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cstring>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace duet::tok {

namespace {

bool special_allowed(TokenType type, bool parse_special) { return parse_special || type == TokenType::user_defined; }

// The special token starting at text[pos] (longest first) that `allowed(id)` accepts, or -1.
template <typename Allowed>
TokenId match_special(const TokenizerImpl& impl, std::string_view text, size_t pos, Allowed&& allowed) {
    const size_t remaining = text.size() - pos;
    for (TokenId id : impl.special_by_first_byte[static_cast<uint8_t>(text[pos])]) {
        const std::string& tok = impl.texts[id];
        if (tok.size() > remaining) continue;
        if (!allowed(id)) continue;
        if (std::memcmp(text.data() + pos, tok.data(), tok.size()) == 0) return id;
    }
    return -1;
}

void encode_fragment(const TokenizerImpl& impl, std::string_view text, bool prev_special, std::vector<TokenId>& out) {
    switch (impl.kind) {
        case TokenizerKind::bpe:
            impl.encode_bpe(text, out);
            break;
        case TokenizerKind::wordpiece:
            impl.encode_wordpiece(text, out);
            break;
        case TokenizerKind::spm: {
            thread_local std::string escaped;
            escaped.clear();
            if (impl.add_space_prefix && prev_special) escaped += "\xE2\x96\x81";
            for (char c : text) {
                if (c == ' ') escaped += "\xE2\x96\x81";
                else escaped += c;
            }
            impl.encode_spm(escaped, out);
            break;
        }
    }
}

}  // namespace

Tokenizer::Tokenizer(std::unique_ptr<TokenizerImpl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_gguf(const gguf::GgufFile& file) {
    auto impl = std::make_unique<TokenizerImpl>();
    DUET_RETURN_IF_ERROR(load_tokenizer_impl(file, *impl));
    return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

namespace {

// encode() with the choice of special tokens at each position left to `allowed(id, pos)`.
template <typename Allowed>
std::vector<TokenId> encode_text(const TokenizerImpl& impl, std::string_view text, bool add_special,
                                 Allowed&& allowed) {
    std::vector<TokenId> out;
    out.reserve(text.size() / 3 + 4);
    if (add_special && impl.add_bos && impl.bos >= 0) out.push_back(impl.bos);

    bool prev_special = true;  // SPM: the first fragment gets the space prefix
    size_t fragment_start = 0;
    if (!impl.special_tokens.empty()) {
        for (size_t pos = 0; pos < text.size();) {
            const TokenId special = match_special(impl, text, pos, [&](TokenId id) { return allowed(id, pos); });
            if (special < 0) {
                ++pos;
                continue;
            }
            if (pos > fragment_start) {
                encode_fragment(impl, text.substr(fragment_start, pos - fragment_start), prev_special, out);
            }
            out.push_back(special);
            prev_special = true;
            pos += impl.texts[special].size();
            fragment_start = pos;
        }
    }
    if (fragment_start < text.size()) encode_fragment(impl, text.substr(fragment_start), prev_special, out);

    if (add_special && impl.add_eos && impl.eos >= 0) out.push_back(impl.eos);
    if (add_special && impl.add_sep && impl.sep >= 0) out.push_back(impl.sep);
    return out;
}

}  // namespace

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    const TokenizerImpl& impl = *impl_;
    return encode_text(impl, text, add_special,
                       [&](TokenId id, size_t) { return special_allowed(impl.types[id], parse_special); });
}

std::vector<TokenId> Tokenizer::encode_with_literals(std::string_view text, bool add_special,
                                                     std::span<const TextSpan> literal) const {
    const TokenizerImpl& impl = *impl_;
    size_t next = 0;  // the first literal span that ends after the current position
    return encode_text(impl, text, add_special, [&](TokenId id, size_t pos) {
        if (special_allowed(impl.types[id], /*parse_special=*/false)) return true;
        while (next < literal.size() && literal[next].end <= pos) ++next;
        const size_t end = pos + impl.texts[id].size();
        return next == literal.size() || literal[next].begin >= end;  // the match may not touch a literal span
    });
}

std::vector<TextSpan> Tokenizer::control_token_spans(std::string_view text) const {
    const TokenizerImpl& impl = *impl_;
    std::vector<TextSpan> spans;
    if (impl.special_tokens.empty()) return spans;
    for (size_t pos = 0; pos < text.size();) {
        const TokenId id = match_special(impl, text, pos, [](TokenId) { return true; });
        if (id < 0) {
            ++pos;
            continue;
        }
        const size_t end = pos + impl.texts[id].size();
        if (!special_allowed(impl.types[id], /*parse_special=*/false)) spans.push_back({pos, end});
        pos = end;
    }
    return spans;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool skip_special) const {
    const TokenizerImpl& impl = *impl_;
    std::string out;
    // SPM / WordPiece: the space the encoder put before the first word is not part of the text
    // (the first token, or the one right after a leading BOS).
    size_t strip_index = ids.size();
    if (impl.kind != TokenizerKind::bpe && (impl.add_space_prefix || impl.kind == TokenizerKind::wordpiece)) {
        strip_index = (!ids.empty() && ids[0] == impl.bos && impl.bos >= 0) ? 1 : 0;
    }
    for (size_t i = 0; i < ids.size(); ++i) {
        const TokenId id = ids[i];
        if (!impl.valid(id)) continue;
        if (skip_special && is_special(id)) continue;
        const std::string& piece = impl.pieces[id];
        if (i == strip_index && !piece.empty() && piece[0] == ' ') out.append(piece, 1);
        else out += piece;
    }
    return out;
}

std::string Tokenizer::token_to_piece(TokenId id) const { return impl_->valid(id) ? impl_->pieces[id] : ""; }

std::string_view Tokenizer::token_text(TokenId id) const {
    return impl_->valid(id) ? std::string_view(impl_->texts[id]) : std::string_view();
}

TokenType Tokenizer::token_type(TokenId id) const { return impl_->valid(id) ? impl_->types[id] : TokenType::undefined; }

bool Tokenizer::is_special(TokenId id) const {
    if (!impl_->valid(id)) return false;
    const TokenType t = impl_->types[id];
    return t == TokenType::control || t == TokenType::unknown || t == TokenType::unused;
}

int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(impl_->texts.size()); }
TokenId Tokenizer::bos_id() const { return impl_->bos; }
TokenId Tokenizer::eos_id() const { return impl_->eos; }
TokenId Tokenizer::eot_id() const { return impl_->eot; }
TokenId Tokenizer::unk_id() const { return impl_->unk; }
TokenId Tokenizer::pad_id() const { return impl_->pad; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }

bool Tokenizer::is_end_of_generation(TokenId id) const {
    return std::binary_search(impl_->eog_ids.begin(), impl_->eog_ids.end(), id);
}

std::vector<TokenId> Tokenizer::end_of_generation_ids() const { return impl_->eog_ids; }

std::optional<TokenId> Tokenizer::find_token(std::string_view text) const {
    const TokenId id = impl_->lookup(text);
    if (id < 0) return std::nullopt;
    return id;
}

TokenizerKind Tokenizer::kind() const { return impl_->kind; }
std::string_view Tokenizer::model_name() const { return impl_->model_name; }
std::string_view Tokenizer::pre_name() const { return impl_->pre_name; }

std::string sanitize_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (size_t pos = 0; pos < bytes.size();) {
        const size_t len = unicode::valid_utf8_len(bytes, pos);
        if (len == 0) {
            out += "\xEF\xBF\xBD";
            ++pos;
        } else {
            out.append(bytes.substr(pos, len));
            pos += len;
        }
    }
    return out;
}

}  // namespace duet::tok
