// suite_codec.cpp: JSONL suite files -> native structs (the only JSON in src/eval besides the task codec).
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "eval/long_context.h"
#include "eval/rules.h"
#include "eval/suite.h"

namespace duet::eval {

namespace {

using json = nlohmann::ordered_json;  // entities keep the file's order

const struct {
    const char* name;
    CheckKind kind;
} kCheckNames[] = {
    {"mention", CheckKind::mention},
    {"not_mention", CheckKind::not_mention},
    {"regex", CheckKind::regex},
    {"not_regex", CheckKind::not_regex},
    {"refers_back", CheckKind::refers_back},
    {"resolves", CheckKind::resolves},
    {"on_task", CheckKind::on_task},
    {"asks_question", CheckKind::asks_question},
    {"refuses", CheckKind::refuses},
    {"not_refuses", CheckKind::not_refuses},
    {"max_ai_speak", CheckKind::max_ai_speak},
};

// Errors while reading one object: the message gets "file:line: " in front in parse_suite.
struct Bad {
    std::string reason;
};

std::string type_name(const json& j) { return j.type_name(); }

const json& field(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end()) throw Bad{strformat("missing field '%s'", key)};
    return *it;
}

std::string string_field(const json& obj, const char* key, bool required = true) {
    auto it = obj.find(key);
    if (it == obj.end()) {
        if (required) throw Bad{strformat("missing field '%s'", key)};
        return "";
    }
    if (!it->is_string()) throw Bad{strformat("field '%s' must be a string, not %s", key, type_name(*it).c_str())};
    return it->get<std::string>();
}

int int_field(const json& obj, const char* key, int fallback, int low, int high) {
    auto it = obj.find(key);
    if (it == obj.end()) return fallback;
    if (!it->is_number_integer()) throw Bad{strformat("field '%s' must be an integer", key)};
    const int64_t v = it->get<int64_t>();
    if (v < low || v > high)
        throw Bad{strformat("field '%s' = %lld is outside [%d, %d]", key, static_cast<long long>(v), low, high)};
    return static_cast<int>(v);
}

std::vector<std::string> strings(const json& j, const char* what) {
    if (!j.is_array()) throw Bad{strformat("'%s' must be an array of strings", what)};
    std::vector<std::string> out;
    for (const json& s : j) {
        if (!s.is_string() || s.get<std::string>().empty())
            throw Bad{strformat("'%s' must hold non-empty strings", what)};
        out.push_back(s.get<std::string>());
    }
    return out;
}

// A term is "word" or ["word", "synonym", ...].
std::vector<Term> terms(const json& j, const char* what) {
    if (!j.is_array() || j.empty()) throw Bad{strformat("'%s' must be a non-empty array", what)};
    std::vector<Term> out;
    for (const json& t : j) {
        if (t.is_string() && !t.get<std::string>().empty()) out.push_back({{t.get<std::string>()}});
        else if (t.is_array() && !t.empty()) out.push_back({strings(t, what)});
        else throw Bad{strformat("'%s' holds a term that is neither a string nor a list of synonyms", what)};
    }
    return out;
}

std::vector<Entity> entities(const json& obj) {
    std::vector<Entity> out;
    auto it = obj.find("entities");
    if (it == obj.end()) return out;
    if (!it->is_object()) throw Bad{"'entities' must be an object {id: [names...]}"};
    for (auto& [id, names] : it->items()) out.push_back({id, {strings(names, ("entities." + id).c_str())}});
    return out;
}

Check parse_check(const json& j, const std::vector<Entity>& known, int turn_index) {
    if (!j.is_object()) throw Bad{"a check must be an object"};
    const std::string name = string_field(j, "check");
    Check c;
    bool found = false;
    for (const auto& k : kCheckNames)
        if (name == k.name) {
            c.kind = k.kind;
            found = true;
        }
    if (!found) throw Bad{"unknown check '" + name + "'"};
    auto need_entity = [&](const std::string& id) {
        if (!find_entity(known, id)) throw Bad{"unknown entity '" + id + "'"};
    };
    switch (c.kind) {
        case CheckKind::mention:
        case CheckKind::not_mention:
            c.terms = terms(field(j, "any"), "any");
            c.min = int_field(j, "min", 1, 1, static_cast<int>(c.terms.size()));
            break;
        case CheckKind::regex:
        case CheckKind::not_regex: {
            c.pattern = string_field(j, "pattern");
            std::string error;
            c.regex = compile_regex(c.pattern, &error);
            if (!c.regex) throw Bad{"pattern /" + c.pattern + "/ does not compile: " + error};
            c.min = int_field(j, "min", 1, 1, 1000);
            break;
        }
        case CheckKind::refers_back:
            c.turn = int_field(j, "turn", 0, 1, 1000) - 1;
            if (c.turn < 0 || c.turn >= turn_index)
                throw Bad{strformat("refers_back turn %d is not an earlier turn", c.turn + 1)};
            c.entity = string_field(j, "entity", false);
            if (!c.entity.empty()) need_entity(c.entity);
            c.min = int_field(j, "min", 1, 1, 1000);
            break;
        case CheckKind::resolves:
            c.pronoun = string_field(j, "pronoun");
            c.entity = string_field(j, "entity");
            need_entity(c.entity);
            if (j.contains("wrong")) c.wrong = strings(j.at("wrong"), "wrong");
            for (const std::string& w : c.wrong) need_entity(w);
            break;
        case CheckKind::on_task:
            c.terms = terms(field(j, "topic"), "topic");
            if (j.contains("off_topic")) c.off_topic = terms(j.at("off_topic"), "off_topic");
            break;
        case CheckKind::max_ai_speak:
            c.max = int_field(j, "max", 0, 0, 1000);
            break;
        case CheckKind::asks_question:
        case CheckKind::refuses:
        case CheckKind::not_refuses:
            break;
    }
    return c;
}

std::vector<Check> parse_checks(const json& obj, const char* key, const std::vector<Entity>& known, int turn_index,
                                const std::string& where) {
    std::vector<Check> out;
    auto it = obj.find(key);
    if (it == obj.end()) return out;
    if (!it->is_array()) throw Bad{where + "'" + key + "' must be an array"};
    for (size_t i = 0; i < it->size(); ++i) {
        try {
            out.push_back(parse_check((*it)[i], known, turn_index));
        } catch (const Bad& bad) {
            throw Bad{where + strformat("check %zu: ", i + 1) + bad.reason};
        }
    }
    return out;
}

Flow parse_flow(const json& j, const std::string& source) {
    Flow f;
    f.id = string_field(j, "id");
    f.title = string_field(j, "title", false);
    f.language = string_field(j, "language");
    f.probe = string_field(j, "probe", false);
    if (!f.probe.empty() && f.probe != "cold_start" && f.probe != "false_premise" && f.probe != "boundary" &&
        f.probe != "ai_speak")
        throw Bad{"unknown probe '" + f.probe + "' (cold_start, false_premise, boundary, ai_speak)"};
    f.entities = entities(j);
    f.source = source;
    const json& turns = field(j, "turns");
    if (!turns.is_array() || turns.empty()) throw Bad{"'turns' must be a non-empty array"};
    for (size_t t = 0; t < turns.size(); ++t) {
        const std::string where = strformat("turn %zu: ", t + 1);
        if (!turns[t].is_object()) throw Bad{where + "must be an object"};
        Turn turn;
        try {
            turn.user = string_field(turns[t], "user");
        } catch (const Bad& bad) {
            throw Bad{where + bad.reason};
        }
        turn.checks = parse_checks(turns[t], "checks", f.entities, static_cast<int>(t), where);
        f.turns.push_back(std::move(turn));
    }
    return f;
}

ClarifyDialogue parse_clarify(const json& j, const std::string& source) {
    ClarifyDialogue d;
    d.id = string_field(j, "id");
    d.language = string_field(j, "language");
    d.style = string_field(j, "style", false);
    d.opening = string_field(j, "opening");
    d.intent = string_field(j, "intent");
    d.fallback = string_field(j, "fallback", false);
    d.max_rounds = int_field(j, "max_rounds", 4, 1, 20);
    d.entities = entities(j);
    d.source = source;
    const json& facts = field(j, "facts");
    if (!facts.is_array() || facts.empty()) throw Bad{"'facts' must be a non-empty array"};
    for (size_t i = 0; i < facts.size(); ++i) {
        if (!facts[i].is_object()) throw Bad{strformat("fact %zu must be an object", i + 1)};
        Fact fact;
        fact.answer = string_field(facts[i], "answer");
        fact.cues = strings(field(facts[i], "cues"), "cues");
        d.facts.push_back(std::move(fact));
    }
    d.checks = parse_checks(j, "checks", d.entities, 0, "");
    if (d.checks.empty()) throw Bad{"'checks' must hold at least one check (how a good answer is recognised)"};
    return d;
}

}  // namespace

const Entity* find_entity(const std::vector<Entity>& entities, const std::string& id) {
    for (const Entity& e : entities)
        if (e.id == id) return &e;
    return nullptr;
}

const char* check_kind_name(CheckKind kind) {
    for (const auto& k : kCheckNames)
        if (k.kind == kind) return k.name;
    return "?";
}

Result<Suite> parse_suite(const std::string& text, const std::string& source) {
    Suite suite;
    std::set<std::string> ids;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        const size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        const std::string where = strformat("%s:%d", source.c_str(), number);
        try {
            const json j = json::parse(line);
            if (!j.is_object()) throw Bad{"a line must hold one JSON object"};
            const std::string kind = string_field(j, "kind");
            std::string id;
            if (kind == "flow") {
                suite.flows.push_back(parse_flow(j, where));
                id = suite.flows.back().id;
            } else if (kind == "clarify") {
                suite.clarifications.push_back(parse_clarify(j, where));
                id = suite.clarifications.back().id;
            } else if (kind == "longctx") {
                Result<LongContextSpec> spec = parse_long_context_line(line, where);
                if (!spec.ok()) return spec.status();
                suite.long_contexts.push_back(std::move(*spec));
                id = suite.long_contexts.back().id;
            } else {
                throw Bad{"unknown kind '" + kind + "' (flow, clarify, longctx)"};
            }
            if (!ids.insert(id).second) throw Bad{"duplicate id '" + id + "'"};
        } catch (const json::exception& e) {
            return Status::invalid_data("%s: invalid JSON: %s", where.c_str(), e.what());
        } catch (const Bad& bad) {
            return Status::invalid_data("%s: %s", where.c_str(), bad.reason.c_str());
        }
    }
    return suite;
}

Result<Suite> load_suite(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return Status::io_error("%s: cannot open", path.c_str());
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) return Status::io_error("%s: read error", path.c_str());
    return parse_suite(text.str(), path);
}

}  // namespace duet::eval
