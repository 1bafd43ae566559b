// scripted_server.h: an OpenAI-compatible test server on loopback (httplib) for the eval runner's tests. It answers
// /v1/chat/completions with a fixed reply keyed by the last user message (the longest script key contained in it),
// streamed as SSE in 3-code-point chunks, and counts requests per key. Modes: fail the first N requests of a key
// with 503, or answer every request with a 200 HTML page (a garbage target); usage in a last chunk when asked. For `duet eval deploy`: /health can
// say "loading" for its first N calls, and duet's POST/DELETE /api/conversations can be switched on.
#pragma once

#include <httplib.h>

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace duet::test {

class ScriptedServer {
public:
    std::map<std::string, std::string> script;  // key (substring of the last user message) -> reply
    std::map<std::string, int> fail_first;      // key -> 503s before answering
    bool garbage = false;
    std::string fallback = "I have no scripted answer.";
    std::string page;                // served at GET / (404 when empty)
    int health_unready_first = 0;    // GET /health answers 503 ("loading") this many times, then 200
    bool conversations_api = false;  // POST /api/conversations -> 201 {"id":"c1"}; DELETE counted (404 when false)
    // /v1/completions with echo + logprobs (404 when 0): one token per byte, each -1 but the last, which is -0.1
    // when it is this letter and -2 otherwise. Counted under the key "completions".
    char likely_letter = 0;
    // Usage: with stream_options.include_usage the stream ends with a chunk {"choices": [], "usage": ...} whose
    // prompt_tokens is the bytes of every message's content (one token per byte) and completion_tokens the content
    // chunks sent. refuse_stream_options: a request carrying stream_options gets a 400 naming it (older servers).
    bool refuse_stream_options = false;
    // POST /tokenize (404 when false): {"tokens": [...]} with one token per byte of "content", like the usage above.
    bool tokenize = false;
    int reply_delay_ms = 0;  // each chat reply waits this long first (a slow model, so a run can be interrupted)

    ScriptedServer() {
        server_.Post("/v1/chat/completions",
                     [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
        server_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
            if (likely_letter == 0) {
                res.status = 404;
                return;
            }
            {
                std::lock_guard<std::mutex> lock(mutex_);
                ++requests_["completions"];
            }
            const std::string prompt = nlohmann::json::parse(req.body).value("prompt", "");
            nlohmann::json tokens = nlohmann::json::array(), logprobs = nlohmann::json::array(),
                           offsets = nlohmann::json::array();
            for (size_t i = 0; i < prompt.size(); ++i) {
                tokens.push_back(std::string(1, prompt[i]));
                offsets.push_back(i);
                if (i == 0) logprobs.push_back(nullptr);
                else if (i + 1 < prompt.size()) logprobs.push_back(-1.0);
                else logprobs.push_back(prompt[i] == likely_letter ? -0.1 : -2.0);
            }
            const nlohmann::json echoed = {{"tokens", tokens}, {"token_logprobs", logprobs}, {"text_offset", offsets}};
            const nlohmann::json body = {{"choices", {{{"index", 0}, {"text", prompt}, {"logprobs", echoed}}}}};
            res.set_content(body.dump(), "application/json");
        });
        server_.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
            if (!tokenize) {
                res.status = 404;
                return;
            }
            {
                std::lock_guard<std::mutex> lock(mutex_);
                ++requests_["tokenize"];
            }
            const std::string content = nlohmann::json::parse(req.body).value("content", "");
            nlohmann::json tokens = nlohmann::json::array();
            for (unsigned char c : content) tokens.push_back(int(c));
            res.set_content(nlohmann::json{{"tokens", tokens}}.dump(), "application/json");
        });
        server_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
            int seen;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                seen = ++requests_["health"];
            }
            if (seen <= health_unready_first) {
                res.status = 503;
                res.set_content(R"({"error":{"message":"loading models"}})", "application/json");
                return;
            }
            res.set_content("{\"status\":\"ok\"}", "application/json");
        });
        server_.Post("/api/conversations", [this](const httplib::Request&, httplib::Response& res) {
            if (!conversations_api) {
                res.status = 404;
                return;
            }
            {
                std::lock_guard<std::mutex> lock(mutex_);
                ++requests_["create conversation"];
            }
            res.status = 201;
            res.set_content(R"({"id":"c1","title":"duet eval deploy","messages":[]})", "application/json");
        });
        server_.Delete("/api/conversations/c1", [this](const httplib::Request&, httplib::Response& res) {
            std::lock_guard<std::mutex> lock(mutex_);
            ++requests_["delete conversation"];
            res.status = 204;
        });
        server_.Get("/", [this](const httplib::Request&, httplib::Response& res) {
            if (page.empty()) res.status = 404;
            else res.set_content(page, "text/html");
        });
    }
    ~ScriptedServer() {
        server_.stop();
        if (thread_.joinable()) thread_.join();
    }
    void start() {
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

    // Requests seen per key ("" for messages no key matched), and in all.
    std::map<std::string, int> requests() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return requests_;
    }
    int total_requests() const {
        int n = 0;
        for (const auto& [key, count] : requests()) n += count;
        return n;
    }

private:
    void handle(const httplib::Request& req, httplib::Response& res) {
        const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
        std::string last_user;
        if (!body.is_discarded() && body.contains("messages"))
            for (const auto& m : body["messages"])
                if (m.value("role", "") == "user") last_user = m.value("content", "");
        std::string key, reply = fallback;
        for (const auto& [k, v] : script)
            if (last_user.find(k) != std::string::npos && k.size() > key.size()) key = k, reply = v;
        int seen;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            seen = ++requests_[key];
        }
        if (reply_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(reply_delay_ms));
        if (garbage) {
            res.set_content("<html><body>not an API</body></html>", "text/html");
            return;
        }
        if (refuse_stream_options && body.contains("stream_options")) {
            res.status = 400;
            res.set_content(R"({"error":{"message":"Unrecognized request argument supplied: stream_options"}})",
                            "application/json");
            return;
        }
        const auto fail = fail_first.find(key);
        if (fail != fail_first.end() && seen <= fail->second) {
            res.status = 503;
            res.set_content(R"({"error":{"message":"overloaded","type":"server_error"}})", "application/json");
            return;
        }
        std::string stream;
        int chunks = 0;
        for (size_t i = 0; i < reply.size(); ++chunks) {
            size_t j = i;
            for (int points = 0; j < reply.size() && points < 3; ++points) {
                ++j;
                while (j < reply.size() && (static_cast<unsigned char>(reply[j]) & 0xC0) == 0x80) ++j;
            }
            const nlohmann::json chunk = {{"object", "chat.completion.chunk"},
                                          {"choices",
                                           {{{"index", 0}, {"delta", {{"content", reply.substr(i, j - i)}}}}}}};
            stream += "data: " + chunk.dump() + "\n\n";
            i = j;
        }
        if (body.contains("stream_options") && body["stream_options"].value("include_usage", false)) {
            size_t prompt_bytes = 0;
            for (const auto& m : body["messages"]) prompt_bytes += m.value("content", "").size();
            const nlohmann::json usage = {{"object", "chat.completion.chunk"},
                                          {"choices", nlohmann::json::array()},
                                          {"usage", {{"prompt_tokens", prompt_bytes}, {"completion_tokens", chunks}}}};
            stream += "data: " + usage.dump() + "\n\n";
        }
        stream += "data: [DONE]\n\n";
        res.set_content(stream, "text/event-stream");
    }

    httplib::Server server_;
    std::thread thread_;
    int port_ = 0;
    mutable std::mutex mutex_;
    std::map<std::string, int> requests_;
};

}  // namespace duet::test
