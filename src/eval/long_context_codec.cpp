// long_context_codec.cpp: one suite line of kind "longctx" -> LongContextSpec, with every check that can be made
// before a request is sent (slots known, the question's and answer's slots come from the fact, a fact slot drawn
// from a list has another value for the filler to use).
#include <nlohmann/json.hpp>
#include <set>

#include "eval/long_context.h"

namespace duet::eval {
namespace {

using nlohmann::json;

struct Bad {
    std::string reason;
};

std::vector<std::string> slots_of(const std::string& tmpl) {
    std::vector<std::string> out;
    for (size_t open = tmpl.find('{'); open != std::string::npos; open = tmpl.find('{', open + 1)) {
        const size_t close = tmpl.find('}', open);
        if (close == std::string::npos) throw Bad{"unclosed '{' in \"" + tmpl + "\""};
        out.push_back(tmpl.substr(open + 1, close - open - 1));
    }
    return out;
}

std::string text_field(const json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty())
        throw Bad{std::string("\"") + key + "\" must be a non-empty string"};
    return j[key].get<std::string>();
}

std::vector<std::string> text_list(const json& j, const char* key) {
    if (!j.contains(key) || !j[key].is_array() || j[key].empty())
        throw Bad{std::string("\"") + key + "\" must be a non-empty array of strings"};
    std::vector<std::string> out;
    for (const json& v : j[key]) {
        if (!v.is_string() || v.get<std::string>().empty())
            throw Bad{std::string("\"") + key + "\" must hold non-empty strings"};
        out.push_back(v.get<std::string>());
    }
    return out;
}

LongContextSpec parse(const json& j) {
    LongContextSpec spec;
    spec.id = text_field(j, "id");
    if (j.contains("language")) spec.language = text_field(j, "language");
    if (spec.language != "en" && spec.language != "zh") throw Bad{"\"language\" must be en or zh"};
    if (j.contains("seed")) {
        if (!j["seed"].is_number_unsigned()) throw Bad{"\"seed\" must be a non-negative integer"};
        spec.seed = j["seed"].get<uint64_t>();
    }
    if (!j.contains("lengths") || !j["lengths"].is_array() || j["lengths"].empty())
        throw Bad{"\"lengths\" must be a non-empty array of token counts"};
    for (const json& v : j["lengths"]) {
        if (!v.is_number_integer() || v.get<int64_t>() < 100 || v.get<int64_t>() > 1000000)
            throw Bad{"\"lengths\" must hold integers in [100, 1000000]"};
        spec.lengths.push_back(int(v.get<int64_t>()));
    }
    if (!j.contains("positions") || !j["positions"].is_array() || j["positions"].empty())
        throw Bad{"\"positions\" must be a non-empty array of numbers in [0, 1]"};
    for (const json& v : j["positions"]) {
        if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1)
            throw Bad{"\"positions\" must hold numbers in [0, 1]"};
        spec.positions.push_back(v.get<double>());
    }
    spec.filler = text_list(j, "filler");
    if (j.contains("slots")) {
        if (!j["slots"].is_object()) throw Bad{"\"slots\" must be an object of name -> [values]"};
        for (const auto& [name, values] : j["slots"].items()) {
            if (name == "code" || name == "number") throw Bad{"slot '" + name + "' is generated; do not list values"};
            spec.slots[name] = text_list(j["slots"], name.c_str());
        }
    }
    spec.fact = text_field(j, "fact");
    spec.question = text_field(j, "question");
    spec.answer = text_list(j, "answer");
    if (j.contains("pipeline")) {
        if (!j["pipeline"].is_boolean()) throw Bad{"\"pipeline\" must be true or false"};
        spec.pipeline = j["pipeline"].get<bool>();
    }

    const auto known = [&](const std::string& slot) {
        return slot == "code" || slot == "number" || spec.slots.count(slot) > 0;
    };
    std::set<std::string> fact_slots, filler_slots;
    for (const std::string& s : slots_of(spec.fact)) {
        if (!known(s)) throw Bad{"fact: unknown slot '{" + s + "}'"};
        fact_slots.insert(s);
    }
    for (const std::string& f : spec.filler)
        for (const std::string& s : slots_of(f)) {
            if (!known(s)) throw Bad{"filler: unknown slot '{" + s + "}' in \"" + f + "\""};
            filler_slots.insert(s);
        }
    for (const std::string& s : slots_of(spec.question))
        if (!fact_slots.count(s)) throw Bad{"question: slot '{" + s + "}' is not in the fact"};
    for (const std::string& s : spec.answer)
        if (!fact_slots.count(s)) throw Bad{"answer: slot '" + s + "' is not in the fact"};
    for (const std::string& s : fact_slots)
        if (filler_slots.count(s) && spec.slots.count(s) && spec.slots[s].size() < 2)
            throw Bad{"slot '" + s + "' is in the fact and the filler: it needs at least two values"};
    return spec;
}

}  // namespace

Result<LongContextSpec> parse_long_context_line(const std::string& line, const std::string& where) {
    try {
        const json j = json::parse(line);
        LongContextSpec spec = parse(j);
        spec.source = where;
        return spec;
    } catch (const json::exception& e) {
        return Status::invalid_data("%s: invalid JSON: %s", where.c_str(), e.what());
    } catch (const Bad& bad) {
        return Status::invalid_data("%s: %s", where.c_str(), bad.reason.c_str());
    }
}

}  // namespace duet::eval
