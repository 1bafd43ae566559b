// scripted_model.cpp: script parsing, playback, and the scripted engine + byte codec (see scripted_model.h).
#include "server/scripted_model.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/strformat.h"

namespace duet::server::scripted {

namespace {

using json = nlohmann::json;
constexpr char kRecord = '\x1e', kUnit = '\x1f';

Status line_error(std::string_view file, int line, const std::string& reason) {
    return Status(StatusCode::invalid_argument,
                  strformat("%.*s:%d: %s", static_cast<int>(file.size()), file.data(), line, reason.c_str()));
}

Result<int> read_ms(const json& object, const char* key, int fallback, std::string_view file, int line) {
    if (!object.contains(key)) return fallback;
    const json& v = object.at(key);
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 60000)
        return line_error(file, line, strformat("'%s' must be a number of milliseconds in [0, 60000]", key));
    return static_cast<int>(v.get<double>());
}

void replace_all(std::string* text, std::string_view from, std::string_view to) {
    for (size_t at = text->find(from); at != std::string::npos; at = text->find(from, at + to.size()))
        text->replace(at, from.size(), to);
}

}  // namespace

const Rule* Script::pick(std::string_view last_user) const {
    for (const Rule& rule : rules) {
        switch (rule.kind) {
            case Rule::Kind::fallback:
                return &rule;
            case Rule::Kind::contains:
                if (last_user.find(rule.pattern) != std::string_view::npos) return &rule;
                break;
            case Rule::Kind::regex:
                if (std::regex_search(last_user.begin(), last_user.end(), rule.regex)) return &rule;
                break;
        }
    }
    return nullptr;
}

Result<Script> parse_script(std::string_view text, std::string_view file) {
    Script script;
    int line_number = 0;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++line_number;
        auto blank = [](char c) { return c == '\r' || c == ' ' || c == '\t'; };
        while (!line.empty() && blank(line.back())) line.remove_suffix(1);
        while (!line.empty() && blank(line.front())) line.remove_prefix(1);
        if (line.empty() || line.front() == '#') continue;
        json object;
        try {
            object = json::parse(line);
        } catch (const json::exception& e) {
            return line_error(file, line_number, strformat("not JSON: %s", e.what()));
        }
        if (!object.is_object()) return line_error(file, line_number, "each line must be a JSON object");
        Rule rule;
        rule.line = line_number;
        const int n_kinds =
            int(object.contains("contains")) + int(object.contains("match")) + int(object.contains("default"));
        if (n_kinds != 1) return line_error(file, line_number, "give exactly one of 'contains', 'match' or 'default'");
        auto string_field = [&](const char* key, std::string* out) -> Status {
            if (!object.contains(key)) return Status();
            if (!object.at(key).is_string())
                return line_error(file, line_number, strformat("'%s' must be a string", key));
            *out = object.at(key).get<std::string>();
            return Status();
        };
        if (object.contains("contains")) {
            rule.kind = Rule::Kind::contains;
            DUET_RETURN_IF_ERROR(string_field("contains", &rule.pattern));
        } else if (object.contains("match")) {
            rule.kind = Rule::Kind::regex;
            DUET_RETURN_IF_ERROR(string_field("match", &rule.pattern));
            try {
                rule.regex = std::regex(rule.pattern, std::regex::ECMAScript);
            } catch (const std::regex_error& e) {
                return line_error(file, line_number, strformat("bad regex '%s': %s", rule.pattern.c_str(), e.what()));
            }
        }
        if (!object.contains("reply")) return line_error(file, line_number, "'reply' is missing");
        DUET_RETURN_IF_ERROR(string_field("reply", &rule.reply));
        DUET_RETURN_IF_ERROR(string_field("reasoning", &rule.reasoning));
        DUET_TRY(rule.pace_ms, read_ms(object, "pace_ms", 20, file, line_number));
        DUET_TRY(rule.first_delay_ms, read_ms(object, "first_delay_ms", 0, file, line_number));
        if (object.contains("chunk")) {
            const json& c = object.at("chunk");
            if (c.is_string() && c.get<std::string>() == "word") {
                rule.chunk_bytes = 0;
            } else if (c.is_number_integer() && c.get<int64_t>() >= 1 && c.get<int64_t>() <= 1 << 20) {
                rule.chunk_bytes = static_cast<int>(c.get<int64_t>());
            } else {
                return line_error(file, line_number, "'chunk' must be \"word\" or a number of bytes >= 1");
            }
        }
        script.rules.push_back(std::move(rule));
    }
    if (script.rules.empty()) return Status::invalid_argument("%.*s: no rules", int(file.size()), file.data());
    return script;
}

Result<Script> load_script(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::not_found("script '%s': cannot open", path.c_str());
    std::stringstream buffer;
    buffer << in.rdbuf();
    return parse_script(buffer.str(), path);
}

std::string encode_prompt(const std::vector<registry::ChatMessage>& messages) {
    std::string out;
    auto clean = [](std::string s) {
        for (char& c : s)
            if (c == kRecord || c == kUnit) c = ' ';
        return s;
    };
    for (const auto& m : messages) {
        out += kRecord;
        out += clean(m.role);
        out += kUnit;
        out += clean(m.content);
    }
    return out;
}

Prompt decode_prompt(std::string_view bytes) {
    Prompt prompt;
    if (bytes.empty() || bytes.front() != kRecord) {  // a raw completion prompt
        prompt.last_user = std::string(bytes);
        return prompt;
    }
    size_t at = 0;
    while (at < bytes.size()) {
        size_t next = bytes.find(kRecord, at + 1);
        if (next == std::string_view::npos) next = bytes.size();
        std::string_view record = bytes.substr(at + 1, next - at - 1);
        const size_t unit = record.find(kUnit);
        if (unit != std::string_view::npos) {
            std::string_view role = record.substr(0, unit), content = record.substr(unit + 1);
            if (role == "system" || role == "developer") {
                prompt.system = std::string(content);
                prompt.has_system = true;
            } else if (role == "user") {
                prompt.last_user = std::string(content);
            }
        }
        at = next;
    }
    return prompt;
}

std::vector<std::string> split_chunks(std::string_view text, int chunk_bytes) {
    std::vector<std::string> chunks;
    size_t at = 0;
    while (at < text.size()) {
        size_t end;
        if (chunk_bytes > 0) {
            end = std::min(text.size(), at + static_cast<size_t>(chunk_bytes));
        } else {  // a word, then the whitespace after it
            end = at;
            while (end < text.size() && (text[end] == ' ' || text[end] == '\n' || text[end] == '\t')) ++end;
            while (end < text.size() && text[end] != ' ' && text[end] != '\n' && text[end] != '\t') ++end;
            while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) ++end;
        }
        chunks.emplace_back(text.substr(at, end - at));
        at = end;
    }
    return chunks;
}

std::vector<std::string> playback(const Rule* rule, const Prompt& prompt, std::string_view model_name) {
    if (!rule) return {"(no scripted reply)"};
    std::string reply = rule->reply;
    replace_all(&reply, "{{system}}", prompt.has_system ? prompt.system : "(none)");
    replace_all(&reply, "{{user}}", prompt.last_user);
    replace_all(&reply, "{{model}}", model_name);
    std::vector<std::string> chunks;
    if (!rule->reasoning.empty()) {
        chunks.push_back("<think>\n");
        for (auto& c : split_chunks(rule->reasoning, rule->chunk_bytes)) chunks.push_back(std::move(c));
        chunks.push_back("\n</think>\n\n");
    }
    for (auto& c : split_chunks(reply, rule->chunk_bytes)) chunks.push_back(std::move(c));
    return chunks;
}

}  // namespace duet::server::scripted
