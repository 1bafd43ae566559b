// encoder_backend.cpp: EncoderBackend: Model::load (encoder only) -> codec + a mutex-guarded Encoder + a stand-in
// engine that refuses generation.
#include "registry/encoder_backend.h"

#include <algorithm>
#include <filesystem>
#include <mutex>

#include "common/thread_pool.h"
#include "gguf/gguf.h"
#include "model/encoder.h"
#include "registry/tokenizer_codec.h"

namespace duet::registry {

namespace {

// One Encoder behind a mutex; requests take turns, each with the whole pool.
class EncoderEmbedder final : public Embedder {
public:
    EncoderEmbedder(std::shared_ptr<const model::Model> model, int n_threads)
        : model_(std::move(model)),
          pool_(std::max(1, n_threads)),
          encoder_(*model_, model_->config().n_ctx_train, &pool_) {}

    Result<std::vector<std::vector<float>>> embed(const std::vector<std::vector<int32_t>>& sequences) override {
        std::lock_guard<std::mutex> lock(mutex_);
        return encoder_.embed(sequences);
    }
    int32_t n_embd() const override { return encoder_.n_embd(); }
    int32_t max_tokens() const override { return model_->config().n_ctx_train; }

private:
    std::shared_ptr<const model::Model> model_;
    ThreadPool pool_;
    std::mutex mutex_;
    model::Encoder encoder_;
};

// What /v1/models and /metrics see of an encoder; generation requests are refused.
class RefusingEngine final : public engine::EngineApi {
public:
    explicit RefusingEngine(int32_t context_length) : context_length_(context_length) {}
    Result<std::unique_ptr<engine::RequestStream>> submit(engine::RequestParams) override {
        return Status::invalid_argument("this model is an encoder: it serves /v1/embeddings only");
    }
    void abort(uint64_t) override {}
    engine::EngineStats stats() const override { return {}; }
    int32_t context_length() const override { return context_length_; }

private:
    int32_t context_length_;
};

}  // namespace

bool is_encoder_gguf(const std::string& path) {
    auto file = gguf::GgufFile::open(path);
    if (!file.ok()) return false;
    auto arch = (*file)->get_string("general.architecture");
    return arch.ok() && *arch == "bert";
}

Result<size_t> EncoderBackend::open(const LoadSettings&) {
    model::LoadOptions load_options;
    load_options.progress = false;
    DUET_TRY(auto loaded, model::Model::load(path_, load_options));
    if (loaded->config().family != model::Family::encoder)
        return Status::invalid_argument("'%s' is not an encoder (bert) model", path_.c_str());
    model_ = std::shared_ptr<const model::Model>(std::move(loaded));
    return size_t{0};
}

Result<Serving> EncoderBackend::start(const LoadSettings& settings, size_t) {
    if (!model_) return Status::invalid_argument("'%s': start() before open()", path_.c_str());
    DUET_TRY(auto codec, make_tokenizer_codec(model_->file(), model_));
    Serving serving;
    serving.embedder = std::make_shared<EncoderEmbedder>(model_, settings.engine.n_threads);
    serving.context_length = model_->config().n_ctx_train;
    serving.engine = std::make_shared<RefusingEngine>(serving.context_length);
    serving.codec = std::move(codec);
    serving.capabilities = {/*chat=*/false, /*completions=*/false, /*embeddings=*/true};
    return serving;
}

size_t EncoderBackend::file_bytes() const {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path_, ec);
    return ec ? 0 : static_cast<size_t>(bytes);
}

}  // namespace duet::registry
