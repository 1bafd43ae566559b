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
        std::vector<tok::ChatMessage> msgs;
        msgs.reserve(messages.size());
        for (const auto& m : messages) {
            tok::ChatMessage msg{m.role, m.content, tok::jinja::Value::none()};
            if (!m.reasoning_content.empty()) {
                tok::jinja::Value extra = tok::jinja::Value::object();
                extra.set("reasoning_content", m.reasoning_content);
                msg.extra = extra;
            }
            msgs.push_back(std::move(msg));
        }
        auto text = tok::apply_chat_template(template_, tok::messages_to_value(msgs), tok::jinja::Value::none(),
                                             add_generation_prompt, bos_text_, eos_text_, tok::jinja::Value::none());
        if (!text.ok()) return Status::invalid_argument("chat template: %s", text.status().message().c_str());
        std::vector<TokenId> ids = tokenizer_->encode(*text, /*add_special=*/false, /*parse_special=*/true);
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
    return std::shared_ptr<const TextCodec>(std::make_shared<TokenizerCodec>(
        std::move(tokenizer), std::move(parsed).value(), token_text(file, "tokenizer.ggml.bos_token_id"),
        token_text(file, "tokenizer.ggml.eos_token_id"), std::move(keep_alive)));
}

}  // namespace duet::registry
