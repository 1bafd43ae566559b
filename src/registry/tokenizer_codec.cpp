// tokenizer_codec.cpp: TextCodec over tok::Tokenizer + tok::ChatTemplate + tok::StreamingDecoder + R1 splitter.
#include "registry/tokenizer_codec.h"

#include "tokenizer/template/chat_template.h"
#include "tokenizer/reasoning.h"
#include "tokenizer/tokenizer.h"

namespace duet::registry {

namespace {

class Decoder final : public TextDecoder {
public:
    Decoder(const tok::Tokenizer& tokenizer, std::vector<std::string> stops)
        : decoder_(tokenizer, std::move(stops), /*skip_special=*/true) {}
    std::string feed(TokenId id) override { return decoder_.feed(id); }
    std::string flush() override { return decoder_.flush(); }
    bool stopped() const override { return decoder_.stopped(); }

private:
    tok::StreamingDecoder decoder_;
};

class Splitter final : public ReasoningSplitter {
public:
    explicit Splitter(bool starts_in_reasoning) : splitter_(starts_in_reasoning) {}
    void push(std::string_view text, std::string* reasoning, std::string* content) override {
        tok::ReasoningDelta d = splitter_.feed(text);
        *reasoning += d.reasoning;
        *content += d.content;
    }
    void flush(std::string* reasoning, std::string* content) override {
        tok::ReasoningDelta d = splitter_.flush();
        *reasoning += d.reasoning;
        *content += d.content;
    }

private:
    tok::ReasoningSplitter splitter_;
};

// Message content goes through the chat template with its control-token spellings ("<|im_start|>") swapped for
// numbered placeholders between two Unicode noncharacters, so that template logic cannot see or make them; after
// rendering each placeholder is swapped back and its span tokenized as text (Tokenizer::encode_with_literals).
// Content's own U+FDD0 / U+FDD1 characters are dropped (noncharacters: never meaningful in text).
constexpr std::string_view kPlaceholderOpen = "\xEF\xB7\x90";   // U+FDD0
constexpr std::string_view kPlaceholderClose = "\xEF\xB7\x91";  // U+FDD1

std::string shield(const tok::Tokenizer& tokenizer, std::string_view content, std::vector<std::string>* spellings) {
    std::string clean;
    clean.reserve(content.size());
    for (size_t i = 0; i < content.size();) {
        const std::string_view rest = content.substr(i);
        if (rest.starts_with(kPlaceholderOpen) || rest.starts_with(kPlaceholderClose)) {
            i += kPlaceholderOpen.size();
            continue;
        }
        clean.push_back(content[i++]);
    }
    const std::vector<tok::TextSpan> spans = tokenizer.control_token_spans(clean);
    if (spans.empty()) return clean;
    std::string out;
    size_t at = 0;
    for (const tok::TextSpan& span : spans) {
        out.append(clean, at, span.begin - at);
        out.append(kPlaceholderOpen).append(std::to_string(spellings->size())).append(kPlaceholderClose);
        spellings->push_back(clean.substr(span.begin, span.end - span.begin));
        at = span.end;
    }
    out.append(clean, at, std::string::npos);
    return out;
}

// The rendered prompt with every placeholder swapped back; `literal` gets the spans of the swapped-in spellings.
std::string unshield(std::string_view rendered, const std::vector<std::string>& spellings,
                     std::vector<tok::TextSpan>* literal) {
    std::string out;
    out.reserve(rendered.size());
    size_t at = 0;
    while (at < rendered.size()) {
        const size_t open = rendered.find(kPlaceholderOpen, at);
        if (open == std::string_view::npos) break;
        out.append(rendered.substr(at, open - at));
        const size_t digits = open + kPlaceholderOpen.size();
        const size_t close = rendered.find(kPlaceholderClose, digits);
        size_t index = 0;
        bool valid = close != std::string_view::npos && close > digits && close - digits < 10;
        for (size_t i = digits; valid && i < close; ++i) {
            if (rendered[i] < '0' || rendered[i] > '9') valid = false;
            else index = index * 10 + static_cast<size_t>(rendered[i] - '0');
        }
        if (!valid || index >= spellings.size()) {  // a placeholder the template cut: drop its opening mark
            at = digits;
            continue;
        }
        literal->push_back({out.size(), out.size() + spellings[index].size()});
        out.append(spellings[index]);
        at = close + kPlaceholderClose.size();
    }
    if (at < rendered.size()) out.append(rendered.substr(at));
    // A stray closing mark (its placeholder cut by the template) is dropped too.
    for (size_t pos = out.find(kPlaceholderClose); pos != std::string::npos; pos = out.find(kPlaceholderClose, pos)) {
        out.erase(pos, kPlaceholderClose.size());
        for (auto& span : *literal) {
            if (span.begin < pos) continue;
            span.begin -= kPlaceholderClose.size();
            span.end -= kPlaceholderClose.size();
        }
    }
    return out;
}

std::string token_text(const gguf::GgufFile& file, const char* id_key) {
    auto id = file.get_u32(id_key);
    auto tokens = file.get_array("tokenizer.ggml.tokens");
    if (!id.ok() || !tokens.ok() || *id >= (*tokens)->strings.size()) return {};
    return std::string((*tokens)->strings[*id]);
}

class TokenizerCodec final : public TextCodec {
public:
    TokenizerCodec(std::unique_ptr<tok::Tokenizer> tokenizer, tok::ChatTemplate chat_template, std::string bos_text,
                   std::string eos_text, std::shared_ptr<const void> keep_alive)
        : tokenizer_(std::move(tokenizer)),
          template_(std::move(chat_template)),
          bos_text_(std::move(bos_text)),
          eos_text_(std::move(eos_text)),
          keep_alive_(std::move(keep_alive)) {
        auto open = tokenizer_->find_token("<think>");
        auto close = tokenizer_->find_token("</think>");
        if (open && close) think_id_ = *open;
    }

    std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special) const override {
        return tokenizer_->encode(text, add_special, parse_special);
    }
    std::string decode(std::span<const TokenId> ids) const override { return tokenizer_->decode(ids, false); }
    std::string token_piece(TokenId id) const override { return tokenizer_->token_to_piece(id); }
    int32_t n_vocab() const override { return tokenizer_->n_vocab(); }
    std::vector<TokenId> stop_token_ids() const override { return tokenizer_->end_of_generation_ids(); }
    std::unique_ptr<TextDecoder> make_decoder(std::vector<std::string> stops) const override {
        return std::make_unique<Decoder>(*tokenizer_, std::move(stops));
    }

    Result<std::vector<TokenId>> encode_chat(const std::vector<ChatMessage>& messages,
                                             bool add_generation_prompt) const override {
        // Control tokens only where the template puts them: content is shielded (see shield()).
        std::vector<std::string> spellings;
        std::vector<tok::ChatMessage> msgs;
        msgs.reserve(messages.size());
        for (const auto& m : messages) {
            tok::ChatMessage msg{m.role, shield(*tokenizer_, m.content, &spellings), tok::jinja::Value::none()};
            if (!m.reasoning_content.empty()) {
                tok::jinja::Value extra = tok::jinja::Value::object();
                extra.set("reasoning_content", shield(*tokenizer_, m.reasoning_content, &spellings));
                msg.extra = extra;
            }
            msgs.push_back(std::move(msg));
        }
        auto rendered =
            tok::apply_chat_template(template_, tok::messages_to_value(msgs), tok::jinja::Value::none(),
                                     add_generation_prompt, bos_text_, eos_text_, tok::jinja::Value::none());
        if (!rendered.ok()) return Status::invalid_argument("chat template: %s", rendered.status().message().c_str());
        std::vector<tok::TextSpan> literal;
        const std::string text = unshield(*rendered, spellings, &literal);
        std::vector<TokenId> ids = tokenizer_->encode_with_literals(text, /*add_special=*/false, literal);
        // The template usually writes the BOS text itself; add the id only when it did not.
        const TokenId bos = tokenizer_->bos_id();
        if (tokenizer_->add_bos() && bos >= 0 && (ids.empty() || ids.front() != bos)) ids.insert(ids.begin(), bos);
        return ids;
    }

    std::unique_ptr<ReasoningSplitter> make_reasoning_splitter(std::span<const TokenId> prompt) const override {
        if (think_id_ < 0) return nullptr;
        // The R1 template ends the generation prompt with "<think>\n": the output then starts inside reasoning.
        bool starts_inside = false;
        for (size_t k = 0; k < prompt.size() && k < 3; ++k) {
            const TokenId id = prompt[prompt.size() - 1 - k];
            if (id == think_id_) {
                starts_inside = true;
                break;
            }
            const std::string piece = tokenizer_->token_to_piece(id);
            if (piece.find_first_not_of(" \n\t") != std::string::npos) break;
        }
        return std::make_unique<Splitter>(starts_inside);
    }

private:
    std::unique_ptr<tok::Tokenizer> tokenizer_;
    tok::ChatTemplate template_;
    std::string bos_text_, eos_text_;
    std::shared_ptr<const void> keep_alive_;
    TokenId think_id_ = -1;
};

}  // namespace

Result<std::shared_ptr<const TextCodec>> make_tokenizer_codec(const gguf::GgufFile& file,
                                                              std::shared_ptr<const void> keep_alive) {
    DUET_TRY(auto tokenizer, tok::Tokenizer::from_gguf(file));
    DUET_TRY(std::string_view source, file.get_string_or("tokenizer.chat_template", ""));
    std::string text(source);
    if (text.empty()) {
        tok::TemplateHints hints;
        DUET_TRY(hints.architecture, file.get_string_or("general.architecture", ""));
        DUET_TRY(hints.tokenizer_model, file.get_string_or("tokenizer.ggml.model", ""));
        DUET_TRY(hints.tokenizer_pre, file.get_string_or("tokenizer.ggml.pre", ""));
        DUET_TRY(hints.model_name, file.get_string_or("general.name", ""));
        const tok::Tokenizer* t = tokenizer.get();
        hints.has_token = [t](std::string_view s) { return t->find_token(s).has_value(); };
        text = std::string(tok::fallback_template(tok::pick_fallback_template(hints)));
    }
    auto parsed = tok::ChatTemplate::parse(text);
    if (!parsed.ok()) return parsed.status().with_context("chat template in the GGUF: ");
    return std::shared_ptr<const TextCodec>(
        std::make_shared<TokenizerCodec>(std::move(tokenizer), std::move(parsed).value(),
                                         token_text(file, "tokenizer.ggml.bos_token_id"),
                                         token_text(file, "tokenizer.ggml.eos_token_id"), std::move(keep_alive)));
}

}  // namespace duet::registry
