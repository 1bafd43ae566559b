// dialogue.h: running and scoring dialogues. Pure logic: the model is a callback (send the history, get the
// reply), so the same code runs against an HTTP target, a scripted test double or a fixed transcript.
//
// Flow scores (per flow, summed over its turns):
//   task_coherence      turns whose checks all passed / turns (a turn without checks passes)
//   context_reuses      per turn after the first, entities mentioned in the reply that an earlier turn (user or
//                       reply) already mentioned: the reply builds on the conversation
//   confirmations       confirmation phrases in replies ("as I mentioned", "如前所述"): restating, not advancing
//   coreference_errors  failed `resolves` checks
//   ai_speak            AI-speak phrases in all replies (arena/ai_speak.h)
//
// Clarification loop (run_clarification):
//   send opening -> reply; while the reply fails the dialogue's checks and rounds < max_rounds:
//       the simulated user answers from the hidden intent: the first fact not yet given whose cue appears in the
//       reply; else, when the reply asks anything, the next fact not yet given; else the fallback line followed by
//       the next fact (the fallback alone once every fact is given); rounds += 1; send -> reply
//   rounds = simulated answers given before the checks passed; satisfied = the checks passed within the cap.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "eval/rules.h"
#include "eval/suite.h"

namespace duet::eval {

struct Message {
    std::string role;  // "user" or "assistant"
    std::string content;
};

// Sends the whole history (ending with a user message) and returns the model's reply.
using SendTurn = std::function<Result<std::string>(const std::vector<Message>& history)>;

struct TurnScore {
    std::string user;
    std::string reply;
    bool answered = false;  // false when the send failed or the transcript ended
    std::string error;
    std::vector<CheckOutcome> checks;
    bool passed = false;
    std::vector<std::string> reused_entities;
    int confirmations = 0;
    int coreference_errors = 0;
    int ai_speak = 0;
};

struct FlowScore {
    std::string id;
    std::vector<TurnScore> turns;
    int checks_passed = 0;
    int checks_total = 0;
    double task_coherence = 0;
    int context_reuses = 0;
    int confirmations = 0;
    int coreference_errors = 0;
    int ai_speak = 0;
};

// Scores a transcript: replies[t] answers flow.turns[t]; missing replies fail their turns.
FlowScore score_flow(const Flow& flow, const std::vector<std::string>& replies);

// Sends the turns one by one; a failed send is recorded on its turn and the flow stops there.
FlowScore run_flow(const Flow& flow, const SendTurn& send);

struct ClarifyResult {
    std::string id;
    bool satisfied = false;
    int rounds = 0;
    std::vector<Message> transcript;
    std::vector<CheckOutcome> last_checks;  // the checks on the last reply
    std::string error;                      // a failed send ends the dialogue unsatisfied
};

// The simulated user's next line (see the loop above); `given[i]` marks facts already told.
std::string simulated_user_reply(const ClarifyDialogue& dialogue, const std::string& model_reply,
                                 std::vector<bool>& given);

ClarifyResult run_clarification(const ClarifyDialogue& dialogue, const SendTurn& send);

}  // namespace duet::eval
