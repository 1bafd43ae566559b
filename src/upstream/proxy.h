// proxy.h: one OpenAI request forwarded to an upstream pool (pool.h), whole or streamed, with retries.
//
//   forward(pool, request):
//     try k = 1..max_attempts (a replica not tried yet by this request when there is one; backoff before retries)
//       connect error (refused, connect timeout)  -> retry
//       HTTP 502 / 503                             -> retry (the error kept for the answer)
//       other status                               -> that error, mapped to the OpenAI shape (same status)
//       read timeout before the response head      -> 504, no retry (the upstream may be working on it)
//       200 whole                                  -> the upstream's body as it is
//       200 stream                                 -> a ProxyStream: committed, never retried from here on
//     no replica available (breakers open)         -> 503 code upstream_unavailable
//     retries used up                              -> the last error (502 upstream_unreachable for connect errors)
//
// A ProxyStream hands out the upstream's bytes whole SSE events at a time, as they arrive (no parsing, no
// re-encoding); a stream that ends without "data: [DONE]" (cut, timed out) ends with an error event and [DONE].
// Includes common, upstream/pool.h, nlohmann/json; httplib only in proxy.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "upstream/pool.h"

namespace duet::upstream {

struct ProxyRequest {
    std::string endpoint;                // "/v1/chat/completions" or "/v1/completions"
    nlohmann::json body;                 // the client's request; its "model" is replaced by the replica's model
    std::function<bool()> client_alive;  // asked while waiting for an upstream; empty: always alive
};

class ProxyStream {
public:
    struct Impl;
    explicit ProxyStream(std::unique_ptr<Impl> impl);
    ~ProxyStream();  // cancels the exchange if unfinished and reports its outcome to the pool
    ProxyStream(const ProxyStream&) = delete;
    ProxyStream& operator=(const ProxyStream&) = delete;

    // Blocks for the next whole SSE events to send on (*out replaced); false once the stream is over.
    bool next(std::string* out);
    // The client went away: stop reading (the upstream connection is closed).
    void cancel();

private:
    std::unique_ptr<Impl> impl_;
};

struct ProxyResponse {
    int status = 200;  // 499: the client went away while waiting (nobody reads the answer)
    std::string content_type = "application/json";
    std::string body;  // a whole response, or an error in the OpenAI shape
    int retry_after_seconds = 0;
    std::unique_ptr<ProxyStream> stream;  // a 200 stream: send its events
    int attempts = 0;                     // tries made (for tests and logs)
};

ProxyResponse forward(const std::shared_ptr<Pool>& pool, ProxyRequest request);

// The prefix-affinity key of a request: a hash of its first `messages` chat messages (role and content), or of
// the first 1 KiB of a completion's prompt; 0 when there is neither.
uint64_t affinity_key(const nlohmann::json& body, int messages);

}  // namespace duet::upstream
