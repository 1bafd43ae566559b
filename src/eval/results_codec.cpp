// results_codec.cpp: results.json (written by `duet eval run`, read back by `duet eval compare`).
#include <nlohmann/json.hpp>

#include "eval/results.h"

namespace duet::eval {

using nlohmann::json;

namespace {

json item_to_json(const ItemResult& item) {
    json j = {{"suite", item.suite},         {"kind", item.kind},     {"id", item.id},
              {"passed", item.passed},       {"scores", item.scores}, {"notes", item.notes},
              {"transcript", json::array()}, {"calls", json::array()}};
    if (!item.error.empty()) j["error"] = item.error;
    for (const Message& m : item.transcript) j["transcript"].push_back({{"role", m.role}, {"content", m.content}});
    for (const CallTiming& c : item.calls) {
        json call = {{"ttft", c.ttft_seconds},
                     {"total", c.total_seconds},
                     {"intervals", c.chunk_intervals},
                     {"chars", c.chunk_chars}};
        if (c.prompt_tokens >= 0) call["prompt_tokens"] = c.prompt_tokens;
        if (c.completion_tokens >= 0) call["completion_tokens"] = c.completion_tokens;
        j["calls"].push_back(std::move(call));
    }
    return j;
}

ItemResult item_from_json(const json& j) {
    ItemResult item;
    item.suite = j.value("suite", "");
    item.kind = j.value("kind", "");
    item.id = j.value("id", "");
    item.error = j.value("error", "");
    item.passed = j.value("passed", false);
    if (j.contains("scores")) item.scores = j["scores"].get<std::map<std::string, double>>();
    if (j.contains("notes")) item.notes = j["notes"].get<std::vector<std::string>>();
    if (j.contains("transcript"))
        for (const json& m : j["transcript"]) item.transcript.push_back({m.value("role", ""), m.value("content", "")});
    if (j.contains("calls"))
        for (const json& c : j["calls"]) {
            CallTiming t;
            t.ttft_seconds = c.value("ttft", -1.0);
            t.total_seconds = c.value("total", 0.0);
            t.chunk_intervals = c.value("intervals", std::vector<double>{});
            t.chunk_chars = c.value("chars", std::vector<int>{});
            t.prompt_tokens = c.value("prompt_tokens", -1);
            t.completion_tokens = c.value("completion_tokens", -1);
            item.calls.push_back(std::move(t));
        }
    return item;
}

}  // namespace

std::string results_to_json(const RunResults& results) {
    json j = {{"suites", results.suites},
              {"seed", results.seed},
              {"complete", results.complete},
              {"tokens_per_estimated", results.tokens_per_estimated},
              {"lengths_fitted_with", results.lengths_fitted_with},
              {"targets", json::array()}};
    for (const TargetResults& t : results.targets) {
        json target = {{"name", t.name},
                       {"url", t.url},
                       {"model", t.model},
                       {"dimensions", t.dimensions},
                       {"choice_method", t.choice_method},
                       {"items", json::array()}};
        for (const ItemResult& item : t.items) target["items"].push_back(item_to_json(item));
        j["targets"].push_back(std::move(target));
    }
    if (results.has_judge) {
        const JudgeResults& judge = results.judge;
        json jj = {{"url", judge.url},           {"model", judge.model},
                   {"target_a", judge.target_a}, {"target_b", judge.target_b},
                   {"wins_a", judge.wins_a},     {"wins_b", judge.wins_b},
                   {"ties", judge.ties},         {"inconsistent", judge.inconsistent},
                   {"verdicts", json::array()}};
        for (const JudgeVerdict& v : judge.verdicts)
            jj["verdicts"].push_back({{"item", v.item},
                                      {"first", v.first},
                                      {"swapped", v.swapped},
                                      {"outcome", v.outcome},
                                      {"inconsistent", v.inconsistent}});
        j["judge"] = std::move(jj);
    }
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<RunResults> results_from_json(const std::string& text, const std::string& source) {
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("targets") || !j["targets"].is_array())
        return Status::invalid_data("%s: not a duet eval results.json (no \"targets\" array)", source.c_str());
    RunResults results;
    try {
        results.suites = j.value("suites", std::vector<std::string>{});
        results.seed = j.value("seed", uint64_t(0));
        results.complete = j.value("complete", true);
        if (j.contains("tokens_per_estimated") && j["tokens_per_estimated"].is_object())
            results.tokens_per_estimated = j["tokens_per_estimated"].get<std::map<std::string, double>>();
        results.lengths_fitted_with = j.value("lengths_fitted_with", 1.0);
        for (const json& t : j["targets"]) {
            TargetResults target;
            target.name = t.value("name", "");
            target.url = t.value("url", "");
            target.model = t.value("model", "");
            target.choice_method = t.value("choice_method", "");
            if (t.contains("dimensions")) target.dimensions = t["dimensions"].get<std::map<std::string, double>>();
            if (t.contains("items"))
                for (const json& item : t["items"]) target.items.push_back(item_from_json(item));
            results.targets.push_back(std::move(target));
        }
    } catch (const json::exception& e) {
        return Status::invalid_data("%s: %s", source.c_str(), e.what());
    }
    return results;
}

}  // namespace duet::eval
