// gguf_backend.cpp: GgufBackend: Model::load -> KV bytes per block; then codec + Engine::create + start.
#include "registry/gguf_backend.h"

#include <filesystem>

#include "model/kv_cache.h"
#include "registry/tokenizer_codec.h"

namespace duet::registry {

GgufBackend::~GgufBackend() { stop(); }

Result<size_t> GgufBackend::open(const LoadSettings& settings) {
    model::LoadOptions load_options;
    load_options.progress = false;
    DUET_TRY(auto loaded, model::Model::load(path_, load_options));
    model_ = std::shared_ptr<const model::Model>(std::move(loaded));
    return model::KvCache::bytes_per_block(model_->config(), settings.engine.block_size, settings.engine.kv_type);
}

Result<Serving> GgufBackend::start(const LoadSettings& settings, size_t kv_memory_bytes) {
    if (!model_) return Status::invalid_argument("'%s': start() before open()", path_.c_str());
    DUET_TRY(auto codec, make_tokenizer_codec(model_->file(), model_));
    engine::EngineOptions options = settings.engine;
    options.kv_memory_bytes = kv_memory_bytes;
    DUET_TRY(auto created, engine::Engine::create(model_, options));
    engine_ = std::shared_ptr<engine::Engine>(std::move(created));
    engine_->start();
    Serving serving;
    serving.engine = engine_;
    serving.codec = std::move(codec);
    serving.context_length = engine_->context_length();
    return serving;
}

void GgufBackend::stop() {
    if (engine_) engine_->stop();
}

}  // namespace duet::registry

namespace duet::registry {

void GgufBackend::close() {
    stop();
    engine_.reset();
    model_.reset();
}

size_t GgufBackend::file_bytes() const {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path_, ec);
    return ec ? 0 : static_cast<size_t>(bytes);
}

}  // namespace duet::registry
