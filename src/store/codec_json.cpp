// codec_json.cpp: JSON <-> store types with validation (see codec_json.h).
#include "store/codec_json.h"

#include <cmath>

namespace duet::store {

using nlohmann::json;

namespace {

// ---- encoding helpers ----

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }
json opt(const std::optional<bool>& v) { return v ? json(*v) : json(nullptr); }

// The route is stored as the server's JSON text; it goes back out as an object (or the raw text if it is not one).
json route_to_json(const std::optional<std::string>& route) {
    if (!route) return nullptr;
    auto parsed = parse_json(*route, "route");
    if (parsed.ok() && parsed->is_object()) return std::move(parsed).value();
    return *route;
}

// ---- decoding helpers: each names the place of the error ----

Status type_error(const std::string& where, const char* expected) {
    return Status::invalid_argument("%s: expected %s", where.c_str(), expected);
}

Status read_string(const json& j, const std::string& where, size_t max_bytes, std::string* out) {
    if (!j.is_string()) return type_error(where, "a string");
    const auto& s = j.get_ref<const std::string&>();
    if (s.size() > max_bytes)
        return Status::invalid_argument("%s: %zu bytes, more than %zu", where.c_str(), s.size(), max_bytes);
    *out = s;
    return {};
}

Status read_opt_string(const json& j, const std::string& where, size_t max_bytes, std::optional<std::string>* out) {
    if (j.is_null()) {
        out->reset();
        return {};
    }
    std::string s;
    DUET_RETURN_IF_ERROR(read_string(j, where, max_bytes, &s));
    *out = std::move(s);
    return {};
}

Status read_opt_number(const json& j, const std::string& where, double lo, double hi, bool lo_open,
                       std::optional<double>* out) {
    if (j.is_null()) {
        out->reset();
        return {};
    }
    if (!j.is_number()) return type_error(where, "a number or null");
    double v = j.get<double>();
    if (!std::isfinite(v) || v < lo || v > hi || (lo_open && v == lo))
        return Status::invalid_argument("%s: %g outside %s%g, %g]", where.c_str(), v, lo_open ? "(" : "[", lo, hi);
    *out = v;
    return {};
}

Status read_opt_int(const json& j, const std::string& where, int64_t lo, int64_t hi, std::optional<int64_t>* out) {
    if (j.is_null()) {
        out->reset();
        return {};
    }
    if (!j.is_number_integer()) return type_error(where, "an integer or null");
    int64_t v = 0;
    if (j.is_number_unsigned()) {
        uint64_t u = j.get<uint64_t>();
        if (u > static_cast<uint64_t>(hi))
            return Status::invalid_argument("%s: %llu above %lld", where.c_str(), (unsigned long long)u, (long long)hi);
        v = static_cast<int64_t>(u);
    } else {
        v = j.get<int64_t>();
    }
    if (v < lo || v > hi)
        return Status::invalid_argument("%s: %lld outside [%lld, %lld]", where.c_str(), (long long)v, (long long)lo,
                                        (long long)hi);
    *out = v;
    return {};
}

constexpr int64_t kMaxTime = int64_t{1} << 53;  // ms; far beyond any real date, exact in a double
constexpr int64_t kMaxTokens = int64_t{1} << 40;

const json* find(const json& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

// Maximum nesting of arrays/objects in `text`, scanning outside strings; stops early past `limit`.
int nesting_depth(std::string_view text, int limit) {
    int depth = 0, max_depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            max_depth = std::max(max_depth, ++depth);
            if (max_depth > limit) return max_depth;
        } else if (c == ']' || c == '}') --depth;
    }
    return max_depth;
}

}  // namespace

// ---- encoding ----

std::string dump_json(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json battle_to_json(const BattleRecord& record, const std::vector<BattleTurn>& turns) {
    auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
    auto pick = [](const std::optional<Pick>& p) { return p ? json(std::string(pick_name(*p))) : json(nullptr); };
    const Battle& b = record.battle;
    json vote = nullptr;
    if (record.vote) {
        const Vote& v = *record.vote;
        vote = {{"winner", std::string(verdict_name(v.winner))},
                {"keep_chatting", pick(v.keep_chatting)},
                {"understood", pick(v.understood)},
                {"too_ai", pick(v.too_ai)},
                {"created_at", v.created_at}};
    }
    json out_turns = json::array();
    for (const auto& t : turns)
        out_turns.push_back({{"turn", t.turn},
                             {"prompt", t.prompt},
                             {"answer_a", t.answer_a},
                             {"answer_b", t.answer_b},
                             {"reasoning_a", opt(t.reasoning_a)},
                             {"reasoning_b", opt(t.reasoning_b)},
                             {"ttft_ms_a", opt(t.ttft_ms_a)},
                             {"ttft_ms_b", opt(t.ttft_ms_b)},
                             {"tokens_per_second_a", opt(t.tokens_per_second_a)},
                             {"tokens_per_second_b", opt(t.tokens_per_second_b)},
                             {"completion_tokens_a", opt(t.completion_tokens_a)},
                             {"completion_tokens_b", opt(t.completion_tokens_b)}});
    return {{"id", b.id},
            {"created_at", opt(b.created_at)},
            {"model_a", b.model_a},
            {"model_b", b.model_b},
            {"route", opt(b.route)},
            {"router_pick", opt(b.router_pick)},
            {"language", opt(b.language)},
            {"vote", std::move(vote)},
            {"turns", std::move(out_turns)}};
}

json conversation_to_json(const Conversation& c) {
    return json{{"id", c.id},
                {"title", c.title},
                {"created_at", c.created_at},
                {"updated_at", c.updated_at},
                {"mode", c.mode},
                {"settings",
                 {{"temperature", opt(c.settings.temperature)},
                  {"top_p", opt(c.settings.top_p)},
                  {"max_tokens", opt(c.settings.max_tokens)},
                  {"system_prompt", opt(c.settings.system_prompt)},
                  {"send_system_prompt", opt(c.settings.send_system_prompt)}}},
                {"message_count", c.message_count}};
}

json message_to_json(const Message& m) {
    return json{{"id", m.id},
                {"ordinal", m.ordinal},
                {"role", std::string(role_name(m.role))},
                {"content", m.content},
                {"reasoning", opt(m.reasoning)},
                {"model", opt(m.model)},
                {"route", route_to_json(m.route)},
                {"system_prompt_sent", opt(m.system_prompt_sent)},
                {"finish_reason", opt(m.finish_reason)},
                {"timings",
                 {{"ttft_ms", opt(m.timings.ttft_ms)},
                  {"tokens_per_second", opt(m.timings.tokens_per_second)},
                  {"reasoning_ms", opt(m.timings.reasoning_ms)},
                  {"prompt_tokens", opt(m.timings.prompt_tokens)},
                  {"completion_tokens", opt(m.timings.completion_tokens)}}},
                {"created_at", m.created_at.value_or(0)}};
}

json conversation_with_messages_to_json(const ConversationWithMessages& c) {
    json j = conversation_to_json(c.conversation);
    json messages = json::array();
    for (const auto& m : c.messages) messages.push_back(message_to_json(m));
    j["messages"] = std::move(messages);
    return j;
}

std::string export_json(const std::vector<ConversationWithMessages>& items, TimeMs exported_at) {
    json conversations = json::array();
    for (const auto& c : items) conversations.push_back(conversation_with_messages_to_json(c));
    json doc{{"format", "duet-conversations"},
             {"version", kExportVersion},
             {"exported_at", exported_at},
             {"conversations", std::move(conversations)}};
    return dump_json(doc);
}

// ---- decoding ----

Result<json> parse_json(std::string_view text, std::string_view what) {
    std::string name(what.substr(0, 100));
    if (nesting_depth(text, kMaxJsonDepth) > kMaxJsonDepth)
        return Status::invalid_argument("%s: JSON nested deeper than %d levels", name.c_str(), kMaxJsonDepth);
    // nlohmann's lexer stops at a NUL byte and would ignore what follows it; JSON text never contains one.
    if (size_t nul = text.find('\0'); nul != std::string_view::npos)
        return Status::invalid_argument("%s: invalid JSON: NUL byte at offset %zu", name.c_str(), nul);
    try {
        return json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        size_t line = 1, col = 1;
        for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
            if (text[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
        return Status::invalid_argument("%s: invalid JSON at line %zu, column %zu", name.c_str(), line, col);
    } catch (const json::exception&) {
        return Status::invalid_argument("%s: invalid JSON", name.c_str());
    }
}

Status apply_settings_json(const json& j, const std::string& where, ConversationSettings* s) {
    if (!j.is_object()) return type_error(where, "an object");
    if (auto* v = find(j, "temperature"))
        DUET_RETURN_IF_ERROR(read_opt_number(*v, where + ".temperature", 0.0, 2.0, false, &s->temperature));
    if (auto* v = find(j, "top_p"))
        DUET_RETURN_IF_ERROR(read_opt_number(*v, where + ".top_p", 0.0, 1.0, true, &s->top_p));
    if (auto* v = find(j, "max_tokens"))
        DUET_RETURN_IF_ERROR(read_opt_int(*v, where + ".max_tokens", 1, 10'000'000, &s->max_tokens));
    if (auto* v = find(j, "system_prompt"))
        DUET_RETURN_IF_ERROR(read_opt_string(*v, where + ".system_prompt", kMaxSmallTextBytes, &s->system_prompt));
    if (auto* v = find(j, "send_system_prompt")) {
        if (v->is_null()) s->send_system_prompt.reset();
        else if (v->is_boolean()) s->send_system_prompt = v->get<bool>();
        else return type_error(where + ".send_system_prompt", "true, false or null");
    }
    return {};
}

Status apply_conversation_json(const json& j, const std::string& where, Conversation* c) {
    if (!j.is_object()) return type_error(where, "an object");
    if (auto* v = find(j, "title")) DUET_RETURN_IF_ERROR(read_string(*v, where + ".title", kMaxTitleBytes, &c->title));
    if (auto* v = find(j, "mode")) {
        DUET_RETURN_IF_ERROR(read_string(*v, where + ".mode", kMaxNameBytes, &c->mode));
        if (c->mode.empty()) return Status::invalid_argument("%s.mode: empty", where.c_str());
    }
    if (auto* v = find(j, "settings")) {
        if (!v->is_null()) DUET_RETURN_IF_ERROR(apply_settings_json(*v, where + ".settings", &c->settings));
    }
    return {};
}

Result<MessageDraft> message_draft_from_json(const json& j, const std::string& where) {
    if (!j.is_object()) return type_error(where, "an object");
    MessageDraft d;
    const json* role = find(j, "role");
    if (!role) return Status::invalid_argument("%s.role: missing", where.c_str());
    std::string role_text;
    DUET_RETURN_IF_ERROR(read_string(*role, where + ".role", kMaxNameBytes, &role_text));
    auto parsed_role = parse_role(role_text);
    if (!parsed_role)
        return Status::invalid_argument("%s.role: expected \"user\", \"assistant\", \"system\" or \"tool\"",
                                        where.c_str());
    d.role = *parsed_role;
    const json* content = find(j, "content");
    if (!content) return Status::invalid_argument("%s.content: missing", where.c_str());
    DUET_RETURN_IF_ERROR(read_string(*content, where + ".content", kMaxContentBytes, &d.content));
    if (auto* v = find(j, "reasoning"))
        DUET_RETURN_IF_ERROR(read_opt_string(*v, where + ".reasoning", kMaxContentBytes, &d.reasoning));
    if (auto* v = find(j, "model"))
        DUET_RETURN_IF_ERROR(read_opt_string(*v, where + ".model", kMaxNameBytes, &d.model));
    if (auto* v = find(j, "system_prompt_sent"))
        DUET_RETURN_IF_ERROR(
            read_opt_string(*v, where + ".system_prompt_sent", kMaxSmallTextBytes, &d.system_prompt_sent));
    if (auto* v = find(j, "finish_reason"))
        DUET_RETURN_IF_ERROR(read_opt_string(*v, where + ".finish_reason", kMaxNameBytes, &d.finish_reason));
    if (auto* v = find(j, "route"); v && !v->is_null()) {
        if (!v->is_object()) return type_error(where + ".route", "an object or null");
        std::string text = dump_json(*v);
        if (text.size() > kMaxSmallTextBytes)
            return Status::invalid_argument("%s.route: %zu bytes, more than %zu", where.c_str(), text.size(),
                                            kMaxSmallTextBytes);
        d.route = std::move(text);
    }
    if (auto* t = find(j, "timings"); t && !t->is_null()) {
        if (!t->is_object()) return type_error(where + ".timings", "an object or null");
        std::string w = where + ".timings";
        constexpr double kBig = 1e12;
        if (auto* v = find(*t, "ttft_ms"))
            DUET_RETURN_IF_ERROR(read_opt_number(*v, w + ".ttft_ms", 0, kBig, false, &d.timings.ttft_ms));
        if (auto* v = find(*t, "tokens_per_second"))
            DUET_RETURN_IF_ERROR(
                read_opt_number(*v, w + ".tokens_per_second", 0, kBig, false, &d.timings.tokens_per_second));
        if (auto* v = find(*t, "reasoning_ms"))
            DUET_RETURN_IF_ERROR(read_opt_number(*v, w + ".reasoning_ms", 0, kBig, false, &d.timings.reasoning_ms));
        if (auto* v = find(*t, "prompt_tokens"))
            DUET_RETURN_IF_ERROR(read_opt_int(*v, w + ".prompt_tokens", 0, kMaxTokens, &d.timings.prompt_tokens));
        if (auto* v = find(*t, "completion_tokens"))
            DUET_RETURN_IF_ERROR(
                read_opt_int(*v, w + ".completion_tokens", 0, kMaxTokens, &d.timings.completion_tokens));
    }
    if (auto* v = find(j, "created_at"))
        DUET_RETURN_IF_ERROR(read_opt_int(*v, where + ".created_at", 0, kMaxTime, &d.created_at));
    return d;
}

Result<std::vector<ConversationWithMessages>> parse_export_json(std::string_view text) {
    DUET_TRY(json doc, parse_json(text, "import"));
    if (!doc.is_object()) return Status::invalid_argument("import: expected a JSON object with \"conversations\"");
    if (auto* f = find(doc, "format");
        f && (!f->is_string() || f->get_ref<const std::string&>() != "duet-conversations"))
        return Status::invalid_argument("import: format: expected \"duet-conversations\"");
    if (auto* v = find(doc, "version")) {
        if (!v->is_number_integer()) return Status::invalid_argument("import: version: expected an integer");
        if (v->get<int64_t>() != kExportVersion)
            return Status::unsupported("import: version %lld; this duet reads version %d", (long long)v->get<int64_t>(),
                                       kExportVersion);
    }
    const json* list = find(doc, "conversations");
    if (!list || !list->is_array()) return Status::invalid_argument("import: conversations: expected an array");
    std::vector<ConversationWithMessages> out;
    out.reserve(list->size());
    for (size_t i = 0; i < list->size(); ++i) {
        const json& jc = (*list)[i];
        std::string where = strformat("conversations[%zu]", i);
        ConversationWithMessages item;
        item.conversation.title = "Imported conversation";
        DUET_RETURN_IF_ERROR(apply_conversation_json(jc, where, &item.conversation));
        std::optional<int64_t> t;
        if (auto* v = find(jc, "created_at"))
            DUET_RETURN_IF_ERROR(read_opt_int(*v, where + ".created_at", 0, kMaxTime, &t));
        item.conversation.created_at = t.value_or(0);
        t.reset();
        if (auto* v = find(jc, "updated_at"))
            DUET_RETURN_IF_ERROR(read_opt_int(*v, where + ".updated_at", 0, kMaxTime, &t));
        item.conversation.updated_at = t.value_or(0);
        if (auto* msgs = find(jc, "messages"); msgs && !msgs->is_null()) {
            if (!msgs->is_array()) return type_error(where + ".messages", "an array");
            for (size_t k = 0; k < msgs->size(); ++k) {
                DUET_TRY(MessageDraft d,
                         message_draft_from_json((*msgs)[k], strformat("%s.messages[%zu]", where.c_str(), k)));
                Message m;
                static_cast<MessageDraft&>(m) = std::move(d);
                item.messages.push_back(std::move(m));
            }
        }
        out.push_back(std::move(item));
    }
    return out;
}

}  // namespace duet::store
