// study.cpp: the study summary.
#include "arena/study.h"

#include <algorithm>
#include <map>
#include <set>

namespace duet::arena {

StudySummary summarize_study(const std::vector<std::string>& models, const std::vector<std::string>& questions,
                             const std::vector<StudyAnswer>& answers, const std::vector<StudyFreeText>& texts) {
    StudySummary summary;
    auto model_index = [&](const std::string& name) {
        auto it = std::find(models.begin(), models.end(), name);
        return it == models.end() ? -1 : static_cast<int>(it - models.begin());
    };
    std::set<std::string> participants;

    // The last answer of each participant to each question.
    std::map<std::pair<std::string, std::string>, const StudyAnswer*> last;
    for (const StudyAnswer& a : answers) {
        last[{a.question, a.participant}] = &a;
        participants.insert(a.participant);
    }
    for (const std::string& question : questions) {
        QuestionSummary q;
        q.question = question;
        std::vector<int> named(models.size(), 0);
        for (const auto& [key, answer] : last) {
            if (key.first != question) continue;
            ++q.respondents;
            std::set<int> seen;  // a model named twice in one answer counts once
            for (const std::string& m : answer->models_named) {
                const int i = model_index(m);
                if (i < 0) {
                    ++summary.unknown_models;
                    continue;
                }
                if (seen.insert(i).second) ++named[static_cast<size_t>(i)];
            }
        }
        for (size_t i = 0; i < models.size(); ++i)
            q.models.push_back({models[i], named[i], wilson_interval(named[i], q.respondents)});
        summary.questions.push_back(std::move(q));
    }

    summary.ai_speak.resize(models.size());
    for (size_t i = 0; i < models.size(); ++i) summary.ai_speak[i].model = models[i];
    for (const StudyFreeText& t : texts) {
        participants.insert(t.participant);
        const int i = model_index(t.model);
        if (i < 0) {
            ++summary.unknown_models;
            continue;
        }
        ModelAiSpeak& m = summary.ai_speak[static_cast<size_t>(i)];
        ++m.texts;
        const AiSpeakCount c = count_ai_speak(t.text);
        m.count.total += c.total;
        for (const PhraseCount& p : c.phrases) {
            auto it = std::find_if(m.count.phrases.begin(), m.count.phrases.end(),
                                   [&](const PhraseCount& x) { return x.phrase == p.phrase; });
            if (it == m.count.phrases.end()) m.count.phrases.push_back(p);
            else it->count += p.count;
        }
    }
    summary.participants = static_cast<int>(participants.size());
    return summary;
}

}  // namespace duet::arena
