// model_backend.h: one kind of registry entry, behind an interface: how a model is opened and started, and what a
// ready model serves with (an EngineApi plus its TextCodec).
//
//   kinds today:  GgufBackend  (gguf_backend.h: a local GGUF file, its own engine over a share of the KV memory)
//                 EncoderBackend (encoder_backend.h: a BERT-family GGUF; an Embedder, no KV, no generation)
//                 ReadyBackend (below: an engine and codec built elsewhere, e.g. the server tests' fakes)
//                 remote (Registry::add_remote: an OpenAI-compatible server elsewhere; no engine, no codec, no KV)
//   kinds later:  a scripted test model. Each is one more class.
//
// Load on demand (registry.h) runs the same two steps whenever a model is needed and unloads with stop() then
// close(); before the first load, file_bytes() and needs_kv() estimate what it will take.
//
// Two steps, so that one KV budget can be split across every model before any engine allocates its share:
//   open()  -> bytes of KV memory per block this model needs (0: it holds no local KV cache)
//   start(kv_memory_bytes) -> Serving
// May include: engine, model, tokenizer, gguf, common (never server, openai or JSON).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"
#include "registry/remote_model.h"
#include "registry/text_codec.h"

namespace duet::registry {

// What a model can be asked for (the routes check these; a router picks among the models that can).
struct Capabilities {
    bool chat = true;         // /v1/chat/completions (has a chat template)
    bool completions = true;  // /v1/completions
    bool embeddings = false;  // /v1/embeddings (the router's encoder, later)
};

// What an encoder model serves /v1/embeddings with (encoder_backend.h). Thread-safe: callers may embed at once.
class Embedder {
public:
    virtual ~Embedder() = default;
    // One L2-normalised vector (n_embd(),) per sequence of token ids (each 1..max_tokens() long).
    virtual Result<std::vector<std::vector<float>>> embed(const std::vector<std::vector<int32_t>>& sequences) = 0;
    virtual int32_t n_embd() const = 0;
    virtual int32_t max_tokens() const = 0;  // tokens per input at most ([CLS]/[SEP] included)
};

// A started model: what requests run on.
struct Serving {
    std::shared_ptr<engine::EngineApi> engine;
    std::shared_ptr<const TextCodec> codec;
    Capabilities capabilities;
    int32_t context_length = 0;          // tokens per request (prompt + output)
    std::shared_ptr<Embedder> embedder;  // set when capabilities.embeddings
    // Set for a remote model (then engine and codec are null): its requests are forwarded, not run here.
    std::shared_ptr<RemoteModel> remote;
};

// Settings every local backend shares (from `duet serve`'s flags).
struct LoadSettings {
    engine::EngineOptions engine;                // kv_memory_bytes is set per model from the split
    size_t kv_memory_bytes = size_t{256} << 20;  // the budget all local models share; 0: engine::default_kv_memory
                                                 // of the memory available once the weights are open
    // Weights + KV reserve of every loaded local model together (0: no budget). Past it, idle models are
    // unloaded least recently used first to make room for the one a request needs.
    size_t memory_budget_bytes = 0;
};

class ModelBackend {
public:
    virtual ~ModelBackend() = default;
    // What to name in messages: the file path, later a URL.
    virtual std::string source() const = 0;
    // Step 1: open (map the file, read the config); returns KV bytes per block (0: needs no share of KV memory).
    virtual Result<size_t> open(const LoadSettings& settings) = 0;
    // After open(): the bytes of weights it will keep resident (for the default KV budget).
    virtual size_t weight_bytes() const { return 0; }
    // Step 2: build and start the engine with this many bytes of KV memory.
    virtual Result<Serving> start(const LoadSettings& settings, size_t kv_memory_bytes) = 0;
    // Stops the engine (unfinished requests get a final abort delta); idempotent.
    virtual void stop() {}
    // After stop(): lets go of the model and its memory; open() may follow again (load on demand).
    virtual void close() {}
    // Before open(): the bytes of its file (the weights' estimate for the memory budget; 0: unknown).
    virtual size_t file_bytes() const { return 0; }
    // Before open(): whether it will need a share of KV memory, and what it will serve.
    virtual bool needs_kv() const { return true; }
    virtual Capabilities declared_capabilities() const { return {}; }
};

// An engine and codec made elsewhere (tests, fakes): open() needs no KV share, start() hands them over.
class ReadyBackend final : public ModelBackend {
public:
    explicit ReadyBackend(Serving serving, std::string source = "(in-process)")
        : serving_(std::move(serving)), source_(std::move(source)) {}
    std::string source() const override { return source_; }
    Result<size_t> open(const LoadSettings&) override { return size_t{0}; }
    Result<Serving> start(const LoadSettings&, size_t) override { return serving_; }

private:
    Serving serving_;
    std::string source_;
};

}  // namespace duet::registry
