// route_embedder.cpp: an Embedder over model::Encoder (tokenize with the encoder's vocabulary, truncate to its
// context, embed one text at a time under a mutex) and the built-in exemplars.
#include "app/route_embedder.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/thread_pool.h"
#include "model/encoder.h"
#include "model/model.h"
#include "router/router.h"
#include "tokenizer/tokenizer.h"

namespace duet::app {

namespace {

struct LoadedEncoder {
    std::unique_ptr<model::Model> model;
    std::unique_ptr<tok::Tokenizer> tokenizer;
    std::unique_ptr<ThreadPool> pool;
    std::unique_ptr<model::Encoder> encoder;
    int32_t max_tokens = 0;
    std::mutex mutex;

    std::vector<float> embed(std::string_view text) {
        std::vector<model::TokenId> ids = tokenizer->encode(text, /*add_special=*/true, /*parse_special=*/false);
        if (static_cast<int32_t>(ids.size()) > max_tokens) {  // keep the head and the final [SEP]
            const model::TokenId last = ids.back();
            ids.resize(max_tokens - 1);
            ids.push_back(last);
        }
        std::lock_guard<std::mutex> lock(mutex);
        const std::vector<std::vector<model::TokenId>> one = {std::move(ids)};
        auto v = encoder->embed(one);
        return v.ok() ? std::move((*v)[0]) : std::vector<float>();  // an empty vector carries no evidence
    }
};

}  // namespace

Result<router::Embedder> load_encoder_embedder(const std::string& path, int n_threads) {
    model::LoadOptions opts;
    opts.progress = false;
    auto loaded = model::Model::load(path, opts);
    if (!loaded.ok()) return loaded.status().with_context("route: --embed-model: ");
    auto enc = std::make_shared<LoadedEncoder>();
    enc->model = std::move(loaded).value();
    if (enc->model->config().family != model::Family::encoder)
        return Status::unsupported("route: --embed-model: '%s' is a decoder, not a BERT-family encoder", path.c_str());
    auto tokenizer = tok::Tokenizer::from_gguf(enc->model->file());
    if (!tokenizer.ok()) return tokenizer.status().with_context("route: --embed-model: '" + path + "': ");
    enc->tokenizer = std::move(tokenizer).value();
    enc->pool = std::make_unique<ThreadPool>(std::max(1, n_threads));
    enc->max_tokens = std::max<int32_t>(2, std::min<int32_t>(512, enc->model->config().n_ctx_train));
    enc->encoder = std::make_unique<model::Encoder>(*enc->model, enc->max_tokens, enc->pool.get());
    return router::Embedder([enc](std::string_view text) { return enc->embed(text); });
}

std::vector<router::Exemplar> builtin_exemplars() {
    std::vector<router::Exemplar> out;
    const std::string_view data = router::builtin_train_jsonl();
    size_t pos = 0, line_no = 0;
    while (pos < data.size()) {
        size_t end = data.find('\n', pos);
        if (end == std::string_view::npos) end = data.size();
        const std::string_view line = data.substr(pos, end - pos);
        pos = end + 1;
        if (line_no++ % 4 != 0) continue;
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.contains("text") || !j.contains("label")) continue;
        const auto role = router::parse_role(j["label"].get<std::string>());
        if (role) out.push_back({j["text"].get<std::string>(), *role});
    }
    return out;
}

}  // namespace duet::app
