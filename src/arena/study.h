// study.h: the study summary (the seed's table): per question, the share of participants naming each model,
// with 95% Wilson intervals, and AI-speak phrases counted in the free text written about each model.
//
// A question's answer names zero or more models: single-choice questions ("which would you keep chatting
// with?") name one, multi-select ones ("which really understood you?") may name both, so percentages of one
// question need not sum to 100%. The base of every percentage is the number of participants who answered it.
#pragma once

#include <string>
#include <vector>

#include "arena/ai_speak.h"
#include "arena/wilson.h"

namespace duet::arena {

struct StudyAnswer {
    std::string participant;
    std::string question;
    std::vector<std::string> models_named;
};

struct StudyFreeText {
    std::string participant;
    std::string model;  // the model the text is about
    std::string text;
};

struct QuestionModelShare {
    std::string model;
    int named = 0;     // participants naming the model
    Proportion share;  // named / respondents, Wilson 95%
};

struct QuestionSummary {
    std::string question;
    int respondents = 0;  // distinct participants who answered (a repeated answer counts once: the last one)
    std::vector<QuestionModelShare> models;  // in the order of the study's models
};

struct ModelAiSpeak {
    std::string model;
    int texts = 0;
    AiSpeakCount count;
};

struct StudySummary {
    std::vector<QuestionSummary> questions;  // in the order given
    std::vector<ModelAiSpeak> ai_speak;      // one per study model
    int participants = 0;                    // distinct participants in answers and texts
    int unknown_models = 0;                  // names in answers / texts that are not study models (ignored)
};

StudySummary summarize_study(const std::vector<std::string>& models, const std::vector<std::string>& questions,
                             const std::vector<StudyAnswer>& answers, const std::vector<StudyFreeText>& texts);

}  // namespace duet::arena
