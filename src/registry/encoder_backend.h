// encoder_backend.h: the registry entry kind for a BERT-family GGUF (general.architecture = bert): the model, its
// WordPiece codec (for /tokenize and /v1/embeddings' text inputs), and an Embedder over one model::Encoder.
// It needs no KV memory and generates nothing: its engine is a stand-in that refuses every request (so /v1/models
// and /metrics list it like any model) and its capabilities are {embeddings} only.
//
// Concurrency: one Encoder per model and a mutex around it, so embeddings requests to one encoder run one at a
// time, each using the whole thread pool (the Encoder packs a request's inputs into passes itself).
// May include: model, tokenizer, gguf, common (never server, openai or JSON).
#pragma once

#include <memory>
#include <string>

#include "model/model.h"
#include "registry/model_backend.h"

namespace duet::registry {

class EncoderBackend final : public ModelBackend {
public:
    explicit EncoderBackend(std::string path) : path_(std::move(path)) {}
    std::string source() const override { return path_; }
    // Loads the model; errors when it is not an encoder. Returns 0: no KV share.
    Result<size_t> open(const LoadSettings& settings) override;
    Result<Serving> start(const LoadSettings& settings, size_t kv_memory_bytes) override;
    void close() override { model_.reset(); }
    size_t file_bytes() const override;
    bool needs_kv() const override { return false; }
    Capabilities declared_capabilities() const override { return {false, false, true}; }

private:
    std::string path_;
    std::shared_ptr<const model::Model> model_;
};

// True when the GGUF at `path` declares an encoder architecture (bert); false when it cannot be read (the
// decoder backend then reports the error).
bool is_encoder_gguf(const std::string& path);

}  // namespace duet::registry
