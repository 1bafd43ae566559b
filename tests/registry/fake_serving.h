// fake_serving.h: what a fake registry entry serves with in the registry tests: an engine that is never asked for
// anything (the registry only hands it out) and a codec with no vocabulary.
#pragma once

#include "registry/registry.h"

namespace duet::test {

class IdleEngine final : public engine::EngineApi {
public:
    explicit IdleEngine(int32_t context = 64) : context_(context) {}
    Result<std::unique_ptr<engine::RequestStream>> submit(engine::RequestParams) override {
        return Status::unavailable("idle engine");
    }
    void abort(uint64_t) override {}
    engine::EngineStats stats() const override { return {}; }
    int32_t context_length() const override { return context_; }

private:
    int32_t context_;
};

class NullCodec final : public registry::TextCodec {
public:
    std::vector<registry::TokenId> encode(std::string_view, bool, bool) const override { return {}; }
    std::string decode(std::span<const registry::TokenId>) const override { return {}; }
    std::string token_piece(registry::TokenId) const override { return {}; }
    int32_t n_vocab() const override { return 1; }
    std::vector<registry::TokenId> stop_token_ids() const override { return {0}; }
    std::unique_ptr<registry::TextDecoder> make_decoder(std::vector<std::string>) const override { return nullptr; }
    Result<std::vector<registry::TokenId>> encode_chat(const std::vector<registry::ChatMessage>&, bool) const override {
        return std::vector<registry::TokenId>{};
    }
};

}  // namespace duet::test
