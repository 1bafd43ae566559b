// client.h: a client for any OpenAI-compatible server (duet serve, vLLM, llama.cpp, OpenAI): chat and text
// completions (whole or streamed as SSE), /v1/models and /v1/embeddings. Used by `duet bench --url`, and by eval,
// the arena and upstream backends.
//
//   Client client({.base_url = "http://127.0.0.1:8080/v1", .api_key = "..."});
//   CallResult r = client.chat_stream(request, [](const StreamChunk& c) {
//       ... c.json (parsed chunk), c.raw (its bytes), c.arrival_seconds (steady clock) ...
//       return true;  // false cancels the request (the connection is closed)
//   });
//   if (!r.ok()) ... r.error->describe() ...
//
// Requests and responses are JSON (the API's own shape); the client adds nothing to a request but "stream" (and
// nothing is validated: the server's answer is what a benchmark or eval wants to see). Every call opens its own
// connection, so one Client may be used from many threads at once. http:// always; https:// through httplib's
// OpenSSL build (Debian's has it), verifying the server's certificate against the system's CAs.
// Includes common/, openai/errors.h, nlohmann/json; httplib only in client.cpp.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "openai/errors.h"

namespace duet::openai {

struct ClientOptions {
    std::string base_url;  // http(s)://host[:port][/prefix][/v1]; a trailing "/v1" is accepted and implied
    std::string api_key;   // sent as "Authorization: Bearer ..." when set
    double connect_timeout_seconds = 10;
    double read_timeout_seconds = 600;  // the longest silence between two reads (a slow first token included)
    double write_timeout_seconds = 60;
};

struct ClientError {
    enum class Kind {
        bad_url,       // base_url is not http(s)://host...
        transport,     // connection refused, reset, DNS, TLS ...
        timeout,       // nothing arrived for read_timeout_seconds (or the connection could not be made in time)
        http,          // a status other than 200; `api` parsed from the body when it is an OpenAI error
        stream,        // an {"error": ...} event inside a 200 stream
        bad_response,  // a 200 whose body is not the JSON expected, or a stream that ended without [DONE]
        cancelled,     // the chunk callback returned false
    };
    Kind kind = Kind::transport;
    ApiError api;      // the error in the API's shape (status 0 for failures before an HTTP status)
    std::string body;  // the raw error body or stream event payload, at most 8 KiB ("" for transport failures)

    // One line: "HTTP 404: {...}", "transport: Connection", "stream error: {...}", ...
    std::string describe() const;
};

struct CallResult {
    int status = 0;                    // the HTTP status (0: no response)
    nlohmann::json body;               // the response (whole calls); null for streams
    std::optional<ClientError> error;  // set when the call failed
    bool stream_done = false;          // streams: the server sent [DONE] (a stream without it is not an error)
    bool ok() const { return !error.has_value(); }
};

// One parsed SSE chunk of a streamed completion ([DONE] and error events are not passed on; see CallResult).
struct StreamChunk {
    const nlohmann::json& json;  // the parsed "data:" payload
    std::string_view data;       // the payload's bytes
    std::string_view raw;        // the whole event's bytes as received ("data: {...}\n")
    double arrival_seconds = 0;  // now_seconds() when the bytes that completed this event were read
};
// Returns false to cancel the request.
using ChunkCallback = std::function<bool(const StreamChunk&)>;

class Client {
public:
    explicit Client(ClientOptions options);

    // POST /v1/chat/completions and /v1/completions with "stream": false.
    CallResult chat(nlohmann::json request) const;
    CallResult completion(nlohmann::json request) const;
    // The same with "stream": true; `on_chunk` sees each chunk as it arrives. A 200 stream is ok unless it
    // carried an error event (the first one is the call's error; later chunks are still passed on).
    CallResult chat_stream(nlohmann::json request, const ChunkCallback& on_chunk) const;
    CallResult completion_stream(nlohmann::json request, const ChunkCallback& on_chunk) const;
    // GET /v1/models; POST /v1/embeddings.
    CallResult models() const;
    CallResult embeddings(const nlohmann::json& request) const;

    // Any endpoint under the base URL ("/v1/..."): a JSON body in, a JSON body out.
    CallResult get(const std::string& path) const;
    CallResult post(const std::string& path, const nlohmann::json& request) const;
    CallResult post_stream(const std::string& path, const nlohmann::json& request, const ChunkCallback& on_chunk) const;

    // "http://host:port" and the path prefix in front of "/v1" ("" for most servers), from base_url.
    const std::string& origin() const { return origin_; }
    const std::string& prefix() const { return prefix_; }

private:
    CallResult whole_call(const char* method, const std::string& path, const nlohmann::json* request) const;

    ClientOptions options_;
    std::string origin_, prefix_;
    std::optional<ClientError> url_error_;
};

// The text a chunk adds: choices[0].delta.content + reasoning_content (chat) or choices[0].text (completions).
std::string chunk_text(const nlohmann::json& chunk);

}  // namespace duet::openai
