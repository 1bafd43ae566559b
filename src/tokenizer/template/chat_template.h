// chat_template.h: chat prompts from a model's Jinja chat template (tokenizer.chat_template), rendered byte-exactly
// like transformers' apply_chat_template, plus named built-in fallbacks for models that ship no template.
//
//   DUET_TRY(auto tpl, ChatTemplate::parse(gguf_template_text));
//   DUET_TRY(std::string prompt, apply_chat_template(tpl, messages, jinja::Value(), true, bos, eos, extra));
//
// Templates are untrusted: parse and render errors come back as Status ("template: line 3: unexpected 'endfor'"),
// and rendering is bounded (jinja::Limits: loop iterations, macro recursion, output size, work).
// A parsed ChatTemplate is immutable; render() may be called from several threads at once.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tokenizer/template/jinja_eval.h"
#include "tokenizer/template/jinja_value.h"

namespace duet::gguf {
class GgufFile;
}

namespace duet::tok {

// One chat message. `extra` (an object, or None) carries any further fields the template may read:
// tool_calls, name, reasoning_content, ... A "content" key in `extra` replaces `content` (e.g. None).
struct ChatMessage {
    std::string role;
    std::string content;
    jinja::Value extra;
};

// [{role, content, ...extra}, ...] as the template's `messages`.
jinja::Value messages_to_value(const std::vector<ChatMessage>& messages);

class ChatTemplate {
public:
    static Result<ChatTemplate> parse(std::string_view source);

    // Render with a full context object (messages, tools, add_generation_prompt, bos_token, ... as keys).
    Result<std::string> render(const jinja::Value& context, const jinja::Limits& limits = {}) const;
    const std::string& source() const { return *source_; }

private:
    ChatTemplate() = default;
    std::shared_ptr<const std::string> source_;
    std::shared_ptr<const jinja::Body> body_;
};

// Context as transformers builds it: messages, tools (None when absent), add_generation_prompt, bos_token,
// eos_token, then every key of `extra` (an object, e.g. {"enable_thinking": false}) not already set.
Result<std::string> apply_chat_template(const ChatTemplate& tpl, const jinja::Value& messages,
                                        const jinja::Value& tools, bool add_generation_prompt,
                                        std::string_view bos_token, std::string_view eos_token,
                                        const jinja::Value& extra);

// Built-in templates: "llama3", "chatml", "deepseek-r1", "plain" ("role: content\n" lines, "assistant:" prompt).
// Empty for an unknown name.
std::string_view fallback_template(std::string_view name);
const std::vector<std::string_view>& fallback_template_names();

// What the GGUF says about a model that has no tokenizer.chat_template.
struct TemplateHints {
    std::string_view architecture;     // general.architecture
    std::string_view tokenizer_model;  // tokenizer.ggml.model ("gpt2", "llama", ...)
    std::string_view tokenizer_pre;    // tokenizer.ggml.pre ("llama-bpe", "qwen2", "deepseek-r1-qwen", ...)
    std::string_view model_name;       // general.name
    std::function<bool(std::string_view)> has_token;  // whether the vocabulary holds a token text (optional)
};

// The fallback to use: chat markers in the vocabulary win, then tokenizer.ggml.pre, architecture and name;
// "plain" when nothing matches.
std::string_view pick_fallback_template(const TemplateHints& hints);

// A model's chat template as the GGUF gives it: tokenizer.chat_template, else the picked fallback; bos/eos are
// the texts of tokenizer.ggml.bos_token_id / eos_token_id (empty when absent).
struct ModelChatTemplate {
    ChatTemplate tpl;
    std::string fallback;  // "" when the GGUF carries its own template, else the fallback's name
    std::string bos_token;
    std::string eos_token;
};
Result<ModelChatTemplate> load_chat_template(const gguf::GgufFile& file);

}  // namespace duet::tok
