// routes_embeddings.cpp: POST /v1/embeddings on an encoder model (registry::Embedder): text inputs are tokenized
// with the model's WordPiece codec ([CLS]/[SEP] added, as `duet embed` does); token-id inputs are used as given.
// Requests to one encoder take turns on it (the Embedder's mutex).
#include "common/log.h"
#include "common/strformat.h"
#include "openai/embeddings.h"
#include "server/server_state.h"

namespace duet::server {

namespace {

http::HttpResponse handle_embeddings(Server::State& state, const http::HttpRequest& request) {
    openai::EmbeddingsRequest req;
    openai::ApiError error;
    if (!openai::parse_embeddings_request(request.body, &req, &error)) return error_response(error);
    if (req.model.empty()) return error_response(openai::ApiError::invalid("'model' is required", "model"));
    auto model = state.find_model(req.model, &error);
    if (!model) return error_response(error);
    const registry::Serving& serving = *model->serving;
    if (!serving.capabilities.embeddings || !serving.embedder)
        return error_response(
            openai::ApiError::invalid(strformat("model '%s' does not serve embeddings (it is not an encoder model)",
                                                req.model.c_str()),
                                      "model"));
    registry::Embedder& embedder = *serving.embedder;
    if (req.dimensions && *req.dimensions != embedder.n_embd())
        return error_response(openai::ApiError::invalid(
            strformat("'dimensions' must be %d for model '%s' (its vectors cannot be shortened)", embedder.n_embd(),
                      req.model.c_str()),
            "dimensions"));

    std::vector<std::vector<int32_t>> sequences = std::move(req.token_ids);
    if (!req.is_tokens)
        for (const std::string& text : req.texts)
            sequences.push_back(model->backend.codec->encode(text, /*add_special=*/true, /*parse_special=*/true));
    int64_t n_tokens = 0;
    const int32_t n_vocab = model->backend.codec->n_vocab();
    for (size_t i = 0; i < sequences.size(); ++i) {
        const auto& seq = sequences[i];
        if (seq.empty())
            return error_response(
                openai::ApiError::invalid(strformat("input[%zu] is empty after tokenization", i), "input"));
        if (static_cast<int64_t>(seq.size()) > embedder.max_tokens())
            return error_response(
                openai::ApiError::invalid(strformat("input[%zu] has %zu tokens; model '%s' takes at most %d per input",
                                                    i, seq.size(), req.model.c_str(), embedder.max_tokens()),
                                          "input"));
        for (int32_t id : seq)
            if (id >= n_vocab)
                return error_response(openai::ApiError::invalid(
                    strformat("input[%zu]: token id %d is out of range (vocabulary has %d tokens)", i, id, n_vocab),
                    "input"));
        n_tokens += static_cast<int64_t>(seq.size());
    }
    auto vectors = embedder.embed(sequences);
    if (!vectors.ok()) {
        DUET_LOG_ERROR("embeddings on '%s' failed: %s", req.model.c_str(), vectors.status().message().c_str());
        return error_response(openai::ApiError::internal());
    }
    state.metrics.count_embeddings(model->backend.name, static_cast<int64_t>(sequences.size()), n_tokens);
    return json_response(openai::embeddings_json(model->backend.name, *vectors, req.base64, n_tokens));
}

}  // namespace

RouteTable embeddings_routes(Server::State& state) {
    Server::State* s = &state;
    RouteTable table;
    table.add("POST", "/v1/embeddings", Access::api_key,
              [s](const RouteRequest& r) { return handle_embeddings(*s, r.http); });
    return table;
}

}  // namespace duet::server
