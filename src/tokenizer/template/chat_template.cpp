// chat_template.cpp: ChatTemplate (parse once, render many), apply_chat_template's context, built-in fallbacks.
#include "tokenizer/template/chat_template.h"

#include <algorithm>
#include <cctype>

#include "gguf/gguf.h"
#include "tokenizer/template/jinja_parser.h"

namespace duet::tok {

namespace {

// Llama-3-Instruct: header tags, trimmed content, bos in front of the first message.
constexpr std::string_view kLlama3 =
    "{% for message in messages %}"
    "{% if loop.first %}{{ bos_token }}{% endif %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' "
    "}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

// ChatML (Qwen and many others) without a default system prompt.
constexpr std::string_view kChatml =
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

// DeepSeek-R1 (distills): bos + last system prompt, <｜User｜>/<｜Assistant｜> turns, reasoning before the last
// </think> dropped from history, generation prompt opens a <think> block.
constexpr std::string_view kDeepseekR1 =
    "{% set ns = namespace(system_prompt='') %}"
    "{% for message in messages if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}"
    "{% endfor %}"
    "{{ bos_token }}{{ ns.system_prompt }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}"
    "{% elif message['role'] == 'assistant' %}"
    "{% set content = message['content'] or '' %}"
    "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}";

// For base models (e.g. stories260K): one "role: content" line per message.
constexpr std::string_view kPlain =
    "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";

bool contains_ci(std::string_view haystack, std::string_view needle) {
    auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != haystack.end();
}

}  // namespace

jinja::Value messages_to_value(const std::vector<ChatMessage>& messages) {
    jinja::Array out;
    out.reserve(messages.size());
    for (const ChatMessage& m : messages) {
        jinja::Object obj;
        obj.set("role", jinja::Value(m.role));
        obj.set("content", jinja::Value(m.content));
        if (m.extra.is_object())
            for (const auto& [k, v] : m.extra.as_object().entries()) obj.set(k, v);
        out.emplace_back(std::move(obj));
    }
    return jinja::Value(std::move(out));
}

Result<ChatTemplate> ChatTemplate::parse(std::string_view source) {
    DUET_TRY(jinja::Body body, jinja::parse_template(source));
    ChatTemplate tpl;
    tpl.source_ = std::make_shared<const std::string>(source);
    tpl.body_ = std::make_shared<const jinja::Body>(std::move(body));
    return tpl;
}

Result<std::string> ChatTemplate::render(const jinja::Value& context, const jinja::Limits& limits) const {
    if (!context.is_object()) return Status::invalid_argument("template: the render context must be an object");
    return jinja::render(*body_, context, limits);
}

Result<std::string> apply_chat_template(const ChatTemplate& tpl, const jinja::Value& messages,
                                        const jinja::Value& tools, bool add_generation_prompt,
                                        std::string_view bos_token, std::string_view eos_token,
                                        const jinja::Value& extra) {
    jinja::Object context;
    context.set("messages", messages);
    context.set("tools", tools.is_undefined() ? jinja::Value::none() : tools);
    context.set("add_generation_prompt", jinja::Value(add_generation_prompt));
    context.set("bos_token", jinja::Value(bos_token));
    context.set("eos_token", jinja::Value(eos_token));
    if (extra.is_object())
        for (const auto& [k, v] : extra.as_object().entries())
            if (context.find(k) == nullptr) context.set(k, v);
    return tpl.render(jinja::Value(std::move(context)));
}

std::string_view fallback_template(std::string_view name) {
    if (name == "llama3") return kLlama3;
    if (name == "chatml") return kChatml;
    if (name == "deepseek-r1") return kDeepseekR1;
    if (name == "plain") return kPlain;
    return {};
}

const std::vector<std::string_view>& fallback_template_names() {
    static const std::vector<std::string_view> names = {"llama3", "chatml", "deepseek-r1", "plain"};
    return names;
}

std::string_view pick_fallback_template(const TemplateHints& hints) {
    if (hints.has_token) {
        if (hints.has_token("<｜User｜>") && hints.has_token("<｜Assistant｜>")) return "deepseek-r1";
        if (hints.has_token("<|start_header_id|>") && hints.has_token("<|eot_id|>")) return "llama3";
        if (hints.has_token("<|im_start|>") && hints.has_token("<|im_end|>")) return "chatml";
    }
    if (hints.tokenizer_pre == "deepseek-r1-qwen" || contains_ci(hints.model_name, "deepseek-r1")) return "deepseek-r1";
    if (hints.tokenizer_pre == "llama-bpe" || hints.tokenizer_pre == "llama3" ||
        (hints.architecture == "llama" && hints.tokenizer_model == "gpt2"))
        return "llama3";
    if (hints.tokenizer_pre == "qwen2" || hints.architecture.substr(0, 4) == "qwen") return "chatml";
    return "plain";
}

namespace {

// Text of tokenizer.ggml.tokens[<id_key>], or empty when either is missing.
std::string token_text(const gguf::GgufFile& file, const char* id_key, const gguf::Array* vocab) {
    auto id = file.get_u32(id_key);
    if (!id.ok() || vocab == nullptr || *id >= vocab->strings.size()) return {};
    return std::string(vocab->strings[*id]);
}

}  // namespace

Result<ModelChatTemplate> load_chat_template(const gguf::GgufFile& file) {
    auto tokens = file.get_array("tokenizer.ggml.tokens");
    const gguf::Array* vocab = tokens.ok() ? *tokens : nullptr;
    std::string bos = token_text(file, "tokenizer.ggml.bos_token_id", vocab);
    std::string eos = token_text(file, "tokenizer.ggml.eos_token_id", vocab);
    DUET_TRY(std::string_view text, file.get_string_or("tokenizer.chat_template", ""));
    std::string fallback;
    if (text.empty()) {
        TemplateHints hints;
        DUET_TRY(hints.architecture, file.get_string_or("general.architecture", ""));
        DUET_TRY(hints.tokenizer_model, file.get_string_or("tokenizer.ggml.model", ""));
        DUET_TRY(hints.tokenizer_pre, file.get_string_or("tokenizer.ggml.pre", ""));
        DUET_TRY(hints.model_name, file.get_string_or("general.name", ""));
        hints.has_token = [vocab](std::string_view t) {
            if (vocab == nullptr) return false;
            return std::find(vocab->strings.begin(), vocab->strings.end(), t) != vocab->strings.end();
        };
        fallback = std::string(pick_fallback_template(hints));
        text = fallback_template(fallback);
    }
    auto tpl = ChatTemplate::parse(text);
    if (!tpl.ok()) return tpl.status().with_context("tokenizer.chat_template: ");
    return ModelChatTemplate{std::move(tpl).value(), std::move(fallback), std::move(bos), std::move(eos)};
}

}  // namespace duet::tok
