// caller_codec.cpp: targets, reading the legacy JSONL response cache, and the streamed, retried, cached chat call of a target.
// JSON lives here (requests, legacy cache lines) and in results_codec.cpp.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/timer.h"
#include "eval/runner.h"
#include "openai/client.h"

namespace duet::eval {

using nlohmann::json;

Result<Target> parse_target(const std::string& spec, bool named) {
    Target target;
    std::string rest = spec;
    if (named) {
        const size_t eq = spec.find('=');
        if (eq == std::string::npos || eq == 0)
            return Status::invalid_argument("target '%s': expected NAME=URL[#model]", spec.c_str());
        target.name = spec.substr(0, eq);
        rest = spec.substr(eq + 1);
    } else {
        target.name = "judge";
    }
    const size_t hash = rest.find('#');
    target.url = rest.substr(0, hash);
    if (hash != std::string::npos) target.model = rest.substr(hash + 1);
    if (target.url.rfind("http://", 0) != 0 && target.url.rfind("https://", 0) != 0)
        return Status::invalid_argument("target '%s': the URL must start with http:// or https://", spec.c_str());
    return target;
}

namespace {

uint64_t fnv1a(const std::string& text, uint64_t basis) {
    uint64_t h = basis;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

CallTiming timing_from_json(const json& j) {
    CallTiming t;
    t.ttft_seconds = j.value("ttft", -1.0);
    t.total_seconds = j.value("total", 0.0);
    if (j.contains("intervals") && j["intervals"].is_array())
        t.chunk_intervals = j["intervals"].get<std::vector<double>>();
    if (j.contains("chars") && j["chars"].is_array()) t.chunk_chars = j["chars"].get<std::vector<int>>();
    return t;
}

int utf8_code_points(const std::string& s) {
    int n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

bool retryable(const openai::ClientError& e) {
    using K = openai::ClientError::Kind;
    return e.kind == K::timeout || e.kind == K::transport || (e.kind == K::http && e.api.status >= 500);
}

}  // namespace

Result<std::vector<std::pair<std::string, CachedReply>>> read_jsonl_cache(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::not_found("response cache %s: cannot read", path.c_str());
    std::vector<std::pair<std::string, CachedReply>> entries;
    std::string line;
    while (std::getline(in, line)) {
        const json j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("key") || !j["key"].is_string()) continue;  // torn
        CachedReply reply;
        reply.text = j.contains("text") && j["text"].is_string() ? j["text"].get<std::string>() : "";
        if (j.contains("timing") && j["timing"].is_object()) {
            try {
                reply.timing = timing_from_json(j["timing"]);
            } catch (const json::exception&) {
                continue;  // wrong types inside: treat as torn
            }
        }
        entries.emplace_back(j["key"].get<std::string>(), std::move(reply));
    }
    return entries;
}

std::string cache_key(const Target& target, const std::string& request_body) {
    char hash[40];
    std::snprintf(hash, sizeof hash, "%016llx%016llx", (unsigned long long)fnv1a(request_body, 14695981039346656037ull),
                  (unsigned long long)fnv1a(request_body, 0x9ae16a3b2f90404full));
    return target.name + "|" + target.url + "|" + target.model + "|" + hash;
}

ModelCaller::ModelCaller(Target target, CallPolicy policy, ResponseCache* cache)
    : target_(std::move(target)), policy_(std::move(policy)), cache_(cache) {}

openai::Client ModelCaller::make_client() const {
    openai::ClientOptions options;
    options.base_url = target_.url;
    options.api_key = policy_.api_key;
    options.read_timeout_seconds = policy_.read_timeout_seconds;
    options.connect_timeout_seconds = std::min(10.0, policy_.read_timeout_seconds);
    return openai::Client(options);
}

Result<int> ModelCaller::count_tokens(const std::string& text) {
    // duet serve reads "content" (or "prompt"), llama-server "content", vLLM "prompt"; each ignores the other.
    json request = {{"content", text}, {"prompt", text}, {"add_special", false}};
    if (!target_.model.empty()) request["model"] = target_.model;
    ++sent_;
    const openai::CallResult r = make_client().post("/tokenize", request);
    if (!r.ok()) return Status::unavailable("%s: /tokenize: %s", target_.name.c_str(), r.error->describe().c_str());
    if (r.body.is_object() && r.body.contains("count") && r.body["count"].is_number_integer())
        return r.body["count"].get<int>();
    if (r.body.is_object() && r.body.contains("tokens") && r.body["tokens"].is_array())
        return int(r.body["tokens"].size());
    return Status::unavailable("%s: /tokenize: no tokens in the response", target_.name.c_str());
}

Result<double> ModelCaller::continuation_logprob(const std::string& context, const std::string& continuation) {
    json request = {
        {"prompt", context + continuation}, {"max_tokens", 0}, {"echo", true}, {"logprobs", 1}, {"temperature", 0}};
    if (!target_.model.empty()) request["model"] = target_.model;
    const std::string body = request.dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string key = cache_key(target_, body);
    if (cache_) {
        if (auto hit = cache_->find(key)) return std::strtod(hit->text.c_str(), nullptr);
    }
    const openai::Client client = make_client();
    std::string last_error;
    double backoff = policy_.backoff_seconds;
    for (int attempt = 0; attempt <= policy_.max_retries; ++attempt) {
        if (attempt > 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
            backoff *= 2;
        }
        ++sent_;
        const openai::CallResult r = client.completion(request);
        if (!r.ok()) {
            last_error = r.error->describe();
            if (retryable(*r.error)) continue;
            break;
        }
        const json* lp = nullptr;
        if (r.body.is_object() && r.body.contains("choices") && r.body["choices"].is_array() &&
            !r.body["choices"].empty() && r.body["choices"][0].is_object() && r.body["choices"][0].contains("logprobs"))
            lp = &r.body["choices"][0]["logprobs"];
        if (!lp || !lp->is_object() || !lp->contains("tokens") || !lp->contains("token_logprobs") ||
            !lp->contains("text_offset") || !(*lp)["tokens"].is_array() ||
            (*lp)["tokens"].size() != (*lp)["token_logprobs"].size() ||
            (*lp)["tokens"].size() != (*lp)["text_offset"].size()) {
            last_error = "no echoed logprobs in the /v1/completions response";
            break;
        }
        double sum = 0;
        int counted = 0;
        for (size_t i = 0; i < (*lp)["tokens"].size(); ++i) {
            const json& token = (*lp)["tokens"][i];
            const json& offset = (*lp)["text_offset"][i];
            const json& logprob = (*lp)["token_logprobs"][i];
            if (!token.is_string() || !offset.is_number() || !logprob.is_number()) continue;
            if (offset.get<double>() + double(token.get<std::string>().size()) <= double(context.size())) continue;
            sum += logprob.get<double>();
            ++counted;
        }
        if (counted == 0) {
            last_error = "the echoed tokens do not cover the continuation";
            break;
        }
        char text[64];
        std::snprintf(text, sizeof text, "%.17g", sum);
        if (cache_) DUET_RETURN_IF_ERROR(cache_->put(key, CachedReply{text, {}}));
        return sum;
    }
    return Status::unavailable("%s: %s", target_.name.c_str(), last_error.c_str());
}

namespace {
// The usage row stored next to a reply in the cache: "PROMPT COMPLETION" under "<key>|usage" (a separate row, so
// the cache's schema and the replies cached by an older duet stay as they are).
std::string usage_key(const std::string& key) { return key + "|usage"; }
}  // namespace

Result<CachedReply> ModelCaller::chat(const std::vector<Message>& messages, int max_tokens, uint64_t seed) {
    json request = {
        {"messages", json::array()}, {"temperature", 0}, {"max_tokens", max_tokens}, {"seed", seed}, {"stream", true}};
    if (!target_.model.empty()) request["model"] = target_.model;
    for (const Message& m : messages) request["messages"].push_back({{"role", m.role}, {"content", m.content}});
    // The key leaves out stream_options (added below), so caches written before duet asked for usage still hit.
    const std::string body = request.dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string key = cache_key(target_, body);
    if (cache_) {
        if (auto hit = cache_->find(key)) {
            if (auto usage = cache_->find(usage_key(key)))
                std::sscanf(usage->text.c_str(), "%d %d", &hit->timing.prompt_tokens, &hit->timing.completion_tokens);
            return *hit;
        }
    }
    // The target's own token counts arrive in a last chunk with "usage" (OpenAI, vLLM, llama-server, Ollama, duet).
    request["stream_options"] = {{"include_usage", true}};

    const openai::Client client = make_client();

    std::string last_error;
    double backoff = policy_.backoff_seconds;
    for (int attempt = 0; attempt <= policy_.max_retries; ++attempt) {
        if (attempt > 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
            backoff *= 2;
        }
        CachedReply reply;
        bool saw_choices = false;
        double last_chunk = -1;
        const double start = now_seconds();
        ++sent_;
        const openai::CallResult r = client.chat_stream(request, [&](const openai::StreamChunk& chunk) {
            if (chunk.json.contains("choices")) saw_choices = true;
            if (chunk.json.contains("usage") && chunk.json["usage"].is_object()) {
                const json& usage = chunk.json["usage"];
                if (usage.contains("prompt_tokens") && usage["prompt_tokens"].is_number_integer())
                    reply.timing.prompt_tokens = usage["prompt_tokens"].get<int>();
                if (usage.contains("completion_tokens") && usage["completion_tokens"].is_number_integer())
                    reply.timing.completion_tokens = usage["completion_tokens"].get<int>();
            }
            const std::string text = openai::chunk_text(chunk.json);
            if (text.empty()) return true;
            if (reply.timing.ttft_seconds < 0) reply.timing.ttft_seconds = chunk.arrival_seconds - start;
            if (last_chunk >= 0) reply.timing.chunk_intervals.push_back(chunk.arrival_seconds - last_chunk);
            last_chunk = chunk.arrival_seconds;
            reply.timing.chunk_chars.push_back(utf8_code_points(text));
            reply.text += text;
            return true;
        });
        reply.timing.total_seconds = now_seconds() - start;
        if (!r.ok()) {
            last_error = r.error->describe();
            // A server that refuses stream_options (400 naming it) is asked again without; counts stay unknown.
            if (r.error->kind == openai::ClientError::Kind::http && r.error->api.status == 400 &&
                request.contains("stream_options") && r.error->body.find("stream_options") != std::string::npos) {
                request.erase("stream_options");
                --attempt;
                continue;
            }
            if (retryable(*r.error)) continue;
            break;
        }
        if (!saw_choices && !r.stream_done) {
            last_error = "garbage: HTTP " + std::to_string(r.status) + " without chat completion chunks";
            break;
        }
        if (cache_) {
            DUET_RETURN_IF_ERROR(cache_->put(key, reply));
            if (reply.timing.prompt_tokens >= 0 || reply.timing.completion_tokens >= 0)
                DUET_RETURN_IF_ERROR(
                    cache_->put(usage_key(key), CachedReply{std::to_string(reply.timing.prompt_tokens) + " " +
                                                                std::to_string(reply.timing.completion_tokens),
                                                            {}}));
        }
        return reply;
    }
    return Status::unavailable("%s: %s", target_.name.c_str(), last_error.c_str());
}

}  // namespace duet::eval
