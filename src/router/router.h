// router.h: the routing decision for one message: signals -> fusion -> tie-break -> stickiness.
//
//   message ──> scan window (text_scan.h: at most ~8 KiB read, so 1 MB messages route in bounded time)
//      ├─ keywords.h          matched words/regexes per route        ─┐
//      ├─ script_stats.h      Han / Latin / code / other ratios        │  FusionVector ──> P(expert) = σ(b + w·x)
//      ├─ classifier.h        n-gram logistic regression (logit)      │  (weights and threshold: duet route fit)
//      └─ embedding_signal.h  centroid + k-nearest (optional)        ─┘
//   P(expert) >= threshold ? expert : daily, then
//   tie-break (borderline)  : no letters at all, or |P - threshold| < kTieBand: keep the conversation's role if it
//                             has one, else no letters -> daily, else Han >= Latin + other letters -> daily,
//                             otherwise expert
//   stickiness              : a conversation on role R with C cached prompt tokens switches only when P clears the
//                             threshold by stickiness_margin(C) towards the other role; the decision says so and
//                             that a switch would recompute C tokens on the other model.
//
// No JSON, no I/O except loading files. May include common/ and router/ headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "router/embedding_signal.h"
#include "router/keywords.h"
#include "router/role.h"
#include "router/router_model.h"
#include "router/script_stats.h"

namespace duet::router {

constexpr float kTieBand = 0.02f;

// What the caller knows about the conversation the message belongs to.
struct ConversationState {
    Role role = Role::expert;   // the role its earlier messages went to
    int64_t cached_tokens = 0;  // prompt tokens cached on that role's model
};

struct Stickiness {
    bool applied = false;          // a conversation state was given
    Role previous = Role::expert;  // the conversation's role
    bool switch_avoided = false;   // the fused decision differed but did not clear the margin
    bool switched = false;         // the decision moves the conversation to the other role
    float margin = 0.0f;           // the margin P had to clear
    int64_t recompute_tokens = 0;  // cached tokens a switch to the other role recomputes (its model has none)
};

struct Decision {
    Role role = Role::expert;
    float probability = 0.5f;  // fused P(expert), calibrated
    float threshold = 0.5f;
    Role fused_role = Role::expert;  // the role before tie-break and stickiness
    bool borderline = false;
    std::string tie_break;  // why the tie-break chose (empty when not borderline)

    KeywordScores keywords;  // hits index into Router::keywords().entries()
    ScriptStats script;
    float classifier_logit = 0.0f;
    float classifier_probability = 0.5f;
    std::optional<EmbeddingScores> embedding;  // when an encoder is attached
    FusionVector features{};                   // fusion inputs
    FusionVector contributions{};              // weight * input, per feature

    Stickiness stickiness;
    size_t message_bytes = 0;
    size_t scanned_bytes = 0;
    bool truncated = false;
    int64_t latency_us = 0;
};

// Margin a conversation's new evidence must clear to switch: 0.1, growing with the cached prefix
// (+0.05 per doubling over 512 tokens), at most 0.3.
float stickiness_margin(int64_t cached_tokens);

class Router {
public:
    Router(KeywordSet keywords, RouterModel model);
    // The keyword list and model built into the binary (data/router/keywords.txt, data/router/router.bin).
    static Result<Router> create_default();
    // Overrides: an empty path means the built-in one.
    static Result<Router> create(const std::string& keywords_path, const std::string& model_path);

    void attach_embedding(EmbeddingSignal signal) { embedding_ = std::move(signal); }
    bool has_embedding() const { return embedding_.has_value(); }

    Decision decide(std::string_view message, const ConversationState* conversation = nullptr) const;

    // The fusion inputs of a message (fit and eval use these); fills the signal fields of `d` as well.
    FusionVector features(std::string_view window, Decision* d) const;

    const KeywordSet& keywords() const { return keywords_; }
    // False when the keyword list is not the one the model was fitted with (still works; refit for best accuracy).
    bool keywords_match_model() const { return keywords_.fingerprint() == model_.keywords_fingerprint; }
    const RouterModel& model() const { return model_; }
    const std::optional<EmbeddingSignal>& embedding() const { return embedding_; }
    // Bytes held by the router (model + keyword automaton; not the encoder).
    size_t memory_bytes() const;

private:
    KeywordSet keywords_;
    RouterModel model_;
    std::optional<EmbeddingSignal> embedding_;
};

// Fusion inputs from signal outputs (shared by Router::features and fitting).
FusionVector fusion_inputs(float classifier_logit, const KeywordScores& kw, const ScriptStats& script,
                           const EmbeddingScores* embedding);

// The built-in data (generated at build time from data/router/).
std::string_view builtin_keywords_text();
std::string_view builtin_model_bytes();
std::string_view builtin_train_jsonl();  // the training corpus: exemplars for the embedding signal

}  // namespace duet::router
