// gguf_backend.h: the registry entry kind for a local GGUF file: load the model (zero-copy mmap), the tokenizer
// codec from the same file, and one engine over this model's share of the KV memory.
#pragma once

#include <memory>
#include <string>

#include "model/model.h"
#include "registry/model_backend.h"

namespace duet::registry {

class GgufBackend final : public ModelBackend {
public:
    explicit GgufBackend(std::string path) : path_(std::move(path)) {}
    ~GgufBackend() override;
    std::string source() const override { return path_; }
    Result<size_t> open(const LoadSettings& settings) override;
    size_t weight_bytes() const override { return model_ ? model_->total_weight_bytes() : 0; }
    Result<Serving> start(const LoadSettings& settings, size_t kv_memory_bytes) override;
    void stop() override;
    void close() override;
    size_t file_bytes() const override;

private:
    std::string path_;
    std::shared_ptr<const model::Model> model_;
    std::shared_ptr<engine::Engine> engine_;
};

}  // namespace duet::registry
