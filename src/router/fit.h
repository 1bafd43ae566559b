// fit.h: `duet route fit` and `duet route eval` as library calls over labelled messages (the app reads JSONL).
//
// Fitting, deterministic for a given seed:
//   1. split train into `folds` folds (seeded shuffle); for each fold train the n-gram classifier on the others
//      and score the held-out fold: every message gets an out-of-fold classifier logit;
//   2. fit the fusion weights by L2-regularised logistic regression (Newton's method) on the out-of-fold fusion
//      inputs, so fusion learns how far to trust a classifier that has not seen the message;
//   3. pick the threshold that maximises out-of-fold accuracy (ties: closest to 0.5);
//   4. train the final classifier on all of train.
// The report carries a reliability table (predicted P(expert) in ten bins against the observed share of expert
// labels) on dev when given, else on the out-of-fold predictions.
//
// May include common/ and router/ headers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "router/router.h"

namespace duet::router {

struct LabeledText {
    std::string text;
    Role label = Role::expert;
    std::string category;  // may be empty
};

struct FitOptions {
    int folds = 5;
    uint64_t seed = 1;
    ClassifierTrainOptions classifier;
    double fusion_l2 = 0.05;
};

struct ReliabilityBin {
    float lo = 0.0f, hi = 0.0f;
    int count = 0;
    float mean_predicted = 0.0f;
    float observed_expert = 0.0f;  // share of expert labels
};

struct FitReport {
    int n_train = 0, n_expert = 0, n_daily = 0, n_dev = 0;
    float oof_accuracy = 0.0f;  // fused, out-of-fold, at the chosen threshold
    float oof_classifier_accuracy = 0.0f;
    float train_accuracy = 0.0f;  // final model on train
    float dev_accuracy = -1.0f;   // final model on dev (-1 without dev)
    float dev_log_loss = -1.0f;
    std::string reliability_source;  // "dev" or "out-of-fold"
    std::vector<ReliabilityBin> reliability;
};

struct FitResult {
    RouterModel model;
    FitReport report;
};

Result<FitResult> fit_router(const std::vector<LabeledText>& train, const std::vector<LabeledText>& dev,
                             const KeywordSet& keywords, const FitOptions& options);

std::vector<ReliabilityBin> reliability_table(const std::vector<float>& probability, const std::vector<bool>& expert,
                                              int n_bins = 10);

struct CategoryScore {
    std::string name;
    int n = 0, correct = 0;
    bool group = false;  // an aggregate of categories sharing the prefix before '-'
};

struct EvalResult {
    int n = 0, correct = 0;
    int confusion[2][2] = {};               // [label][routed], index 0 expert, 1 daily
    std::vector<CategoryScore> categories;  // sorted by name; groups follow their members' prefix
    double p50_us = 0.0, p99_us = 0.0, max_us = 0.0;
    std::vector<int> misrouted;      // indices into the data
    std::vector<Role> routed;        // per message
    std::vector<float> probability;  // per message
};

EvalResult evaluate(const Router& router, const std::vector<LabeledText>& data);

}  // namespace duet::router
