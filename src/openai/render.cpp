// render.cpp: OpenAI response and chunk JSON from native structs.
#include "openai/render.h"

#include <nlohmann/json.hpp>

namespace duet::openai {

namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json bytes_of(const std::string& s) {
    json arr = json::array();
    for (unsigned char c : s) arr.push_back(static_cast<int>(c));
    return arr;
}

json chat_logprobs(const std::vector<LogprobItem>& items) {
    json content = json::array();
    for (const auto& item : items) {
        json top = json::array();
        for (const auto& [token, logprob] : item.top)
            top.push_back({{"token", token}, {"logprob", logprob}, {"bytes", bytes_of(token)}});
        content.push_back(
            {{"token", item.token}, {"logprob", item.logprob}, {"bytes", bytes_of(item.token)}, {"top_logprobs", top}});
    }
    return {{"content", content}};
}

json text_logprobs(const std::vector<LogprobItem>& items, size_t offset) {
    json tokens = json::array(), token_logprobs = json::array(), top_logprobs = json::array(),
         text_offset = json::array();
    for (const auto& item : items) {
        tokens.push_back(item.token);
        text_offset.push_back(offset);
        if (item.in_text) offset += item.token.size();
        if (item.is_null) {
            token_logprobs.push_back(nullptr);
            top_logprobs.push_back(nullptr);
            continue;
        }
        token_logprobs.push_back(item.logprob);
        json top = json::object();
        for (const auto& [token, logprob] : item.top) top[token] = logprob;
        top_logprobs.push_back(top);
    }
    return {{"tokens", tokens},
            {"token_logprobs", token_logprobs},
            {"top_logprobs", top_logprobs},
            {"text_offset", text_offset}};
}

json usage_json(const Usage& u) {
    return {{"prompt_tokens", u.prompt_tokens},
            {"completion_tokens", u.completion_tokens},
            {"total_tokens", u.prompt_tokens + u.completion_tokens},
            {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

json timings_json(const Timings& t) {
    return {{"queue_ms", t.queue_ms},
            {"prompt_ms", t.prompt_ms},
            {"ttft_ms", t.ttft_ms},
            {"tokens_per_second", t.tokens_per_second},
            {"cached_prompt_tokens", t.cached_prompt_tokens}};
}

json finish_json(const std::optional<std::string>& finish) { return finish ? json(*finish) : json(nullptr); }

}  // namespace

std::string chat_completion_json(const ResponseHead& head, const std::vector<ChatChoice>& choices, const Usage& usage,
                                 const Timings& timings) {
    json arr = json::array();
    for (const auto& c : choices) {
        json message = {{"role", "assistant"}, {"content", c.content}};
        if (!c.reasoning.empty()) message["reasoning_content"] = c.reasoning;
        arr.push_back({{"index", c.index},
                       {"message", message},
                       {"logprobs", c.with_logprobs ? chat_logprobs(c.logprobs) : json(nullptr)},
                       {"finish_reason", finish_json(c.finish_reason)}});
    }
    return dump({{"id", head.id},
                 {"object", "chat.completion"},
                 {"created", head.created},
                 {"model", head.model},
                 {"choices", arr},
                 {"usage", usage_json(usage)},
                 {"timings", timings_json(timings)}});
}

std::string chat_chunk_json(const ResponseHead& head, const std::vector<ChatChoice>& choices,
                            const std::optional<Usage>& usage, const std::optional<Timings>& timings) {
    json arr = json::array();
    for (const auto& c : choices) {
        json delta = json::object();
        if (c.role) delta["role"] = "assistant";
        if (!c.content.empty() || c.role) delta["content"] = c.content;
        if (!c.reasoning.empty()) delta["reasoning_content"] = c.reasoning;
        arr.push_back({{"index", c.index},
                       {"delta", delta},
                       {"logprobs", c.with_logprobs && !c.logprobs.empty() ? chat_logprobs(c.logprobs) : json(nullptr)},
                       {"finish_reason", finish_json(c.finish_reason)}});
    }
    json chunk = {{"id", head.id},
                  {"object", "chat.completion.chunk"},
                  {"created", head.created},
                  {"model", head.model},
                  {"choices", arr}};
    if (usage) chunk["usage"] = usage_json(*usage);
    if (timings) chunk["timings"] = timings_json(*timings);
    return dump(chunk);
}

namespace {
json text_choices(const std::vector<TextChoice>& choices) {
    json arr = json::array();
    for (const auto& c : choices)
        arr.push_back({{"index", c.index},
                       {"text", c.text},
                       {"logprobs", c.with_logprobs ? text_logprobs(c.logprobs, c.text_offset_base) : json(nullptr)},
                       {"finish_reason", finish_json(c.finish_reason)}});
    return arr;
}
}  // namespace

std::string completion_json(const ResponseHead& head, const std::vector<TextChoice>& choices, const Usage& usage,
                            const Timings& timings) {
    return dump({{"id", head.id},
                 {"object", "text_completion"},
                 {"created", head.created},
                 {"model", head.model},
                 {"choices", text_choices(choices)},
                 {"usage", usage_json(usage)},
                 {"timings", timings_json(timings)}});
}

std::string completion_chunk_json(const ResponseHead& head, const std::vector<TextChoice>& choices,
                                  const std::optional<Usage>& usage, const std::optional<Timings>& timings) {
    json chunk = {{"id", head.id},
                  {"object", "text_completion"},
                  {"created", head.created},
                  {"model", head.model},
                  {"choices", text_choices(choices)}};
    if (usage) chunk["usage"] = usage_json(*usage);
    if (timings) chunk["timings"] = timings_json(*timings);
    return dump(chunk);
}

std::string models_json(const std::vector<ModelInfo>& models) {
    json data = json::array();
    for (const auto& m : models) {
        json model = {{"id", m.id}, {"object", "model"}, {"created", m.created}, {"owned_by", "duet"}};
        if (m.context_length > 0) model["max_model_len"] = m.context_length;
        if (!m.state.empty()) model["state"] = m.state;
        data.push_back(std::move(model));
    }
    return dump({{"object", "list"}, {"data", data}});
}

std::string tokenize_json(const std::vector<int32_t>& tokens, const std::vector<std::string>* pieces) {
    json j = {{"tokens", tokens}, {"count", tokens.size()}};
    if (pieces) j["pieces"] = *pieces;
    return dump(j);
}

std::string detokenize_json(const std::string& content) { return dump({{"content", content}}); }

std::string health_json(const char* status) { return dump({{"status", status}}); }

std::string model_health_json(const std::string& model, const char* state) {
    return dump({{"status", "ok"}, {"model", model}, {"state", state}});
}

}  // namespace duet::openai
