// remote_model.h: a model served by another process (an OpenAI-compatible server: vLLM, llama-server, another duet):
// the registry lists it beside the local ones and hands it to whoever forwards its requests. The implementation
// (upstream/pool.h) speaks HTTP and JSON, so it lives outside the registry; this interface has neither.
// May include: common only.
#pragma once

#include <string>

namespace duet::registry {

class RemoteModel {
public:
    virtual ~RemoteModel() = default;
    // What to name in messages and listings: its URL(s).
    virtual std::string source() const = 0;
    // False while no replica may be sent a request (every circuit breaker open).
    virtual bool healthy() const = 0;
};

}  // namespace duet::registry
