// parse.cpp: OpenAI request JSON -> ChatRequest / CompletionRequest / tokenize bodies, validated field by field.
#include "openai/parse.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/strformat.h"

namespace duet::openai {

namespace {

using nlohmann::json;

// Thrown inside this file only; every public parser catches it and returns false.
struct Invalid {
    ApiError error;
};

[[noreturn]] void fail(const std::string& param, const std::string& message) {
    throw Invalid{ApiError::invalid(message, param)};
}

const char* type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::boolean:
            return "boolean";
        case json::value_t::string:
            return "string";
        case json::value_t::array:
            return "array";
        case json::value_t::object:
            return "object";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float:
            return "number";
        default:
            return "value";
    }
}

json parse_object(std::string_view body) {
    if (body.empty()) fail("", "request body is empty; expected a JSON object");
    if (json_nesting_depth(body) > kMaxJsonDepth)
        fail("", strformat("JSON nested deeper than %d levels", kMaxJsonDepth));
    json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) fail("", "request body is not valid JSON (or not valid UTF-8)");
    if (!doc.is_object()) fail("", std::string("request body must be a JSON object, got ") + type_name(doc));
    return doc;
}

// A present, non-null field, or nullptr.
const json* field(const json& obj, const char* name) {
    auto it = obj.find(name);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

bool get_bool(const json& obj, const char* name, bool fallback) {
    const json* v = field(obj, name);
    if (!v) return fallback;
    if (!v->is_boolean()) fail(name, std::string("'") + name + "' must be a boolean, got " + type_name(*v));
    return v->get<bool>();
}

int64_t as_integer(const json& v, const std::string& param) {
    if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
    if (v.is_number_unsigned()) {
        const uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) fail(param, "'" + param + "' is too large");
        return static_cast<int64_t>(u);
    }
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) return static_cast<int64_t>(d);
        fail(param, "'" + param + "' must be an integer");
    }
    fail(param, "'" + param + "' must be an integer, got " + type_name(v));
}

std::optional<int64_t> get_int(const json& obj, const char* name, int64_t min, int64_t max) {
    const json* v = field(obj, name);
    if (!v) return std::nullopt;
    const int64_t x = as_integer(*v, name);
    if (x < min || x > max)
        fail(name, strformat("'%s' must be between %lld and %lld, got %lld", name, static_cast<long long>(min),
                             static_cast<long long>(max), static_cast<long long>(x)));
    return x;
}

float get_float(const json& obj, const char* name, double min, double max, float fallback) {
    const json* v = field(obj, name);
    if (!v) return fallback;
    if (!v->is_number()) fail(name, std::string("'") + name + "' must be a number, got " + type_name(*v));
    const double x = v->get<double>();
    if (!std::isfinite(x) || x < min || x > max)
        fail(name, strformat("'%s' must be between %g and %g", name, min, max));
    return static_cast<float>(x);
}

std::string get_string(const json& obj, const char* name) {
    const json* v = field(obj, name);
    if (!v) return {};
    if (!v->is_string()) fail(name, std::string("'") + name + "' must be a string, got " + type_name(*v));
    return v->get<std::string>();
}

void reject_if_present(const json& obj, const char* name, const char* why) {
    const json* v = field(obj, name);
    if (!v) return;
    if ((v->is_array() || v->is_object()) && v->empty()) return;
    fail(name, std::string("'") + name + "' is not supported: " + why);
}

std::vector<std::string> parse_stop(const json& obj) {
    const json* v = field(obj, "stop");
    std::vector<std::string> stops;
    if (!v) return stops;
    auto add = [&](const json& s) {
        if (!s.is_string()) fail("stop", std::string("'stop' entries must be strings, got ") + type_name(s));
        std::string text = s.get<std::string>();
        if (text.empty()) fail("stop", "'stop' strings must not be empty");
        if (text.size() > kMaxStopStringBytes)
            fail("stop", strformat("'stop' strings must be at most %zu bytes", kMaxStopStringBytes));
        stops.push_back(std::move(text));
    };
    if (v->is_string()) {
        add(*v);
    } else if (v->is_array()) {
        if (v->size() > static_cast<size_t>(kMaxStopStrings))
            fail("stop", strformat("'stop' may hold at most %d strings", kMaxStopStrings));
        for (const auto& s : *v) add(s);
    } else {
        fail("stop", std::string("'stop' must be a string or an array of strings, got ") + type_name(*v));
    }
    return stops;
}

void parse_generation(const json& obj, bool allow_zero_max_tokens, GenerationOptions* gen) {
    const int64_t min_max_tokens = allow_zero_max_tokens ? 0 : 1;
    auto max_tokens = get_int(obj, "max_tokens", min_max_tokens, kMaxTokensLimit);
    auto max_completion = get_int(obj, "max_completion_tokens", min_max_tokens, kMaxTokensLimit);
    if (max_completion) gen->max_tokens = static_cast<int32_t>(*max_completion);
    else if (max_tokens) gen->max_tokens = static_cast<int32_t>(*max_tokens);
    gen->temperature = get_float(obj, "temperature", 0.0, 2.0, 1.0f);
    gen->top_p = get_float(obj, "top_p", 0.0, 1.0, 1.0f);
    if (gen->top_p == 0.0f) fail("top_p", "'top_p' must be greater than 0");
    // top_k: -1 and 0 both mean "off" (vLLM uses -1, llama.cpp 0).
    gen->top_k = static_cast<int32_t>(get_int(obj, "top_k", -1, 1 << 20).value_or(0));
    if (gen->top_k < 0) gen->top_k = 0;
    gen->min_p = get_float(obj, "min_p", 0.0, 1.0, 0.0f);
    gen->presence_penalty = get_float(obj, "presence_penalty", -2.0, 2.0, 0.0f);
    gen->frequency_penalty = get_float(obj, "frequency_penalty", -2.0, 2.0, 0.0f);
    gen->repetition_penalty = get_float(obj, "repetition_penalty", 0.0, 10.0, 1.0f);
    if (gen->repetition_penalty == 0.0f) fail("repetition_penalty", "'repetition_penalty' must be greater than 0");
    if (auto seed = get_int(obj, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()))
        gen->seed = static_cast<uint64_t>(*seed);
    gen->stop = parse_stop(obj);
    gen->n = static_cast<int32_t>(get_int(obj, "n", 1, kMaxN).value_or(1));
    gen->stream = get_bool(obj, "stream", false);
    if (const json* so = field(obj, "stream_options")) {
        if (!so->is_object()) fail("stream_options", "'stream_options' must be an object");
        gen->include_usage = get_bool(*so, "include_usage", false);
    }
    gen->ignore_eos = get_bool(obj, "ignore_eos", false);
    gen->min_tokens = static_cast<int32_t>(get_int(obj, "min_tokens", 0, kMaxTokensLimit).value_or(0));
    if (gen->max_tokens && gen->min_tokens > *gen->max_tokens)
        fail("min_tokens", "'min_tokens' must not exceed 'max_tokens'");
    reject_if_present(obj, "logit_bias", "logit bias is not implemented");
    reject_if_present(obj, "tools", "tool calling is not implemented");
    if (const json* rf = field(obj, "response_format")) {
        if (!rf->is_object()) fail("response_format", "'response_format' must be an object");
        if (get_string(*rf, "type") != "text" && !get_string(*rf, "type").empty())
            fail("response_format", "only response_format {\"type\": \"text\"} is supported");
    }
}

std::string message_content(const json& message, const std::string& role, size_t index) {
    const std::string param = strformat("messages[%zu].content", index);
    auto it = message.find("content");
    if (it == message.end() || it->is_null()) {
        if (role == "assistant") return {};
        fail(param, "'content' is required for role '" + role + "'");
    }
    if (it->is_string()) return it->get<std::string>();
    if (!it->is_array())
        fail(param, std::string("'content' must be a string or an array of parts, got ") + type_name(*it));
    std::string text;
    for (const auto& part : *it) {
        if (!part.is_object()) fail(param, "content parts must be objects");
        const std::string type = get_string(part, "type");
        if (type != "text") fail(param, "only content parts of type 'text' are supported");
        const json* t = field(part, "text");
        if (!t || !t->is_string()) fail(param, "a text part needs a string 'text'");
        text += t->get<std::string>();
    }
    return text;
}

template <typename F>
bool guarded(F&& body, ApiError* error) {
    try {
        body();
        return true;
    } catch (const Invalid& invalid) {
        *error = invalid.error;
    } catch (const nlohmann::json::exception&) {
        *error = ApiError::invalid("request body has a value of the wrong type");
    } catch (const std::bad_alloc&) {
        *error = ApiError::invalid("request too large to process");
    }
    return false;
}

}  // namespace

int json_nesting_depth(std::string_view text) {
    int depth = 0, max_depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
        else if (c == ']' || c == '}') --depth;
    }
    return max_depth;
}

bool parse_chat_request(std::string_view body, ChatRequest* out, ApiError* error) {
    return guarded(
        [&] {
            const json doc = parse_object(body);
            ChatRequest req;
            req.model = get_string(doc, "model");
            req.user = get_string(doc, "user");
            const json* messages = field(doc, "messages");
            if (!messages) fail("messages", "'messages' is required");
            if (!messages->is_array()) fail("messages", "'messages' must be an array");
            if (messages->empty()) fail("messages", "'messages' must not be empty");
            if (messages->size() > kMaxMessages) fail("messages", strformat("at most %zu messages", kMaxMessages));
            for (size_t i = 0; i < messages->size(); ++i) {
                const json& m = (*messages)[i];
                if (!m.is_object()) fail(strformat("messages[%zu]", i), "each message must be an object");
                const json* role = field(m, "role");
                if (!role || !role->is_string()) fail(strformat("messages[%zu].role", i), "'role' must be a string");
                ChatMessage msg;
                msg.role = role->get<std::string>();
                if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" && msg.role != "tool" &&
                    msg.role != "developer")
                    fail(strformat("messages[%zu].role", i),
                         "'role' must be one of system, developer, user, assistant, tool");
                if (msg.role == "developer") msg.role = "system";
                msg.content = message_content(m, msg.role, i);
                if (const json* rc = field(m, "reasoning_content"); rc && rc->is_string())
                    msg.reasoning_content = rc->get<std::string>();
                req.messages.push_back(std::move(msg));
            }
            parse_generation(doc, /*allow_zero_max_tokens=*/false, &req.gen);
            req.logprobs = get_bool(doc, "logprobs", false);
            req.top_logprobs = static_cast<int32_t>(get_int(doc, "top_logprobs", 0, kMaxTopLogprobs).value_or(0));
            if (field(doc, "top_logprobs") && !req.logprobs)
                fail("top_logprobs", "'top_logprobs' needs 'logprobs': true");
            req.add_generation_prompt = get_bool(doc, "add_generation_prompt", true);
            *out = std::move(req);
        },
        error);
}

bool parse_completion_request(std::string_view body, CompletionRequest* out, ApiError* error) {
    return guarded(
        [&] {
            const json doc = parse_object(body);
            CompletionRequest req;
            req.model = get_string(doc, "model");
            req.user = get_string(doc, "user");
            const json* prompt = field(doc, "prompt");
            if (!prompt) fail("prompt", "'prompt' is required");
            const json* p = prompt;
            // A batch of one is accepted: ["text"] or [[1, 2, 3]].
            if (p->is_array() && p->size() == 1 && ((*p)[0].is_string() || (*p)[0].is_array())) p = &(*p)[0];
            if (p->is_string()) {
                req.prompt_text = p->get<std::string>();
                if (req.prompt_text.empty()) fail("prompt", "'prompt' must not be empty");
            } else if (p->is_array()) {
                if (p->empty()) fail("prompt", "'prompt' must not be empty");
                if (p->size() > static_cast<size_t>(kMaxTokensLimit)) fail("prompt", "'prompt' has too many tokens");
                req.prompt_is_tokens = true;
                for (const auto& t : *p) {
                    if (!t.is_number()) fail("prompt", "'prompt' must be a string or an array of token ids");
                    req.prompt_tokens.push_back(static_cast<int32_t>([&] {
                        const int64_t id = as_integer(t, "prompt");
                        if (id < 0 || id > std::numeric_limits<int32_t>::max())
                            fail("prompt", "token ids in 'prompt' must be non-negative 32-bit integers");
                        return id;
                    }()));
                }
            } else {
                fail("prompt", std::string("'prompt' must be a string or an array of token ids, got ") + type_name(*p));
            }
            parse_generation(doc, /*allow_zero_max_tokens=*/true, &req.gen);
            req.echo = get_bool(doc, "echo", false);
            req.parse_special = get_bool(doc, "parse_special", false);
            req.logprobs = static_cast<int32_t>(get_int(doc, "logprobs", 0, kMaxCompletionLogprobs).value_or(-1));
            if (req.gen.max_tokens && *req.gen.max_tokens == 0 && !req.echo)
                fail("max_tokens", "'max_tokens' must be at least 1 (0 is allowed only with 'echo': true)");
            if (req.gen.max_tokens && *req.gen.max_tokens == 0 && req.gen.stream)
                fail("max_tokens", "'max_tokens': 0 cannot be streamed");
            *out = std::move(req);
        },
        error);
}

bool parse_tokenize_request(std::string_view body, TokenizeRequest* out, ApiError* error) {
    return guarded(
        [&] {
            const json doc = parse_object(body);
            TokenizeRequest req;
            req.model = get_string(doc, "model");
            const json* content = field(doc, "content");
            const char* name = "content";
            if (!content) {
                content = field(doc, "prompt");
                name = "prompt";
            }
            if (!content) fail("content", "'content' (or 'prompt') is required");
            if (!content->is_string()) fail(name, std::string("'") + name + "' must be a string");
            req.content = content->get<std::string>();
            req.add_special = get_bool(doc, "add_special", true);
            req.with_pieces = get_bool(doc, "with_pieces", false);
            *out = std::move(req);
        },
        error);
}

bool parse_session_request(std::string_view body, SessionRequest* out, ApiError* error) {
    return guarded(
        [&] {
            const json doc = parse_object(body);
            const json* key = field(doc, "api_key");
            if (!key) fail("api_key", "'api_key' is required");
            if (!key->is_string()) fail("api_key", "'api_key' must be a string");
            out->api_key = key->get<std::string>();
        },
        error);
}

bool parse_detokenize_request(std::string_view body, DetokenizeRequest* out, ApiError* error) {
    return guarded(
        [&] {
            const json doc = parse_object(body);
            DetokenizeRequest req;
            req.model = get_string(doc, "model");
            const json* tokens = field(doc, "tokens");
            if (!tokens) fail("tokens", "'tokens' is required");
            if (!tokens->is_array()) fail("tokens", "'tokens' must be an array of token ids");
            for (const auto& t : *tokens) {
                const int64_t id = as_integer(t, "tokens");
                if (id < 0 || id > std::numeric_limits<int32_t>::max())
                    fail("tokens", "token ids must be non-negative 32-bit integers");
                req.tokens.push_back(static_cast<int32_t>(id));
            }
            *out = std::move(req);
        },
        error);
}

}  // namespace duet::openai
