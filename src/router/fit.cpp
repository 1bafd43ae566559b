// fit.cpp: cross-fitted classifier, Newton fusion fit, threshold choice, reliability table, evaluation.
#include "router/fit.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <map>

#include "router/ngram_features.h"
#include "router/text_scan.h"

namespace duet::router {

namespace {

struct Prepared {
    std::vector<std::vector<uint32_t>> ngrams;
    std::vector<KeywordScores> keywords;
    std::vector<ScriptStats> script;
    std::vector<bool> expert;
};

Prepared prepare(const std::vector<LabeledText>& data, const KeywordSet& keywords) {
    Prepared p;
    for (const auto& t : data) {
        const ScanWindow w = make_scan_window(t.text);
        p.ngrams.emplace_back();
        extract_ngram_features(w.text, p.ngrams.back());
        p.keywords.push_back(keywords.match(w.text));
        p.script.push_back(compute_script_stats(w.text));
        p.expert.push_back(t.label == Role::expert);
    }
    return p;
}

constexpr int kParams = kNumFusionFeatures + 1;  // bias first

// Solves A x = b (n x n, row-major) by Gaussian elimination with partial pivoting; A is positive definite here.
std::array<double, kParams> solve(std::array<double, kParams * kParams> a, std::array<double, kParams> b) {
    for (int c = 0; c < kParams; ++c) {
        int pivot = c;
        for (int r = c + 1; r < kParams; ++r)
            if (std::fabs(a[r * kParams + c]) > std::fabs(a[pivot * kParams + c])) pivot = r;
        if (pivot != c) {
            for (int k = 0; k < kParams; ++k) std::swap(a[c * kParams + k], a[pivot * kParams + k]);
            std::swap(b[c], b[pivot]);
        }
        const double d = a[c * kParams + c];
        for (int r = c + 1; r < kParams; ++r) {
            const double f = a[r * kParams + c] / d;
            if (f == 0.0) continue;
            for (int k = c; k < kParams; ++k) a[r * kParams + k] -= f * a[c * kParams + k];
            b[r] -= f * b[c];
        }
    }
    std::array<double, kParams> x{};
    for (int r = kParams - 1; r >= 0; --r) {
        double s = b[r];
        for (int k = r + 1; k < kParams; ++k) s -= a[r * kParams + k] * x[k];
        x[r] = s / a[r * kParams + r];
    }
    return x;
}

// L2-regularised logistic regression (bias unpenalised) by Newton's method.
std::array<double, kParams> fit_fusion(const std::vector<FusionVector>& x, const std::vector<bool>& y, double l2) {
    std::array<double, kParams> w{};
    for (int iter = 0; iter < 50; ++iter) {
        std::array<double, kParams * kParams> h{};
        std::array<double, kParams> g{};
        for (size_t i = 0; i < x.size(); ++i) {
            std::array<double, kParams> xi{};
            xi[0] = 1.0;
            for (int k = 0; k < kNumFusionFeatures; ++k) xi[k + 1] = x[i][k];
            double z = 0.0;
            for (int k = 0; k < kParams; ++k) z += w[k] * xi[k];
            const double p = 1.0 / (1.0 + std::exp(-z));
            const double r = (y[i] ? 1.0 : 0.0) - p;
            const double s = std::max(p * (1.0 - p), 1e-9);
            for (int a = 0; a < kParams; ++a) {
                g[a] += r * xi[a];
                for (int b = 0; b < kParams; ++b) h[a * kParams + b] += s * xi[a] * xi[b];
            }
        }
        for (int a = 1; a < kParams; ++a) {
            g[a] -= l2 * w[a];
            h[a * kParams + a] += l2;
        }
        h[0] += 1e-9;
        const auto step = solve(h, g);
        double change = 0.0;
        for (int k = 0; k < kParams; ++k) {
            w[k] += step[k];
            change = std::max(change, std::fabs(step[k]));
        }
        if (change < 1e-10) break;
    }
    return w;
}

float accuracy_at(const std::vector<float>& p, const std::vector<bool>& y, float threshold) {
    int ok = 0;
    for (size_t i = 0; i < p.size(); ++i) ok += ((p[i] >= threshold) == y[i]);
    return p.empty() ? 0.0f : static_cast<float>(ok) / static_cast<float>(p.size());
}

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1);
    return v[i];
}

}  // namespace

std::vector<ReliabilityBin> reliability_table(const std::vector<float>& probability, const std::vector<bool>& expert,
                                              int n_bins) {
    std::vector<ReliabilityBin> bins(n_bins);
    std::vector<double> sum_p(n_bins, 0.0), sum_y(n_bins, 0.0);
    for (int b = 0; b < n_bins; ++b) {
        bins[b].lo = static_cast<float>(b) / static_cast<float>(n_bins);
        bins[b].hi = static_cast<float>(b + 1) / static_cast<float>(n_bins);
    }
    for (size_t i = 0; i < probability.size(); ++i) {
        const int b = std::clamp(static_cast<int>(probability[i] * static_cast<float>(n_bins)), 0, n_bins - 1);
        ++bins[b].count;
        sum_p[b] += probability[i];
        sum_y[b] += expert[i] ? 1.0 : 0.0;
    }
    for (int b = 0; b < n_bins; ++b)
        if (bins[b].count > 0) {
            bins[b].mean_predicted = static_cast<float>(sum_p[b] / bins[b].count);
            bins[b].observed_expert = static_cast<float>(sum_y[b] / bins[b].count);
        }
    return bins;
}

Result<FitResult> fit_router(const std::vector<LabeledText>& train, const std::vector<LabeledText>& dev,
                             const KeywordSet& keywords, const FitOptions& options) {
    FitResult result;
    FitReport& rep = result.report;
    rep.n_train = static_cast<int>(train.size());
    for (const auto& t : train) (t.label == Role::expert ? rep.n_expert : rep.n_daily) += 1;
    rep.n_dev = static_cast<int>(dev.size());
    if (rep.n_expert == 0 || rep.n_daily == 0)
        return Status::invalid_argument("route fit: training data needs both labels (expert %d, daily %d)",
                                        rep.n_expert, rep.n_daily);
    const int folds = std::max(2, options.folds);
    if (rep.n_train < folds) return Status::invalid_argument("route fit: %d messages for %d folds", rep.n_train, folds);

    const Prepared p = prepare(train, keywords);
    const auto n = static_cast<uint32_t>(train.size());

    // 1. Out-of-fold classifier logits.
    SplitMix64 rng{options.seed};
    const std::vector<uint32_t> order = shuffled_indices(n, rng);
    std::vector<int> fold_of(n);
    for (uint32_t i = 0; i < n; ++i) fold_of[order[i]] = static_cast<int>(i % folds);
    std::vector<float> oof_logit(n, 0.0f);
    for (int f = 0; f < folds; ++f) {
        std::vector<std::vector<uint32_t>> x;
        std::vector<bool> y;
        for (uint32_t i = 0; i < n; ++i)
            if (fold_of[i] != f) {
                x.push_back(p.ngrams[i]);
                y.push_back(p.expert[i]);
            }
        ClassifierTrainOptions co = options.classifier;
        co.seed = options.seed + 1 + static_cast<uint64_t>(f);
        const NgramClassifier c = train_classifier(x, y, co);
        for (uint32_t i = 0; i < n; ++i)
            if (fold_of[i] == f) oof_logit[i] = c.logit(p.ngrams[i]);
    }

    // 2. Fusion on out-of-fold inputs.
    std::vector<FusionVector> fx(n);
    int clf_ok = 0;
    for (uint32_t i = 0; i < n; ++i) {
        fx[i] = fusion_inputs(oof_logit[i], p.keywords[i], p.script[i], nullptr);
        clf_ok += ((oof_logit[i] >= 0.0f) == p.expert[i]);
    }
    rep.oof_classifier_accuracy = static_cast<float>(clf_ok) / static_cast<float>(n);
    const auto w = fit_fusion(fx, p.expert, options.fusion_l2);
    RouterModel& m = result.model;
    m.fusion_bias = static_cast<float>(w[0]);
    for (int k = 0; k < kNumFusionFeatures; ++k) m.fusion_weights[k] = static_cast<float>(w[k + 1]);
    m.keywords_fingerprint = keywords.fingerprint();

    // 3. Threshold.
    std::vector<float> oof_p(n);
    for (uint32_t i = 0; i < n; ++i) oof_p[i] = m.probability(fx[i]);
    float best_t = 0.5f, best_acc = -1.0f;
    for (int step = 5; step <= 95; ++step) {
        const float t = static_cast<float>(step) / 100.0f;
        const float acc = accuracy_at(oof_p, p.expert, t);
        if (acc > best_acc || (acc == best_acc && std::fabs(t - 0.5f) < std::fabs(best_t - 0.5f))) {
            best_acc = acc;
            best_t = t;
        }
    }
    m.threshold = best_t;
    rep.oof_accuracy = best_acc;

    // 4. Final classifier on everything.
    ClassifierTrainOptions co = options.classifier;
    co.seed = options.seed;
    m.classifier = train_classifier(p.ngrams, p.expert, co);

    // Report.
    int train_ok = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const FusionVector x = fusion_inputs(m.classifier.logit(p.ngrams[i]), p.keywords[i], p.script[i], nullptr);
        train_ok += ((m.probability(x) >= m.threshold) == p.expert[i]);
    }
    rep.train_accuracy = static_cast<float>(train_ok) / static_cast<float>(n);
    if (!dev.empty()) {
        const Prepared d = prepare(dev, keywords);
        std::vector<float> dp(dev.size());
        int ok = 0;
        double loss = 0.0;
        for (size_t i = 0; i < dev.size(); ++i) {
            const FusionVector x = fusion_inputs(m.classifier.logit(d.ngrams[i]), d.keywords[i], d.script[i], nullptr);
            dp[i] = m.probability(x);
            ok += ((dp[i] >= m.threshold) == d.expert[i]);
            const double q = std::clamp(static_cast<double>(dp[i]), 1e-7, 1.0 - 1e-7);
            loss -= d.expert[i] ? std::log(q) : std::log(1.0 - q);
        }
        rep.dev_accuracy = static_cast<float>(ok) / static_cast<float>(dev.size());
        rep.dev_log_loss = static_cast<float>(loss / static_cast<double>(dev.size()));
        rep.reliability_source = "dev";
        rep.reliability = reliability_table(dp, d.expert);
    } else {
        rep.reliability_source = "out-of-fold";
        rep.reliability = reliability_table(oof_p, p.expert);
    }
    return result;
}

EvalResult evaluate(const Router& router, const std::vector<LabeledText>& data) {
    EvalResult r;
    std::map<std::string, CategoryScore> cats, groups;
    std::vector<double> lat_us;
    for (size_t i = 0; i < data.size(); ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const Decision d = router.decide(data[i].text);
        const auto t1 = std::chrono::steady_clock::now();
        lat_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        const bool ok = d.role == data[i].label;
        ++r.n;
        r.correct += ok;
        ++r.confusion[data[i].label == Role::expert ? 0 : 1][d.role == Role::expert ? 0 : 1];
        if (!ok) r.misrouted.push_back(static_cast<int>(i));
        r.routed.push_back(d.role);
        r.probability.push_back(d.probability);
        const std::string& c = data[i].category.empty() ? std::string("(none)") : data[i].category;
        auto& cs = cats[c];
        cs.name = c;
        ++cs.n;
        cs.correct += ok;
        const size_t dash = c.find('-');
        if (dash != std::string::npos) {
            auto& g = groups[c.substr(0, dash)];
            g.name = c.substr(0, dash) + "-*";
            g.group = true;
            ++g.n;
            g.correct += ok;
        }
    }
    std::map<std::string, int> members;
    for (const auto& [name, cs] : cats) {
        const size_t dash = name.find('-');
        if (dash != std::string::npos) ++members[name.substr(0, dash)];
    }
    for (const auto& [name, cs] : cats) {
        r.categories.push_back(cs);
    }
    for (const auto& [prefix, g] : groups)
        if (members[prefix] > 1) r.categories.push_back(g);
    std::sort(r.categories.begin(), r.categories.end(),
              [](const CategoryScore& a, const CategoryScore& b) { return a.name < b.name; });
    r.p50_us = percentile(lat_us, 0.50);
    r.p99_us = percentile(lat_us, 0.99);
    r.max_us = lat_us.empty() ? 0.0 : *std::max_element(lat_us.begin(), lat_us.end());
    return r;
}

}  // namespace duet::router
