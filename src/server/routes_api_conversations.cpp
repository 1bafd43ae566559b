// routes_api_conversations.cpp: /api/ conversations, settings and system prompts over store::Store (see the header).
#include "server/routes_api_conversations.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <map>
#include <set>

#include "common/log.h"
#include "store/codec_json.h"
#include "store/conversation_store.h"
#include "store/markdown_export.h"
#include "store/store.h"

namespace duet::server {

using nlohmann::json;

namespace {

openai::ApiError not_found(const char* what) {
    openai::ApiError e;
    e.status = 404;
    e.type = "not_found_error";
    e.message = std::string(what) + " not found";
    e.code = "not_found";
    return e;
}

openai::ApiError invalid(const std::string& message, std::optional<std::string> param = std::nullopt,
                         const char* code = "invalid_value") {
    openai::ApiError e = openai::ApiError::invalid(message, std::move(param));
    e.code = code;
    return e;
}

openai::ApiError conflict(const std::string& message) {
    openai::ApiError e = openai::ApiError::invalid(message);
    e.status = 409;
    e.code = "conflict";
    return e;
}

// A store failure as an HTTP error: input errors keep their message, storage errors go to the log only.
http::HttpResponse store_error(const Status& st, const char* what, const http::HttpRequest& request) {
    switch (st.code()) {
        case StatusCode::not_found:
            return error_response(not_found(what));
        case StatusCode::invalid_argument:
        case StatusCode::unsupported:
            return error_response(invalid(st.message()));
        case StatusCode::already_exists:
        case StatusCode::out_of_range:
            return error_response(conflict(st.message()));
        default:
            DUET_LOG_ERROR("api %s %s (request %s): %s", request.method.c_str(), request.path.c_str(),
                           request.request_id.c_str(), st.message().c_str());
            return error_response(openai::ApiError::internal());
    }
}

// State-changing calls from a browser must come from this origin: Origin's host:port equals Host, and the browser
// does not say cross-site. Non-browser clients (no Origin, no Sec-Fetch-Site) pass; auth still applies.
bool is_cross_site(const http::HttpRequest& request) {
    if (request.header("Sec-Fetch-Site") == "cross-site") return true;
    std::string origin = request.header("Origin");
    if (origin.empty()) return false;
    if (origin == "null") return true;
    size_t scheme = origin.find("://");
    std::string host_port = scheme == std::string::npos ? origin : origin.substr(scheme + 3);
    return host_port != request.header("Host");
}

openai::ApiError cross_site_error() {
    openai::ApiError e;
    e.status = 403;
    e.type = "permission_error";
    e.message = "cross-site request refused: state-changing /api/ calls must come from this server's own page";
    e.code = "cross_site";
    return e;
}

// The request body as a JSON value; an empty body is `empty_as` (e.g. {} for an optional body).
Result<json> body_json(const http::HttpRequest& request, std::optional<json> empty_as = std::nullopt) {
    if (request.body.empty() && empty_as) return *empty_as;
    return store::parse_json(request.body, "request body");
}

http::HttpResponse body_error(const Status& st) {
    return error_response(invalid(st.message(), std::nullopt, "invalid_json"));
}

http::HttpResponse json_ok(const json& j, int status = 200) { return json_response(store::dump_json(j), status); }

// A value stored as JSON text goes back as that JSON (or as the raw text if it is not JSON).
json stored_value(const std::string& text) {
    auto parsed = store::parse_json(text, "setting");
    return parsed.ok() ? std::move(parsed).value() : json(text);
}

bool valid_setting_key(const std::string& key) {
    if (key.empty() || key.size() > 64) return false;
    for (char c : key)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
    return true;
}

struct Api {
    std::shared_ptr<store::Store> store;
    ModelNames model_names;

    store::ConversationStore& conv() { return store->conversations(); }

    // Routes that change state refuse cross-site requests before anything else.
    RouteHandler guarded(RouteHandler handler) {
        return [handler = std::move(handler)](const RouteRequest& r) {
            if (is_cross_site(r.http)) return error_response(cross_site_error());
            return handler(r);
        };
    }

    http::HttpResponse list(const RouteRequest& r) {
        auto limit = r.query_int("limit", 50, 1, 200);
        if (!limit.ok()) return error_response(invalid(limit.status().message(), "limit"));
        store::ListQuery query;
        query.limit = static_cast<int>(*limit);
        if (auto cursor = r.query_value("cursor"); cursor && !cursor->empty()) {
            query.after = store::PageCursor::parse(*cursor);
            if (!query.after) return error_response(invalid("cursor: not a cursor from next_cursor", "cursor"));
        }
        query.search = r.query_value("q").value_or("");
        if (query.search.size() > 1000) return error_response(invalid("q: longer than 1000 bytes", "q"));
        auto page = conv().list(query);
        if (!page.ok()) return store_error(page.status(), "conversation", r.http);
        json data = json::array();
        for (const auto& c : page->conversations) data.push_back(store::conversation_to_json(c));
        return json_ok({{"data", std::move(data)},
                        {"has_more", page->next.has_value()},
                        {"next_cursor", page->next ? json(page->next->to_string()) : json(nullptr)}});
    }

    http::HttpResponse create(const RouteRequest& r) {
        auto body = body_json(r.http, json::object());
        if (!body.ok()) return body_error(body.status());
        store::Conversation draft;
        draft.title = "New conversation";
        if (Status st = store::apply_conversation_json(*body, "body", &draft); !st.ok())
            return error_response(invalid(st.message()));
        auto c = conv().create(draft);
        if (!c.ok()) return store_error(c.status(), "conversation", r.http);
        return json_ok(store::conversation_with_messages_to_json({*c, {}}), 201);
    }

    http::HttpResponse get(const RouteRequest& r) {
        auto c = conv().get_with_messages(std::string(r.param("id")));
        if (!c.ok()) return store_error(c.status(), "conversation", r.http);
        return json_ok(store::conversation_with_messages_to_json(*c));
    }

    http::HttpResponse patch(const RouteRequest& r) {
        auto body = body_json(r.http);
        if (!body.ok()) return body_error(body.status());
        store::Conversation probe;  // validate before the write transaction starts
        if (Status st = store::apply_conversation_json(*body, "body", &probe); !st.ok())
            return error_response(invalid(st.message()));
        auto c = conv().update(std::string(r.param("id")), [&](store::Conversation& c) {
            (void)store::apply_conversation_json(*body, "body", &c);
        });
        if (!c.ok()) return store_error(c.status(), "conversation", r.http);
        return json_ok(store::conversation_to_json(*c));
    }

    http::HttpResponse remove(const RouteRequest& r) {
        Status st = conv().remove(std::string(r.param("id")));
        if (!st.ok()) return store_error(st, "conversation", r.http);
        http::HttpResponse response = json_response("", 204);
        response.content_type.clear();
        return response;
    }

    http::HttpResponse append(const RouteRequest& r) {
        auto body = body_json(r.http);
        if (!body.ok()) return body_error(body.status());
        auto draft = store::message_draft_from_json(*body, "body");
        if (!draft.ok()) return error_response(invalid(draft.status().message()));
        draft->created_at.reset();  // the server's clock, not the client's
        auto m = conv().append(std::string(r.param("id")), *draft);
        if (!m.ok()) return store_error(m.status(), "conversation", r.http);
        return json_ok(store::message_to_json(*m), 201);
    }

    http::HttpResponse replace_tail(const RouteRequest& r) {
        auto body = body_json(r.http);
        if (!body.ok()) return body_error(body.status());
        if (!body->is_object()) return error_response(invalid("body: expected an object"));
        auto from = body->find("from_ordinal");
        if (from == body->end() || !from->is_number_integer() || from->get<int64_t>() < 0)
            return error_response(invalid("body.from_ordinal: expected an integer >= 0", "from_ordinal"));
        std::vector<store::MessageDraft> tail;
        if (auto list = body->find("messages"); list != body->end() && !list->is_null()) {
            if (!list->is_array()) return error_response(invalid("body.messages: expected an array", "messages"));
            for (size_t i = 0; i < list->size(); ++i) {
                auto d = store::message_draft_from_json((*list)[i], "body.messages[" + std::to_string(i) + "]");
                if (!d.ok()) return error_response(invalid(d.status().message()));
                d->created_at.reset();
                tail.push_back(std::move(d).value());
            }
        }
        auto stored = conv().replace_tail(std::string(r.param("id")), from->get<int64_t>(), tail);
        if (!stored.ok()) return store_error(stored.status(), "conversation", r.http);
        json messages = json::array();
        for (const auto& m : *stored) messages.push_back(store::message_to_json(m));
        return json_ok({{"messages", std::move(messages)}});
    }

    http::HttpResponse export_all(const RouteRequest& r) {
        std::string format = r.query_value("format").value_or("json");
        if (format != "json" && format != "md")
            return error_response(invalid("format: expected \"json\" or \"md\"", "format"));
        auto items = conv().export_conversations(r.query_value("id"));
        if (!items.ok()) return store_error(items.status(), "conversation", r.http);
        http::HttpResponse response;
        if (format == "json") {
            response = json_response(store::export_json(*items, store::now_ms()));
            response.headers.emplace_back("Content-Disposition", "attachment; filename=\"duet-conversations.json\"");
        } else {
            response.body = store::export_markdown(*items);
            response.content_type = "text/markdown; charset=utf-8";
            response.headers.emplace_back("Content-Disposition", "attachment; filename=\"duet-conversations.md\"");
        }
        return response;
    }

    http::HttpResponse import(const RouteRequest& r) {
        auto items = store::parse_export_json(r.http.body);
        if (!items.ok()) return error_response(invalid(items.status().message()));
        auto ids = conv().import_conversations(*items);
        if (!ids.ok()) return store_error(ids.status(), "conversation", r.http);
        return json_ok({{"imported", ids->size()}, {"ids", *ids}});
    }

    http::HttpResponse settings_json(const RouteRequest& r) {
        auto settings = conv().settings();
        if (!settings.ok()) return store_error(settings.status(), "settings", r.http);
        json out = json::object();
        for (const auto& [key, value] : *settings) out[key] = stored_value(value);
        return json_ok(out);
    }

    http::HttpResponse put_settings(const RouteRequest& r) {
        auto body = body_json(r.http);
        if (!body.ok()) return body_error(body.status());
        if (!body->is_object()) return error_response(invalid("body: expected an object"));
        std::map<std::string, std::optional<std::string>> changes;
        for (const auto& [key, value] : body->items()) {
            if (!valid_setting_key(key))
                return error_response(invalid("body: setting keys are 1-64 characters of [A-Za-z0-9_.-]"));
            if (value.is_null()) {
                changes[key] = std::nullopt;
                continue;
            }
            std::string text = store::dump_json(value);
            if (text.size() > store::kMaxSmallTextBytes)
                return error_response(invalid("body." + key + ": more than 64 KiB", key));
            changes[key] = std::move(text);
        }
        if (Status st = conv().put_settings(changes); !st.ok()) return store_error(st, "settings", r.http);
        return settings_json(r);
    }

    http::HttpResponse system_prompts(const RouteRequest& r) {
        auto stored = conv().system_prompts();
        if (!stored.ok()) return store_error(stored.status(), "system prompts", r.http);
        json def = {{"prompt", nullptr}, {"send", true}};
        std::map<std::string, store::SystemPromptEntry> by_model;
        for (const auto& e : *stored) {
            if (e.model.empty()) {
                def["prompt"] = e.prompt ? json(*e.prompt) : json(nullptr);
                def["send"] = e.send.value_or(true);
            } else {
                by_model[e.model] = e;
            }
        }
        std::vector<std::string> names = model_names ? model_names() : std::vector<std::string>{};
        std::set<std::string> seen;
        json models = json::array();
        auto add = [&](const std::string& name) {
            if (!seen.insert(name).second) return;
            auto it = by_model.find(name);
            const store::SystemPromptEntry* e = it == by_model.end() ? nullptr : &it->second;
            bool has_send = e && e->send.has_value();
            models.push_back({{"model", name},
                              {"prompt", e && e->prompt ? json(*e->prompt) : json(nullptr)},
                              {"send", has_send ? *e->send : default_send_system_prompt(name)},
                              {"send_is_default", !has_send}});
        };
        for (const auto& n : names) add(n);
        for (const auto& [n, e] : by_model) add(n);
        return json_ok({{"default", std::move(def)}, {"models", std::move(models)}});
    }

    // {"prompt": str|null, "send": bool|null} -> an entry for `model`.
    static Result<store::SystemPromptEntry> prompt_entry(const json& j, const std::string& model,
                                                         const std::string& where) {
        if (!j.is_object()) return Status::invalid_argument("%s: expected an object", where.c_str());
        store::SystemPromptEntry e;
        e.model = model;
        if (auto p = j.find("prompt"); p != j.end() && !p->is_null()) {
            if (!p->is_string() || p->get_ref<const std::string&>().size() > store::kMaxSmallTextBytes)
                return Status::invalid_argument("%s.prompt: expected a string of at most 64 KiB", where.c_str());
            e.prompt = p->get<std::string>();
        }
        if (auto s = j.find("send"); s != j.end() && !s->is_null()) {
            if (!s->is_boolean())
                return Status::invalid_argument("%s.send: expected true, false or null", where.c_str());
            e.send = s->get<bool>();
        }
        return e;
    }

    http::HttpResponse put_system_prompts(const RouteRequest& r) {
        auto body = body_json(r.http);
        if (!body.ok()) return body_error(body.status());
        if (!body->is_object()) return error_response(invalid("body: expected an object"));
        std::vector<store::SystemPromptEntry> entries;
        if (auto d = body->find("default"); d != body->end()) {
            auto e = prompt_entry(*d, "", "body.default");
            if (!e.ok()) return error_response(invalid(e.status().message()));
            entries.push_back(std::move(e).value());
        }
        if (auto list = body->find("models"); list != body->end()) {
            if (!list->is_array()) return error_response(invalid("body.models: expected an array", "models"));
            for (size_t i = 0; i < list->size(); ++i) {
                std::string where = "body.models[" + std::to_string(i) + "]";
                const json& item = (*list)[i];
                auto name = item.is_object() ? item.find("model") : item.end();
                if (!item.is_object() || name == item.end() || !name->is_string() ||
                    name->get_ref<const std::string&>().empty() ||
                    name->get_ref<const std::string&>().size() > store::kMaxNameBytes)
                    return error_response(invalid(where + ".model: expected a model name"));
                auto e = prompt_entry(item, name->get<std::string>(), where);
                if (!e.ok()) return error_response(invalid(e.status().message()));
                entries.push_back(std::move(e).value());
            }
        }
        if (Status st = conv().put_system_prompts(entries); !st.ok()) return store_error(st, "system prompts", r.http);
        return system_prompts(r);
    }
};

}  // namespace

bool default_send_system_prompt(std::string_view model_name) {
    std::string lower;
    for (char c : model_name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (size_t pos = lower.find("r1"); pos != std::string::npos; pos = lower.find("r1", pos + 1)) {
        bool starts = pos == 0 || !std::isalnum(static_cast<unsigned char>(lower[pos - 1]));
        bool ends = pos + 2 == lower.size() || !std::isdigit(static_cast<unsigned char>(lower[pos + 2]));
        if (starts && ends) return false;
    }
    return true;
}

RouteTable api_conversation_routes(std::shared_ptr<store::Store> store, ModelNames model_names) {
    auto api = std::make_shared<Api>(Api{std::move(store), std::move(model_names)});
    auto bind = [api](http::HttpResponse (Api::*fn)(const RouteRequest&)) {
        return RouteHandler([api, fn](const RouteRequest& r) { return ((*api).*fn)(r); });
    };
    const Access s = Access::session;
    RouteTable t;
    t.add("GET", "/api/conversations", s, bind(&Api::list));
    t.add("POST", "/api/conversations", s, api->guarded(bind(&Api::create)));
    t.add("GET", "/api/conversations/export", s, bind(&Api::export_all));
    t.add("POST", "/api/conversations/import", s, api->guarded(bind(&Api::import)));
    t.add("GET", "/api/conversations/{id}", s, bind(&Api::get));
    t.add("PATCH", "/api/conversations/{id}", s, api->guarded(bind(&Api::patch)));
    t.add("DELETE", "/api/conversations/{id}", s, api->guarded(bind(&Api::remove)));
    t.add("POST", "/api/conversations/{id}/messages", s, api->guarded(bind(&Api::append)));
    t.add("PUT", "/api/conversations/{id}/tail", s, api->guarded(bind(&Api::replace_tail)));
    t.add("GET", "/api/settings", s, bind(&Api::settings_json));
    t.add("PUT", "/api/settings", s, api->guarded(bind(&Api::put_settings)));
    t.add("GET", "/api/system-prompts", s, bind(&Api::system_prompts));
    t.add("PUT", "/api/system-prompts", s, api->guarded(bind(&Api::put_system_prompts)));
    return t;
}

}  // namespace duet::server
