// dialogue.cpp: flow scoring, the flow runner and the clarification loop.
#include "eval/dialogue.h"

#include <algorithm>

#include "arena/ai_speak.h"

namespace duet::eval {

FlowScore score_flow(const Flow& flow, const std::vector<std::string>& replies) {
    FlowScore score;
    score.id = flow.id;
    std::vector<std::vector<std::string>> introduced;  // per earlier turn: entities in its message or reply
    std::vector<std::string> seen;                     // union of the above
    int passed_turns = 0;
    for (size_t t = 0; t < flow.turns.size(); ++t) {
        const Turn& turn = flow.turns[t];
        TurnScore ts;
        ts.user = turn.user;
        ts.answered = t < replies.size();
        if (ts.answered) ts.reply = replies[t];
        else ts.error = "no reply";
        const RuleContext context{&flow.entities, &introduced};
        for (const Check& check : turn.checks) {
            CheckOutcome outcome = ts.answered ? evaluate_check(check, ts.reply, context)
                                               : CheckOutcome{check_kind_name(check.kind), false, "no reply"};
            if (check.kind == CheckKind::resolves && !outcome.passed) ++ts.coreference_errors;
            score.checks_passed += outcome.passed;
            ++score.checks_total;
            ts.checks.push_back(std::move(outcome));
        }
        ts.passed = ts.answered &&
                    std::all_of(ts.checks.begin(), ts.checks.end(), [](const CheckOutcome& c) { return c.passed; });
        passed_turns += ts.passed;
        if (ts.answered) {
            for (const std::string& id : entities_in(ts.reply, flow.entities))
                if (std::find(seen.begin(), seen.end(), id) != seen.end()) ts.reused_entities.push_back(id);
            ts.confirmations = count_confirmations(ts.reply);
            ts.ai_speak = arena::count_ai_speak(ts.reply).total;
        }
        // What this turn introduced (for later refers_back checks and reuse counts).
        std::vector<std::string> now = entities_in(ts.user + "\n" + ts.reply, flow.entities);
        for (const std::string& id : now)
            if (std::find(seen.begin(), seen.end(), id) == seen.end()) seen.push_back(id);
        introduced.push_back(std::move(now));

        score.context_reuses += static_cast<int>(ts.reused_entities.size());
        score.confirmations += ts.confirmations;
        score.coreference_errors += ts.coreference_errors;
        score.ai_speak += ts.ai_speak;
        score.turns.push_back(std::move(ts));
    }
    score.task_coherence = flow.turns.empty() ? 0.0 : static_cast<double>(passed_turns) / flow.turns.size();
    return score;
}

FlowScore run_flow(const Flow& flow, const SendTurn& send) {
    std::vector<Message> history;
    std::vector<std::string> replies;
    std::string error;
    for (const Turn& turn : flow.turns) {
        history.push_back({"user", turn.user});
        Result<std::string> reply = send(history);
        if (!reply.ok()) {
            error = reply.status().message();
            break;
        }
        history.push_back({"assistant", reply.value()});
        replies.push_back(std::move(reply).value());
    }
    FlowScore score = score_flow(flow, replies);
    if (!error.empty() && replies.size() < score.turns.size()) score.turns[replies.size()].error = error;
    return score;
}

std::string simulated_user_reply(const ClarifyDialogue& dialogue, const std::string& model_reply,
                                 std::vector<bool>& given) {
    given.resize(dialogue.facts.size(), false);
    int pick = -1;
    for (size_t i = 0; i < dialogue.facts.size() && pick < 0; ++i) {
        if (given[i]) continue;
        for (const std::string& cue : dialogue.facts[i].cues)
            if (mentions(model_reply, Term{{cue}})) {
                pick = static_cast<int>(i);
                break;
            }
    }
    int next = -1;
    for (size_t i = 0; i < given.size() && next < 0; ++i)
        if (!given[i]) next = static_cast<int>(i);
    std::string line;
    if (pick < 0 && asks_question(model_reply)) pick = next;
    if (pick < 0) {
        line = dialogue.fallback;
        pick = next;
    }
    if (pick >= 0) {
        given[static_cast<size_t>(pick)] = true;
        line += (line.empty() ? "" : " ") + dialogue.facts[static_cast<size_t>(pick)].answer;
    }
    return line;
}

ClarifyResult run_clarification(const ClarifyDialogue& dialogue, const SendTurn& send) {
    ClarifyResult result;
    result.id = dialogue.id;
    std::vector<bool> given(dialogue.facts.size(), false);
    const std::vector<std::vector<std::string>> no_turns;
    const RuleContext context{&dialogue.entities, &no_turns};
    result.transcript.push_back({"user", dialogue.opening});
    for (;;) {
        Result<std::string> reply = send(result.transcript);
        if (!reply.ok()) {
            result.error = reply.status().message();
            return result;
        }
        result.transcript.push_back({"assistant", reply.value()});
        result.last_checks.clear();
        for (const Check& check : dialogue.checks)
            result.last_checks.push_back(evaluate_check(check, reply.value(), context));
        result.satisfied = std::all_of(result.last_checks.begin(), result.last_checks.end(),
                                       [](const CheckOutcome& c) { return c.passed; });
        if (result.satisfied || result.rounds >= dialogue.max_rounds) return result;
        result.transcript.push_back({"user", simulated_user_reply(dialogue, reply.value(), given)});
        ++result.rounds;
    }
}

}  // namespace duet::eval
