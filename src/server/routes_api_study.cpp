// routes_api_study.cpp: the arena's study mode (the seed's protocol) over store::ArenaStore studies:
//
//   organiser (Access::session):
//     POST /api/arena/studies       {"name", "model_a", "model_b", "minutes_per_model", "participants", "questions"?}
//                                   -> 201 the study with one invite per participant (code, link, a_first)
//     GET  /api/arena/studies       the studies
//     GET  /api/arena/studies/{id}  results: per question the share naming each model (95% Wilson), AI-speak
//                                   phrases counted in the free text about each model, the free texts
//   participant (Access::anyone: the invite code is the credential):
//     GET  /api/arena/study/{code}          the protocol: minutes per model, the questions, answered or not
//     POST /api/arena/study/{code}/chat     {"model": "A"|"B", "messages": [...]} -> SSE {"content"} {"done"}
//     POST /api/arena/study/{code}/answers  {"answers": [{"question", "choice"}], "about_a"?, "about_b"?} -> 201
//
// The participant sees "Model A" (chatted with first) and "Model B"; which study model is first alternates by
// slot (a_first, counterbalanced). Choices arrive in the participant's labels and are stored in the study's
// (a = model_a); the two free texts are stored as two extra questions the server appends at creation
// (kFreeTextQuestions, in the study's terms too). One answer per participant per question: the store's unique key
// makes a second submission 409 already_answered.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <set>

#include "arena/battle_text.h"
#include "arena/study.h"
#include "common/log.h"
#include "common/strformat.h"
#include "common/timer.h"
#include "server/request_flow.h"
#include "server/routes_api_arena.h"
#include "server/server_state.h"
#include "store/arena_store.h"
#include "store/codec_json.h"
#include "store/store.h"

namespace duet::server {

using nlohmann::json;

namespace {

const auto& kFreeTextQuestions = kStudyFreeTextQuestions;
const std::vector<std::string> kDefaultQuestions = {"Which one would you keep chatting with?",
                                                    "Which one really understood you?",
                                                    "Which one sounded \"too AI\"?"};
constexpr size_t kMaxTextBytes = 32 * 1024;
constexpr size_t kMaxMessages = 200;

openai::ApiError api_error(int status, const char* type, const char* code, std::string message) {
    openai::ApiError e;
    e.status = status;
    e.type = type;
    e.code = code;
    e.message = std::move(message);
    return e;
}

http::HttpResponse invalid(std::string message) {
    return error_response(api_error(400, "invalid_request_error", "invalid_value", std::move(message)));
}

http::HttpResponse store_error(const Status& st, const http::HttpRequest& request) {
    switch (st.code()) {
        case StatusCode::not_found:
            return error_response(api_error(404, "not_found_error", "not_found", st.message()));
        case StatusCode::already_exists:
            return error_response(api_error(409, "invalid_request_error", "already_answered", st.message()));
        case StatusCode::invalid_argument:
            return invalid(st.message());
        default:
            DUET_LOG_ERROR("api %s %s (request %s): %s", request.method.c_str(), request.path.c_str(),
                           request.request_id.c_str(), st.message().c_str());
            return error_response(openai::ApiError::internal());
    }
}

bool is_free_text(const std::string& question) { return is_study_free_text(question); }

// The participant's label ("a" = the model chatted with first) -> the study's side, and back (the same swap).
std::string to_study_side(const std::string& label, bool a_first) {
    if (a_first || (label != "a" && label != "b")) return label;
    return label == "a" ? "b" : "a";
}

json study_json(const store::Study& s) {
    std::vector<std::string> questions;
    for (const auto& q : s.questions)
        if (!is_free_text(q)) questions.push_back(q);
    return {{"id", s.id},
            {"name", s.name},
            {"model_a", s.model_a},
            {"model_b", s.model_b},
            {"minutes_per_model", s.minutes_per_model},
            {"participants", s.participant_count},
            {"questions", questions},
            {"created_at", s.created_at}};
}

json proportion(const arena::Proportion& p) { return {{"estimate", p.estimate}, {"low", p.low}, {"high", p.high}}; }

// {"field": string} of at most kMaxTextBytes, or nullopt when absent / null.
Result<std::optional<std::string>> optional_text(const json& body, const char* field) {
    auto it = body.find(field);
    if (it == body.end() || it->is_null()) return std::optional<std::string>();
    if (!it->is_string() || it->get_ref<const std::string&>().size() > kMaxTextBytes)
        return Status::invalid_argument("body.%s: expected a string of at most 32 KiB", field);
    return std::optional<std::string>(it->get<std::string>());
}

struct StudyApi {
    Server::State& state;
    std::shared_ptr<store::Store> store;
    ArenaOptions options;

    store::ArenaStore& arena() { return store->arena(); }

    http::HttpResponse create(const RouteRequest& r) {
        auto body = store::parse_json(r.http.body, "request body");
        if (!body.ok()) return invalid(body.status().message());
        if (!body->is_object()) return invalid("body: expected an object");
        store::StudyDraft d;
        auto text = [&](const char* key, std::string* out) -> bool {
            auto it = body->find(key);
            if (it == body->end() || !it->is_string() || it->get_ref<const std::string&>().empty()) return false;
            *out = it->get<std::string>();
            return true;
        };
        if (!text("model_a", &d.model_a) || !text("model_b", &d.model_b))
            return invalid("body.model_a, body.model_b: expected two model names");
        for (const auto& name : {d.model_a, d.model_b}) {
            openai::ApiError error;
            if (!state.find_model(name, &error)) return error_response(error);
        }
        if (!text("name", &d.name)) d.name = "study";
        auto integer = [&](const char* key, int64_t fallback, int64_t* out) -> bool {
            auto it = body->find(key);
            if (it == body->end() || it->is_null()) return (*out = fallback), true;
            if (!it->is_number_integer()) return false;
            *out = it->get<int64_t>();
            return true;
        };
        if (!integer("minutes_per_model", 10, &d.minutes_per_model))
            return invalid("body.minutes_per_model: expected an integer");
        if (!integer("participants", 12, &d.participant_count))
            return invalid("body.participants: expected an integer");
        d.questions = kDefaultQuestions;
        if (auto q = body->find("questions"); q != body->end() && !q->is_null()) {
            if (!q->is_array() || q->empty() || q->size() > 20)
                return invalid("body.questions: expected 1 to 20 questions");
            d.questions.clear();
            for (const auto& item : *q) {
                if (!item.is_string() || item.get_ref<const std::string&>().empty() || is_free_text(item))
                    return invalid("body.questions: expected non-empty strings");
                d.questions.push_back(item.get<std::string>());
            }
        }
        d.questions.insert(d.questions.end(), kFreeTextQuestions.begin(), kFreeTextQuestions.end());
        auto created = arena().create_study(d);
        if (!created.ok()) return store_error(created.status(), r.http);
        json invites = json::array();
        for (const auto& p : created->participants)
            invites.push_back({{"slot", p.slot},
                               {"code", p.invite_code},
                               {"a_first", p.a_first},
                               {"link", "/#study=" + p.invite_code}});
        json out = study_json(created->study);
        out["invites"] = std::move(invites);
        return json_response(store::dump_json(out), 201);
    }

    http::HttpResponse list(const RouteRequest& r) {
        auto studies = arena().list_studies();
        if (!studies.ok()) return store_error(studies.status(), r.http);
        json data = json::array();
        for (const auto& s : *studies) data.push_back(study_json(s));
        return json_response(store::dump_json({{"data", std::move(data)}}));
    }

    http::HttpResponse results(const RouteRequest& r) {
        std::string_view id_text = r.param("id");
        if (id_text.empty() || id_text.size() > 18 ||
            !std::all_of(id_text.begin(), id_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return error_response(api_error(404, "not_found_error", "not_found", "study not found"));
        auto report = load_study_report(arena(), std::stoll(std::string(id_text)));
        if (!report.ok()) return store_error(report.status(), r.http);
        const store::StudyResults* res = &report->stored;
        const arena::StudySummary& summary = report->summary;
        const std::set<int64_t> answered(report->answered.begin(), report->answered.end());
        json free_text = json::array();
        for (const auto& t : report->free_text) free_text.push_back({{"model", t.model}, {"text", t.text}});
        json qs = json::array();
        for (const auto& q : summary.questions) {
            json shares = json::array();
            for (const auto& m : q.models)
                shares.push_back({{"model", m.model}, {"named", m.named}, {"share", proportion(m.share)}});
            qs.push_back({{"question", q.question}, {"respondents", q.respondents}, {"models", std::move(shares)}});
        }
        json speak = json::array();
        for (const auto& m : summary.ai_speak) {
            json phrases = json::array();
            for (const auto& p : m.count.phrases) phrases.push_back({{"phrase", p.phrase}, {"count", p.count}});
            speak.push_back(
                {{"model", m.model}, {"texts", m.texts}, {"total", m.count.total}, {"phrases", std::move(phrases)}});
        }
        json out = study_json(res->study);
        out["joined"] = report->joined;
        out["answered"] = answered.size();
        out["results"] = std::move(qs);
        out["ai_speak"] = std::move(speak);
        out["free_text"] = std::move(free_text);
        json invites = json::array();
        for (const auto& p : res->participants)
            invites.push_back({{"slot", p.slot},
                               {"code", p.invite_code},
                               {"a_first", p.a_first},
                               {"joined", p.joined_at.has_value()},
                               {"answered", answered.count(p.id) > 0}});
        out["invites"] = std::move(invites);
        return json_response(store::dump_json(out));
    }

    // The participant and their study, from the invite code (the first call marks them joined).
    Result<std::pair<store::Participant, store::StudyResults>> participant(const RouteRequest& r) {
        DUET_TRY(store::Participant p, arena().join_study(std::string(r.param("code"))));
        DUET_TRY(store::StudyResults res, arena().study_results(p.study_id));
        return std::make_pair(std::move(p), std::move(res));
    }

    http::HttpResponse protocol(const RouteRequest& r) {
        auto found = participant(r);
        if (!found.ok()) return store_error(found.status(), r.http);
        const auto& [p, res] = *found;
        const bool answered = std::any_of(res.answers.begin(), res.answers.end(),
                                          [&](const store::StudyAnswer& a) { return a.participant_id == p.id; });
        json out = {{"name", res.study.name},
                    {"minutes_per_model", res.study.minutes_per_model},
                    {"questions", study_json(res.study)["questions"]},
                    {"answered", answered}};
        return json_response(store::dump_json(out));
    }

    http::HttpResponse chat(const RouteRequest& r) {
        const double arrival = now_seconds();
        auto found = participant(r);
        if (!found.ok()) return store_error(found.status(), r.http);
        const auto& [p, res] = *found;
        auto body = store::parse_json(r.http.body, "request body");
        if (!body.ok()) return invalid(body.status().message());
        if (!body->is_object()) return invalid("body: expected an object");
        auto label = body->find("model");
        if (label == body->end() || (*label != "A" && *label != "B"))
            return invalid("body.model: expected \"A\" or \"B\"");
        const std::string side = to_study_side(*label == "A" ? "a" : "b", p.a_first);
        const std::string model_name = side == "a" ? res.study.model_a : res.study.model_b;
        auto list = body->find("messages");
        if (list == body->end() || !list->is_array() || list->empty() || list->size() > kMaxMessages)
            return invalid("body.messages: expected 1 to 200 messages");
        std::vector<registry::ChatMessage> messages;
        for (const auto& m : *list) {
            auto role = m.is_object() ? m.find("role") : m.end();
            auto content = m.is_object() ? m.find("content") : m.end();
            if (role == m.end() || (*role != "user" && *role != "assistant") || content == m.end() ||
                !content->is_string() || content->get_ref<const std::string&>().size() > kMaxTextBytes)
                return invalid("body.messages: each needs a role (user or assistant) and a content string");
            messages.push_back({role->get<std::string>(), content->get<std::string>(), ""});
        }
        if (messages.back().role != "user") return invalid("body.messages: the last message must be the user's");

        openai::ApiError error;
        auto model = state.find_model(model_name, &error);
        if (!model) return error_response(error);
        auto prompt = model->backend.codec->encode_chat(messages, true);
        if (!prompt.ok()) return invalid(prompt.status().message());
        const int64_t room = model->backend.engine->context_length() - static_cast<int64_t>(prompt->size());
        if (room < 1)
            return error_response(openai::ApiError::context_length("the conversation no longer fits the context"));
        SubmitPlan plan;
        plan.prompt = std::move(prompt).value();
        plan.gen.max_tokens = static_cast<int32_t>(std::min<int64_t>(options.max_tokens, room));
        plan.arrival_seconds = arrival;
        auto running = std::make_shared<RunningRequest>();
        if (!start_request(state, model, plan, running.get(), &error)) return error_response(error);
        auto masker =
            std::make_shared<arena::NameMasker>(arena::mask_terms_for({res.study.model_a, res.study.model_b}));

        http::HttpResponse response;
        response.content_type = "text/event-stream";
        Server::State* st = &state;
        response.stream = [running, masker, st](http::EventSink& sink) {
            ChoiceStream& choice = *running->choices.front();
            while (!choice.finished()) {
                ChoiceEvent event;
                if (!choice.poll(0.05, &event)) {
                    if (!sink.client_alive()) return running->abort_all();
                    continue;
                }
                std::string shown = masker->feed(event.content);  // reasoning is never shown in a study
                if (choice.finished()) shown += masker->finish();
                if (!shown.empty() && !sink.write_event(store::dump_json({{"content", shown}})))
                    return running->abort_all();
            }
            running->observe(*st);
            if (choice.failed()) {
                sink.write_event(store::dump_json({{"error", {{"message", "the model failed; try again"}}}}));
            } else {
                sink.write_event(store::dump_json({{"done", true}}));
            }
            sink.write("data: [DONE]\n\n");
        };
        response.on_close = [running, st](bool) {
            running->abort_all();
            running->observe(*st);
        };
        return response;
    }

    http::HttpResponse answer(const RouteRequest& r) {
        auto found = participant(r);
        if (!found.ok()) return store_error(found.status(), r.http);
        const auto& [p, res] = *found;
        auto body = store::parse_json(r.http.body, "request body");
        if (!body.ok()) return invalid(body.status().message());
        if (!body->is_object()) return invalid("body: expected an object");
        const auto& questions = res.study.questions;
        struct Item {
            int64_t idx;
            std::optional<store::Pick> choice;
            std::optional<std::string> text;
        };
        std::vector<Item> items;
        if (auto list = body->find("answers"); list != body->end() && !list->is_null()) {
            if (!list->is_array()) return invalid("body.answers: expected an array");
            for (const auto& a : *list) {
                auto q = a.is_object() ? a.find("question") : a.end();
                auto c = a.is_object() ? a.find("choice") : a.end();
                if (q == a.end() || !q->is_number_integer() || q->get<int64_t>() < 0 ||
                    q->get<int64_t>() >= static_cast<int64_t>(questions.size()) ||
                    is_free_text(questions[q->get<int64_t>()]))
                    return invalid("body.answers[].question: expected the index of one of the study's questions");
                auto pick = c != a.end() && c->is_string()
                                ? store::parse_pick(to_study_side(c->get<std::string>(), p.a_first))
                                : std::nullopt;
                if (!pick) return invalid("body.answers[].choice: expected \"a\", \"b\", \"both\" or \"neither\"");
                items.push_back({q->get<int64_t>(), pick, std::nullopt});
            }
        }
        for (int label = 0; label < 2; ++label) {
            auto text = optional_text(*body, label == 0 ? "about_a" : "about_b");
            if (!text.ok()) return invalid(text.status().message());
            if (!*text || (*text)->empty()) continue;
            // "about_a" is about the model chatted with first: model_a when a_first, else model_b.
            const int study_side = (label == 0) == p.a_first ? 0 : 1;
            auto it = std::find(questions.begin(), questions.end(), kFreeTextQuestions[study_side]);
            if (it == questions.end()) continue;  // a study made without free-text questions
            items.push_back({it - questions.begin(), std::nullopt, **text});
        }
        if (items.empty()) return invalid("body: no answers");
        for (const auto& item : items)
            if (Status st = arena().answer(p.id, item.idx, item.choice, item.text); !st.ok())
                return store_error(st, r.http);
        return json_response(store::dump_json({{"stored", items.size()}}), 201);
    }
};

}  // namespace

RouteTable study_routes(Server::State& state, std::shared_ptr<store::Store> store, ArenaOptions options) {
    auto api = std::make_shared<StudyApi>(StudyApi{state, std::move(store), options});
    auto bind = [api](http::HttpResponse (StudyApi::*fn)(const RouteRequest&)) {
        return RouteHandler([api, fn](const RouteRequest& r) { return ((*api).*fn)(r); });
    };
    RouteTable t;
    t.add("POST", "/api/arena/studies", Access::session, bind(&StudyApi::create));
    t.add("GET", "/api/arena/studies", Access::session, bind(&StudyApi::list));
    t.add("GET", "/api/arena/studies/{id}", Access::session, bind(&StudyApi::results));
    t.add("GET", "/api/arena/study/{code}", Access::anyone, bind(&StudyApi::protocol));
    t.add("POST", "/api/arena/study/{code}/chat", Access::anyone, bind(&StudyApi::chat));
    t.add("POST", "/api/arena/study/{code}/answers", Access::anyone, bind(&StudyApi::answer));
    return t;
}

}  // namespace duet::server
