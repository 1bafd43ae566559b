// cmd_route.cpp: `duet route` (explain one message), `duet route eval` (labelled JSONL -> accuracy, confusion,
// per-category accuracy, latency) and `duet route fit` (train the router model from labelled JSONL).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "app/commands.h"
#include "app/model_args.h"
#include "app/route_embedder.h"
#include "app/route_text.h"
#include "openai/route_json.h"
#include "common/strformat.h"
#include "router/fit.h"
#include "router/router.h"

namespace duet::app {

namespace {

void usage(FILE* out) {
    std::fprintf(
        out,
        "usage: duet route [--config KEYWORDS.txt] [--model ROUTER.bin] [--embed-model F.gguf] [--json]\n"
        "                  [--conversation expert|daily --cached-tokens N] -- TEXT...\n"
        "       duet route eval --data F.jsonl [--config F] [--model F] [--show-errors]\n"
        "       duet route fit --data TRAIN.jsonl [--dev DEV.jsonl] [--config F] [--seed N] -o ROUTER.bin\n\n"
        "Routes TEXT (the arguments after '--', joined by spaces) to the expert or the daily model and explains\n"
        "why: matched keywords, script ratios, classifier probability, fusion, tie-break and stickiness.\n\n"
        "  --config FILE      keyword list (default: the built-in data/router/keywords.txt)\n"
        "  --model FILE       router model (default: the built-in data/router/router.bin)\n"
        "  --embed-model F    BERT-family GGUF encoder for the embedding signal (exemplars: every 4th message of\n"
        "                     the built-in training corpus; shown as evidence, fusion weight from the model)\n"
        "  --json             print exactly the decision object on one line\n"
        "  --conversation R   the conversation's current role (stickiness), with --cached-tokens N\n\n"
        "eval: JSONL lines {\"text\": ..., \"label\": \"expert\"|\"daily\", \"category\": ...} (category optional);\n"
        "      prints accuracy, the confusion matrix, per-category accuracy and p50/p99 decision latency.\n"
        "fit:  trains the n-gram classifier and fusion (5-fold cross-fitting, seed 1) and writes the model;\n"
        "      the same data, keyword list and seed give the same bytes.\n\n"
        "Exit status: 0 on success; 1 with 'error: <message>' on stderr otherwise.\n");
}

int fail(const std::string& message) {
    std::fprintf(stderr, "error: %s\n", message.c_str());
    return 1;
}

// Reads labelled JSONL; errors name the file and line.
Result<std::vector<router::LabeledText>> read_jsonl(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::io_error("cannot read '%s'", path.c_str());
    std::vector<router::LabeledText> out;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto bad = [&](const std::string& why) {
            return Status::invalid_data("%s:%d: %s", path.c_str(), line_no, why.c_str());
        };
        const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
        if (!j.contains("text") || !j["text"].is_string()) return bad("\"text\" must be a string");
        if (!j.contains("label") || !j["label"].is_string()) return bad("\"label\" must be \"expert\" or \"daily\"");
        const auto role = router::parse_role(j["label"].get<std::string>());
        if (!role)
            return bad("\"label\" must be \"expert\" or \"daily\", got \"" + j["label"].get<std::string>() + "\"");
        router::LabeledText t;
        t.text = j["text"].get<std::string>();
        t.label = *role;
        if (j.contains("category")) {
            if (!j["category"].is_string()) return bad("\"category\" must be a string");
            t.category = j["category"].get<std::string>();
        }
        out.push_back(std::move(t));
    }
    if (out.empty()) return Status::invalid_data("%s: no labelled messages", path.c_str());
    return out;
}

struct Options {
    std::string config, model, embed_model, data, dev, output;
    bool json = false, show_errors = false, have_text = false;
    std::string conversation;
    long long cached_tokens = 0;
    unsigned long long seed = 1;
    std::string text;
};

// Parses argv from `first`; returns an error message or empty.
std::string parse_options(int argc, char** argv, int first, Options& o) {
    for (int i = first; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            for (int j = i + 1; j < argc; ++j) {
                if (j > i + 1) o.text += ' ';
                o.text += argv[j];
            }
            o.have_text = true;
            return "";
        }
        auto value = [&](std::string& dst) -> bool {
            if (i + 1 >= argc) return false;
            dst = argv[++i];
            return true;
        };
        std::string number;
        bool ok = true;
        if (arg == "--config") ok = value(o.config);
        else if (arg == "--model") ok = value(o.model);
        else if (arg == "--embed-model") ok = value(o.embed_model);
        else if (arg == "--data") ok = value(o.data);
        else if (arg == "--dev") ok = value(o.dev);
        else if (arg == "-o" || arg == "--output") ok = value(o.output);
        else if (arg == "--conversation") ok = value(o.conversation);
        else if (arg == "--json") o.json = true;
        else if (arg == "--show-errors") o.show_errors = true;
        else if (arg == "--cached-tokens" || arg == "--seed") {
            ok = value(number);
            if (ok) {
                char* end = nullptr;
                const unsigned long long v = std::strtoull(number.c_str(), &end, 10);
                if (number.empty() || *end != '\0' || number[0] == '-')
                    return std::string(arg) + " needs a non-negative integer, got '" + number + "'";
                if (arg == "--seed") o.seed = v;
                else o.cached_tokens = static_cast<long long>(v);
            }
        } else return "route: unknown argument '" + std::string(arg) + "' (text goes after '--'; see --help)";
        if (!ok) return std::string(arg) + " needs a value";
    }
    return "";
}

Result<router::Router> make_router(const Options& o) {
    auto rt = router::Router::create(o.config, o.model);
    if (!rt.ok() || o.embed_model.empty()) return rt;
    DUET_TRY(router::Embedder embedder, load_encoder_embedder(o.embed_model, default_threads()));
    auto signal = router::EmbeddingSignal::build(std::move(embedder), builtin_exemplars(), 5);
    if (!signal.ok()) return signal.status().with_context("route: --embed-model '" + o.embed_model + "': ");
    rt->attach_embedding(std::move(signal).value());
    return rt;
}

int run_explain(const Options& o) {
    if (!o.have_text) return fail("route: no text; pass it after '--'");
    auto rt = make_router(o);
    if (!rt.ok()) return fail(rt.status().message());
    router::ConversationState conv;
    const router::ConversationState* conv_ptr = nullptr;
    if (!o.conversation.empty()) {
        const auto role = router::parse_role(o.conversation);
        if (!role) return fail("route: --conversation must be expert or daily, got '" + o.conversation + "'");
        conv.role = *role;
        conv.cached_tokens = o.cached_tokens;
        conv_ptr = &conv;
    }
    const router::Decision d = rt->decide(o.text, conv_ptr);
    const std::string out = o.json ? openai::decision_json(*rt, d, "auto", "").dump() + "\n" : decision_text(*rt, d);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

std::string one_line(const std::string& text, size_t max_bytes) {
    std::string s;
    for (char c : text) s += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    if (s.size() <= max_bytes) return s;
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return s.substr(0, cut) + "...";
}

int run_eval(const Options& o) {
    if (o.data.empty()) return fail("route eval: --data F.jsonl is required");
    auto data = read_jsonl(o.data);
    if (!data.ok()) return fail("route eval: " + data.status().message());
    auto rt = make_router(o);
    if (!rt.ok()) return fail(rt.status().message());
    const router::EvalResult r = router::evaluate(*rt, *data);
    std::string out =
        strformat("messages: %d   accuracy: %.2f%% (%d/%d)\n\n", r.n, 100.0 * r.correct / r.n, r.correct, r.n);
    out += "confusion (rows: label, columns: routed)\n";
    out += strformat("  %-8s %8s %8s\n", "", "expert", "daily");
    out += strformat("  %-8s %8d %8d\n", "expert", r.confusion[0][0], r.confusion[0][1]);
    out += strformat("  %-8s %8d %8d\n\n", "daily", r.confusion[1][0], r.confusion[1][1]);
    out += strformat("  %-26s %6s %9s\n", "category", "n", "accuracy");
    for (const auto& c : r.categories)
        out += strformat("  %-26s %6d %8.1f%%\n", (c.group ? c.name + " (all)" : c.name).c_str(), c.n,
                         100.0 * c.correct / c.n);
    out += strformat("\nlatency per decision: p50 %.1f us, p99 %.1f us, max %.1f us\n", r.p50_us, r.p99_us, r.max_us);
    out += strformat("router memory: %s\n", format_bytes(static_cast<double>(rt->memory_bytes())).c_str());
    if (o.show_errors && !r.misrouted.empty()) {
        out += "\nmisrouted:\n";
        for (int i : r.misrouted) {
            const auto& t = (*data)[i];
            out +=
                strformat("  label %-6s routed %-6s P=%.3f  [%s] %s\n", std::string(router::role_name(t.label)).c_str(),
                          std::string(router::role_name(r.routed[i])).c_str(), r.probability[i], t.category.c_str(),
                          one_line(t.text, 100).c_str());
        }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

int run_fit(const Options& o) {
    if (o.data.empty()) return fail("route fit: --data TRAIN.jsonl is required");
    if (o.output.empty()) return fail("route fit: -o ROUTER.bin is required");
    auto train = read_jsonl(o.data);
    if (!train.ok()) return fail("route fit: " + train.status().message());
    std::vector<router::LabeledText> dev;
    if (!o.dev.empty()) {
        auto d = read_jsonl(o.dev);
        if (!d.ok()) return fail("route fit: " + d.status().message());
        dev = std::move(d).value();
    }
    if (!o.embed_model.empty())
        return fail(
            "route fit: --embed-model is not supported by fit yet (the shipped fusion gives the embedding "
            "signal weight 0; duet route --embed-model shows it as evidence)");
    Result<router::KeywordSet> kw =
        o.config.empty() ? router::KeywordSet::parse(router::builtin_keywords_text(), "<built-in keywords.txt>")
                         : router::KeywordSet::load_file(o.config);
    if (!kw.ok()) return fail(kw.status().message());
    router::FitOptions fo;
    fo.seed = o.seed;
    auto fit = router::fit_router(*train, dev, *kw, fo);
    if (!fit.ok()) return fail(fit.status().message());
    const router::FitReport& rep = fit->report;
    const router::RouterModel& m = fit->model;
    std::string out = strformat("train: %d messages (expert %d, daily %d); dev: %d\n", rep.n_train, rep.n_expert,
                                rep.n_daily, rep.n_dev);
    out += strformat("out-of-fold accuracy: classifier alone %.2f%%, fused %.2f%%\n", 100 * rep.oof_classifier_accuracy,
                     100 * rep.oof_accuracy);
    out += strformat("train accuracy: %.2f%%\n", 100 * rep.train_accuracy);
    if (rep.dev_accuracy >= 0)
        out += strformat("dev accuracy: %.2f%%   dev log-loss: %.4f\n", 100 * rep.dev_accuracy, rep.dev_log_loss);
    out += strformat("\nfusion: P(expert) = sigmoid(%+.4f", m.fusion_bias);
    for (int i = 0; i < router::kNumFusionFeatures; ++i)
        out += strformat("\n          %+.4f * %s", m.fusion_weights[i],
                         std::string(router::fusion_feature_name(i)).c_str());
    out += strformat(")\nthreshold: %.2f (expert when P >= threshold)\n", m.threshold);
    int nonzero = 0;
    for (float w : m.classifier.weights) nonzero += (w != 0.0f);
    out += strformat("classifier: %d non-zero of %u hashed n-gram weights, bias %+.4f\n", nonzero,
                     router::kFeatureBuckets, m.classifier.bias);
    out += strformat("\nreliability (%s): predicted P(expert) against the observed share of expert labels\n",
                     rep.reliability_source.c_str());
    out += strformat("  %-11s %6s %10s %10s\n", "bin", "n", "predicted", "observed");
    for (const auto& b : rep.reliability) {
        if (b.count == 0) out += strformat("  [%.1f, %.1f) %6d %10s %10s\n", b.lo, b.hi, 0, "-", "-");
        else
            out += strformat("  [%.1f, %.1f) %6d %10.3f %10.3f\n", b.lo, b.hi, b.count, b.mean_predicted,
                             b.observed_expert);
    }
    const std::string bytes = router::serialize_router_model(m);
    std::ofstream f(o.output, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(bytes.data(), static_cast<std::streamsize>(bytes.size())))
        return fail("route fit: cannot write '" + o.output + "'");
    out += strformat("\nwrote %s (%zu bytes)\n", o.output.c_str(), bytes.size());
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

}  // namespace

int cmd_route(int argc, char** argv) {
    std::string_view sub = argc > 1 ? argv[1] : "";
    if (sub == "-h" || sub == "--help") {
        usage(stdout);
        return 0;
    }
    const bool is_eval = sub == "eval", is_fit = sub == "fit";
    Options o;
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "-h" || std::string_view(argv[i]) == "--help") {
            usage(stdout);
            return 0;
        } else if (std::string_view(argv[i]) == "--") {
            break;
        }
    const std::string err = parse_options(argc, argv, (is_eval || is_fit) ? 2 : 1, o);
    if (!err.empty()) return fail(err);
    if (is_eval) return run_eval(o);
    if (is_fit) return run_fit(o);
    return run_explain(o);
}

}  // namespace duet::app
