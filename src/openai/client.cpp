// client.cpp: the OpenAI-compatible client over httplib (one connection per call) and the SSE parser.
#include "openai/client.h"

#include <httplib.h>

#include <cmath>

#include "common/strformat.h"
#include "common/timer.h"
#include "openai/sse.h"

namespace duet::openai {

namespace {

using nlohmann::json;

constexpr size_t kMaxErrorBodyBytes = 8 * 1024;

ClientError make_error(ClientError::Kind kind, std::string message, int status = 0) {
    ClientError e;
    e.kind = kind;
    e.api.status = status;
    e.api.type = "client_error";
    e.api.message = std::move(message);
    return e;
}

std::optional<std::string> string_field(const json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

// {"error": {"message", "type", "param", "code"}} (OpenAI, duet) or {"message", "type", "code"} (vLLM) -> ApiError.
// Anything else: the body's first bytes as the message.
ApiError api_error_from_body(int status, std::string_view body) {
    ApiError e;
    e.status = status;
    e.type = "http_error";
    const json parsed = json::parse(body, nullptr, false);
    const json* fields = nullptr;
    if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) fields = &parsed["error"];
    else if (parsed.is_object() && parsed.contains("message")) fields = &parsed;
    if (!fields) {
        e.message = std::string(body.substr(0, 200));
        return e;
    }
    e.message = string_field(*fields, "message").value_or("");
    e.type = string_field(*fields, "type").value_or("http_error");
    e.param = string_field(*fields, "param");
    e.code = string_field(*fields, "code");
    return e;
}

void set_timeouts(httplib::Client& client, const ClientOptions& o) {
    auto split = [](double seconds) {
        const double s = std::max(0.0, seconds);
        return std::pair<time_t, time_t>(static_cast<time_t>(s), static_cast<time_t>(std::fmod(s, 1.0) * 1e6));
    };
    auto [cs, cu] = split(o.connect_timeout_seconds);
    auto [rs, ru] = split(o.read_timeout_seconds);
    auto [ws, wu] = split(o.write_timeout_seconds);
    client.set_connection_timeout(cs, cu);
    client.set_read_timeout(rs, ru);
    client.set_write_timeout(ws, wu);
    client.set_tcp_nodelay(true);  // httplib writes a request's head and body separately: no Nagle wait between
}

// httplib's failure -> transport or timeout (httplib reports a timed-out read as a read error: the clock decides).
ClientError transport_error(httplib::Error err, const ClientOptions& o, double since_connect, double since_read) {
    const std::string what = httplib::to_string(err);
    if (err == httplib::Error::ConnectionTimeout ||
        (err == httplib::Error::Connection && since_connect >= 0.9 * o.connect_timeout_seconds))
        return make_error(ClientError::Kind::timeout, what);
    if (err == httplib::Error::Read && since_read >= 0.9 * o.read_timeout_seconds)
        return make_error(ClientError::Kind::timeout, what);
    return make_error(ClientError::Kind::transport, what);
}

}  // namespace

std::string ClientError::describe() const {
    switch (kind) {
        case Kind::bad_url:
            return "bad url: " + api.message;
        case Kind::transport:
            return "transport: " + api.message;
        case Kind::timeout:
            return "timeout: " + api.message;
        case Kind::http:
            return strformat("HTTP %d: %s", api.status, body.substr(0, 200).c_str());
        case Kind::stream:
            return "stream error: " + body.substr(0, 200);
        case Kind::bad_response:
            return "bad response: " + api.message;
        case Kind::cancelled:
            return "cancelled";
    }
    return api.message;
}

Client::Client(ClientOptions options) : options_(std::move(options)) {
    std::string url = options_.base_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.size() >= 3 && url.compare(url.size() - 3, 3, "/v1") == 0) url.resize(url.size() - 3);
    const bool http = url.rfind("http://", 0) == 0, https = url.rfind("https://", 0) == 0;
    if (!http && !https) {
        url_error_ = make_error(ClientError::Kind::bad_url,
                                strformat("'%s' does not start with http:// or https://", options_.base_url.c_str()));
        return;
    }
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
    if (https) {
        url_error_ = make_error(ClientError::Kind::bad_url, "https:// needs cpp-httplib built with OpenSSL");
        return;
    }
#endif
    const size_t host_start = url.find("://") + 3;
    const size_t path_start = url.find('/', host_start);
    origin_ = url.substr(0, path_start);
    prefix_ = path_start == std::string::npos ? "" : url.substr(path_start);
    if (origin_.size() == host_start)
        url_error_ = make_error(ClientError::Kind::bad_url, strformat("'%s' has no host", options_.base_url.c_str()));
}

CallResult Client::get(const std::string& path) const { return whole_call("GET", path, nullptr); }

CallResult Client::post(const std::string& path, const json& request) const {
    return whole_call("POST", path, &request);
}

CallResult Client::whole_call(const char* method, const std::string& path, const json* request) const {
    CallResult result;
    if (url_error_) {
        result.error = url_error_;
        return result;
    }
    httplib::Client client(origin_);
    set_timeouts(client, options_);
    httplib::Request req;
    req.method = method;
    req.path = prefix_ + path;
    if (request) {
        req.headers.emplace("Content-Type", "application/json");
        req.body = request->dump();
    }
    if (!options_.api_key.empty()) req.headers.emplace("Authorization", "Bearer " + options_.api_key);
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    const double start = now_seconds();
    if (!client.send(req, res, err)) {
        result.error = transport_error(err, options_, now_seconds() - start, now_seconds() - start);
        return result;
    }
    result.status = res.status;
    if (res.status != 200) {
        ClientError e;
        e.kind = ClientError::Kind::http;
        e.api = api_error_from_body(res.status, res.body);
        e.body = res.body.substr(0, kMaxErrorBodyBytes);
        result.error = std::move(e);
        return result;
    }
    result.body = json::parse(res.body, nullptr, false);
    if (result.body.is_discarded()) {
        result.body = nullptr;
        result.error = make_error(ClientError::Kind::bad_response, "the response is not JSON", res.status);
    }
    return result;
}

CallResult Client::post_stream(const std::string& path, const json& request, const ChunkCallback& on_chunk) const {
    CallResult result;
    if (url_error_) {
        result.error = url_error_;
        return result;
    }
    httplib::Client client(origin_);
    set_timeouts(client, options_);
    httplib::Request req;
    req.method = "POST";
    req.path = prefix_ + path;
    req.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
    if (!options_.api_key.empty()) req.headers.emplace("Authorization", "Bearer " + options_.api_key);
    req.body = request.dump();

    SseParser parser;
    std::string error_body;  // a non-200 response's body
    std::optional<ClientError> stream_error;
    bool cancelled = false;
    const double start = now_seconds();
    double last_read = start;
    req.response_handler = [&](const httplib::Response& res) {
        result.status = res.status;
        return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
        const double now = now_seconds();
        last_read = now;
        if (result.status != 200) {
            error_body.append(data, std::min(n, kMaxErrorBodyBytes - std::min(kMaxErrorBodyBytes, error_body.size())));
            return true;
        }
        const bool keep_going = parser.feed(std::string_view(data, n), [&](const SseEvent& event) {
            if (event.data == "[DONE]") {
                result.stream_done = true;
                return true;
            }
            const json chunk = json::parse(event.data, nullptr, false);
            if (chunk.is_discarded()) return true;  // not JSON: skipped, as other clients do
            if (chunk.contains("error")) {
                if (!stream_error) {
                    ClientError e;
                    e.kind = ClientError::Kind::stream;
                    e.api = api_error_from_body(200, event.data);
                    e.body = std::string(event.data.substr(0, kMaxErrorBodyBytes));
                    stream_error = std::move(e);
                }
                return true;
            }
            if (!on_chunk({chunk, event.data, event.raw, now})) {
                cancelled = true;
                return false;
            }
            return true;
        });
        return keep_going;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    const bool sent = client.send(req, res, err);
    if (cancelled) {
        result.error = make_error(ClientError::Kind::cancelled, "cancelled by the chunk callback", result.status);
        return result;
    }
    if (parser.too_large()) {
        result.error =
            make_error(ClientError::Kind::bad_response,
                       strformat("a stream event is larger than %zu bytes", SseParser::kMaxEventBytes), result.status);
        return result;
    }
    if (!sent) {
        result.error = transport_error(err, options_, now_seconds() - start, now_seconds() - last_read);
        return result;
    }
    result.status = res.status;
    if (res.status != 200) {
        ClientError e;
        e.kind = ClientError::Kind::http;
        e.api = api_error_from_body(res.status, error_body);
        e.body = std::move(error_body);
        result.error = std::move(e);
        return result;
    }
    if (stream_error) result.error = std::move(stream_error);
    return result;
}

CallResult Client::chat(json request) const {
    request["stream"] = false;
    return post("/v1/chat/completions", request);
}

CallResult Client::completion(json request) const {
    request["stream"] = false;
    return post("/v1/completions", request);
}

CallResult Client::chat_stream(json request, const ChunkCallback& on_chunk) const {
    request["stream"] = true;
    return post_stream("/v1/chat/completions", request, on_chunk);
}

CallResult Client::completion_stream(json request, const ChunkCallback& on_chunk) const {
    request["stream"] = true;
    return post_stream("/v1/completions", request, on_chunk);
}

CallResult Client::models() const { return get("/v1/models"); }

CallResult Client::embeddings(const json& request) const { return post("/v1/embeddings", request); }

std::string chunk_text(const json& chunk) {
    if (!chunk.is_object() || !chunk.contains("choices") || !chunk["choices"].is_array() || chunk["choices"].empty())
        return "";
    const json& c = chunk["choices"][0];
    if (!c.is_object()) return "";
    std::string text;
    if (c.contains("delta") && c["delta"].is_object()) {
        for (const char* k : {"content", "reasoning_content"})
            if (c["delta"].contains(k) && c["delta"][k].is_string()) text += c["delta"][k].get<std::string>();
    } else if (c.contains("text") && c["text"].is_string()) {
        text = c["text"].get<std::string>();
    }
    return text;
}

}  // namespace duet::openai
