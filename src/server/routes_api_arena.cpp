// routes_api_arena.cpp: the arena's /api routes over store::ArenaStore and the served models (see the header).
#include "server/routes_api_arena.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

#include "arena/battle_text.h"
#include "common/log.h"
#include "common/strformat.h"
#include "common/timer.h"
#include "router/router.h"
#include "server/request_flow.h"
#include "server/server_state.h"
#include "store/arena_store.h"
#include "store/codec_json.h"
#include "store/csv_export.h"
#include "store/store.h"

namespace duet::server {

using nlohmann::json;

namespace {

constexpr std::string_view kArenaCookie = "duet_arena";
constexpr double kVoteWindowSeconds = 60;
constexpr size_t kMaxPromptBytes = 32 * 1024;
constexpr const char* kSideNames[2] = {"a", "b"};

openai::ApiError api_error(int status, const char* type, const char* code, std::string message) {
    openai::ApiError e;
    e.status = status;
    e.type = type;
    e.code = code;
    e.message = std::move(message);
    return e;
}

http::HttpResponse invalid(std::string message, const char* code = "invalid_value") {
    return error_response(api_error(400, "invalid_request_error", code, std::move(message)));
}

http::HttpResponse conflict(const char* code, std::string message) {
    return error_response(api_error(409, "invalid_request_error", code, std::move(message)));
}

http::HttpResponse store_error(const Status& st, const http::HttpRequest& request) {
    switch (st.code()) {
        case StatusCode::not_found:
            return error_response(api_error(404, "not_found_error", "not_found", st.message()));
        case StatusCode::already_exists:
            return conflict("already_voted", st.message());
        case StatusCode::invalid_argument:
            return invalid(st.message());
        default:
            DUET_LOG_ERROR("api %s %s (request %s): %s", request.method.c_str(), request.path.c_str(),
                           request.request_id.c_str(), st.message().c_str());
            return error_response(openai::ApiError::internal());
    }
}

std::string random_token() {
    std::random_device device;
    std::string out;
    for (int i = 0; i < 4; ++i) out += strformat("%08x", device());
    return out;
}

bool is_token(std::string_view s) {
    return s.size() == 32 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The session votes are counted against: the page's sign-in, else the arena cookie, else one shared bucket.
std::string voter_key(const http::HttpRequest& request) {
    const std::string cookies = request.header("Cookie");
    if (std::string s = cookie_value(cookies, kSessionCookie); !s.empty()) return "session:" + s;
    if (std::string a = cookie_value(cookies, kArenaCookie); is_token(a)) return "arena:" + a;
    return "anonymous";
}

std::optional<int64_t> battle_id_of(const RouteRequest& r) {
    std::string_view id = r.param("id");
    if (id.empty() || id.size() > 18 || !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return std::stoll(std::string(id));
}

// {"prompt": "..."}: a non-empty string of at most 32 KiB.
Result<std::string> prompt_of(const json& body) {
    auto p = body.is_object() ? body.find("prompt") : body.end();
    if (p == body.end() || !p->is_string() || p->get_ref<const std::string&>().empty())
        return Status::invalid_argument("body.prompt: expected a non-empty string");
    if (p->get_ref<const std::string&>().size() > kMaxPromptBytes)
        return Status::invalid_argument("body.prompt: longer than 32 KiB");
    return p->get<std::string>();
}

// One side of a turn: its request in the engine, the masker for what is shown, and the raw answer.
struct SideRun {
    std::string model;
    std::shared_ptr<RunningRequest> running;
    std::unique_ptr<arena::NameMasker> masker;
    std::string answer, reasoning;
    bool done = false;
};

struct TurnRun {
    int64_t battle_id = 0;
    bool announce_battle = false;
    std::string prompt;
    SideRun sides[2];
    std::shared_ptr<store::Store> store;

    void abort_all() {
        for (auto& s : sides)
            if (s.running) s.running->abort_all();
    }
    void observe(Server::State& state) {
        for (auto& s : sides)
            if (s.running) s.running->observe(state);
    }
};

std::optional<double> positive_or_none(double x) { return x > 0 ? std::optional<double>(x) : std::nullopt; }

store::BattleTurn turn_record(const TurnRun& run) {
    store::BattleTurn t;
    t.prompt = run.prompt;
    t.answer_a = run.sides[0].answer;
    t.answer_b = run.sides[1].answer;
    std::optional<std::string>* reasoning[2] = {&t.reasoning_a, &t.reasoning_b};
    std::optional<double>* ttft[2] = {&t.ttft_ms_a, &t.ttft_ms_b};
    std::optional<double>* tps[2] = {&t.tokens_per_second_a, &t.tokens_per_second_b};
    std::optional<int64_t>* tokens[2] = {&t.completion_tokens_a, &t.completion_tokens_b};
    for (int s = 0; s < 2; ++s) {
        const SideRun& side = run.sides[s];
        if (!side.reasoning.empty()) *reasoning[s] = side.reasoning;
        const ChoiceStats& stats = side.running->choices.front()->stats();
        *ttft[s] = positive_or_none(stats.server_ttft_seconds * 1e3);
        // A rate needs tokens that arrived apart: an answer delivered in one piece (a batching upstream, a scripted
        // reply without spaces) has no decode interval to divide by.
        const double decode_seconds = stats.total_seconds - stats.first_token_seconds;
        if (stats.n_generated_tokens > 1 && decode_seconds > 0 && !stats.inter_token_seconds.empty())
            *tps[s] = (stats.n_generated_tokens - 1) / decode_seconds;
        *tokens[s] = stats.n_generated_tokens;
    }
    return t;
}

json battle_json(const store::BattleDetail& detail) {
    const store::Battle& b = detail.record.battle;
    const bool voted = detail.record.vote.has_value();
    const auto terms = arena::mask_terms_for({b.model_a, b.model_b});
    auto opt = [](const auto& v) { return v ? json(*v) : json(nullptr); };
    json turns = json::array();
    for (const auto& t : detail.turns) {
        json turn = {{"turn", t.turn},
                     {"prompt", t.prompt},
                     {"answer_a", voted ? t.answer_a : arena::mask_names(t.answer_a, terms)},
                     {"answer_b", voted ? t.answer_b : arena::mask_names(t.answer_b, terms)}};
        if (voted) {
            turn["reasoning_a"] = opt(t.reasoning_a);
            turn["reasoning_b"] = opt(t.reasoning_b);
            turn["ttft_ms_a"] = opt(t.ttft_ms_a);
            turn["ttft_ms_b"] = opt(t.ttft_ms_b);
            turn["tokens_per_second_a"] = opt(t.tokens_per_second_a);
            turn["tokens_per_second_b"] = opt(t.tokens_per_second_b);
            turn["completion_tokens_a"] = opt(t.completion_tokens_a);
            turn["completion_tokens_b"] = opt(t.completion_tokens_b);
        }
        turns.push_back(std::move(turn));
    }
    json j = {{"id", b.id}, {"voted", voted}, {"turns", std::move(turns)}};
    if (voted) {
        const store::Vote& v = *detail.record.vote;
        auto pick = [](const std::optional<store::Pick>& p) {
            return p ? json(std::string(store::pick_name(*p))) : json(nullptr);
        };
        j["model_a"] = b.model_a;
        j["model_b"] = b.model_b;
        j["winner"] = std::string(store::verdict_name(v.winner));
        j["keep_chatting"] = pick(v.keep_chatting);
        j["understood"] = pick(v.understood);
        j["too_ai"] = pick(v.too_ai);
        j["route"] = opt(b.route);
        j["router_pick"] = opt(b.router_pick);
        j["language"] = opt(b.language);
    }
    return j;
}

struct ArenaApi {
    Server::State& state;
    std::shared_ptr<store::Store> store;
    ArenaOptions options;
    VoteLimiter limiter;

    ArenaApi(Server::State& s, std::shared_ptr<store::Store> st, ArenaOptions o)
        : state(s), store(std::move(st)), options(o), limiter(o.votes_per_minute, kVoteWindowSeconds) {}

    // Submits one side: the history of that side plus the new prompt.
    bool start_side(const std::vector<registry::ChatMessage>& messages, double arrival, SideRun* side,
                    openai::ApiError* error) {
        auto model = state.find_model(side->model, error);
        if (!model) return false;
        auto prompt = model->backend.codec->encode_chat(messages, true);
        if (!prompt.ok()) {
            *error = openai::ApiError::invalid(prompt.status().message(), "prompt");
            return false;
        }
        const int64_t room = model->backend.engine->context_length() - static_cast<int64_t>(prompt->size());
        if (room < 1) {
            *error = openai::ApiError::context_length("the conversation no longer fits one of the models' context");
            return false;
        }
        SubmitPlan plan;
        plan.prompt = std::move(prompt).value();
        plan.gen.max_tokens = static_cast<int32_t>(std::min<int64_t>(options.max_tokens, room));
        plan.arrival_seconds = arrival;
        side->running = std::make_shared<RunningRequest>();
        return start_request(state, model, plan, side->running.get(), error);
    }

    // Starts both sides of a turn (history from the stored turns) and returns the SSE response.
    http::HttpResponse start_turn(const std::shared_ptr<TurnRun>& run, const std::vector<store::BattleTurn>& history,
                                  double arrival, const std::function<Result<int64_t>()>& create_battle,
                                  const http::HttpRequest& request) {
        const auto terms = arena::mask_terms_for({run->sides[0].model, run->sides[1].model});
        for (int s = 0; s < 2; ++s) {
            std::vector<registry::ChatMessage> messages;
            for (const auto& t : history) {
                messages.push_back({"user", t.prompt, ""});
                messages.push_back({"assistant", s == 0 ? t.answer_a : t.answer_b, ""});
            }
            messages.push_back({"user", run->prompt, ""});
            run->sides[s].masker = std::make_unique<arena::NameMasker>(terms);
            openai::ApiError error;
            if (!start_side(messages, arrival, &run->sides[s], &error)) {
                run->abort_all();
                return error_response(error);
            }
        }
        if (create_battle) {
            auto id = create_battle();
            if (!id.ok()) {
                run->abort_all();
                return store_error(id.status(), request);
            }
            run->battle_id = *id;
        }
        http::HttpResponse response;
        response.content_type = "text/event-stream";
        Server::State* st = &state;
        response.stream = [run, st, request_id = request.request_id](http::EventSink& sink) {
            stream_turn(*st, *run, sink, request_id);
        };
        response.on_close = [run, st](bool) {
            run->abort_all();
            run->observe(*st);
        };
        return response;
    }

    static void stream_turn(Server::State& state, TurnRun& run, http::EventSink& sink, const std::string& request_id) {
        auto write = [&](const json& j) { return sink.write_event(store::dump_json(j)); };
        if (run.announce_battle && !write({{"battle", run.battle_id}})) return run.abort_all();
        bool failed = false;
        while (!failed && !(run.sides[0].done && run.sides[1].done)) {
            for (int s = 0; s < 2 && !failed; ++s) {
                SideRun& side = run.sides[s];
                if (side.done) continue;
                ChoiceStream& choice = *side.running->choices.front();
                ChoiceEvent event;
                const bool other_done = run.sides[1 - s].done;
                if (!choice.poll(other_done ? 0.05 : 0.005, &event) && !choice.finished()) continue;
                if (choice.failed()) {
                    failed = true;
                    break;
                }
                side.answer += event.content;
                side.reasoning += event.reasoning;  // kept for the reveal, never streamed
                std::string shown = side.masker->feed(event.content);
                if (choice.finished()) shown += side.masker->finish();
                if (!shown.empty() && !write({{"side", kSideNames[s]}, {"content", shown}})) return run.abort_all();
                if (choice.finished()) {
                    side.done = true;
                    if (!write({{"side", kSideNames[s]}, {"done", true}})) return run.abort_all();
                }
            }
            if (!sink.client_alive()) return run.abort_all();
        }
        run.observe(state);
        if (failed) {
            DUET_LOG_ERROR("request %s: arena battle %lld: engine error mid-stream", request_id.c_str(),
                           static_cast<long long>(run.battle_id));
            run.abort_all();
            sink.write_event(
                store::dump_json({{"error", json::parse(openai::error_json(openai::ApiError::internal()))["error"]}}));
            sink.write("data: [DONE]\n\n");
            return;
        }
        auto stored = run.store->arena().record_turn(run.battle_id, turn_record(run));
        if (!stored.ok()) {
            DUET_LOG_ERROR("request %s: arena battle %lld: %s", request_id.c_str(),
                           static_cast<long long>(run.battle_id), stored.status().message().c_str());
            sink.write_event(store::dump_json({{"error", {{"message", "the turn could not be stored"}}}}));
        } else {
            write({{"turn", stored->turn}, {"done", true}});
        }
        sink.write("data: [DONE]\n\n");
    }

    // The router's pick for a battle's first prompt, as duet-auto would route it in a new conversation (no
    // stickiness): the role and the model that plays it. Nothing when the server has no router (no expert and
    // daily roles). Later turns keep this pick: the vote is about the whole battle.
    void add_router_pick(const std::string& prompt, store::BattleDraft* draft) const {
        const std::shared_ptr<RouteService> routing = state.routing();
        if (!routing) return;
        const router::Decision decision = routing->router().decide(prompt);
        draft->route = std::string(router::role_name(decision.role));
        draft->router_pick = decision.role == router::Role::expert ? routing->expert_model() : routing->daily_model();
    }

    std::vector<std::string> chat_models() const {
        std::vector<std::string> names;
        for (const auto& m : state.all_models())
            if (!m->entry || m->entry->capabilities().chat) names.push_back(m->backend.name);
        return names;
    }

    http::HttpResponse start_battle(const RouteRequest& r) {
        const double arrival = now_seconds();
        auto body = store::parse_json(r.http.body, "request body");
        if (!body.ok()) return invalid(body.status().message(), "invalid_json");
        auto prompt = prompt_of(*body);
        if (!prompt.ok()) return invalid(prompt.status().message());
        std::vector<std::string> pair;
        if (auto m = body->find("models"); m != body->end() && !m->is_null()) {
            if (!m->is_array() || m->size() != 2 || !(*m)[0].is_string() || !(*m)[1].is_string() || (*m)[0] == (*m)[1])
                return invalid("body.models: expected two different model names");
            pair = {(*m)[0].get<std::string>(), (*m)[1].get<std::string>()};
        } else {
            std::vector<std::string> names = chat_models();
            if (names.size() < 2)
                return conflict("not_enough_models",
                                strformat("the arena needs two chat models; this server serves %zu", names.size()));
            std::mt19937_64 rng{std::random_device{}()};
            std::shuffle(names.begin(), names.end(), rng);
            pair = {names[0], names[1]};
        }
        std::mt19937_64 rng{std::random_device{}()};
        if (rng() & 1) std::swap(pair[0], pair[1]);  // sides drawn per battle

        auto run = std::make_shared<TurnRun>();
        run->announce_battle = true;
        run->prompt = std::move(prompt).value();
        run->store = store;
        run->sides[0].model = pair[0];
        run->sides[1].model = pair[1];
        const std::string cookies = r.http.header("Cookie");
        const bool has_cookie =
            !cookie_value(cookies, kSessionCookie).empty() || is_token(cookie_value(cookies, kArenaCookie));
        const std::string token = has_cookie ? "" : random_token();
        store::BattleDraft draft;
        draft.model_a = pair[0];
        draft.model_b = pair[1];
        draft.session = token.empty() ? voter_key(r.http) : "arena:" + token;
        if (std::string language = arena::guess_language(run->prompt); !language.empty()) draft.language = language;
        auto create = [this, draft, prompt = run->prompt]() mutable -> Result<int64_t> {
            add_router_pick(prompt, &draft);  // after both sides are submitted: the decision never delays them
            DUET_TRY(store::Battle b, store->arena().create_battle(draft));
            return b.id;
        };
        http::HttpResponse response = start_turn(run, {}, arrival, create, r.http);
        if (!token.empty() && response.stream)
            response.headers.emplace_back("Set-Cookie", std::string(kArenaCookie) + "=" + token +
                                                            "; HttpOnly; SameSite=Strict; Path=/; Max-Age=31536000");
        return response;
    }

    http::HttpResponse next_turn(const RouteRequest& r) {
        const double arrival = now_seconds();
        auto id = battle_id_of(r);
        if (!id) return error_response(api_error(404, "not_found_error", "not_found", "battle not found"));
        auto body = store::parse_json(r.http.body, "request body");
        if (!body.ok()) return invalid(body.status().message(), "invalid_json");
        auto prompt = prompt_of(*body);
        if (!prompt.ok()) return invalid(prompt.status().message());
        auto detail = store->arena().battle(*id);
        if (!detail.ok()) return store_error(detail.status(), r.http);
        if (detail->record.vote)
            return conflict("already_voted", strformat("battle %lld is voted; start a new one", (long long)*id));
        if (static_cast<int>(detail->turns.size()) >= options.max_turns)
            return conflict("too_many_turns", strformat("a battle has at most %d turns; vote now", options.max_turns));
        auto run = std::make_shared<TurnRun>();
        run->battle_id = *id;
        run->prompt = std::move(prompt).value();
        run->store = store;
        run->sides[0].model = detail->record.battle.model_a;
        run->sides[1].model = detail->record.battle.model_b;
        return start_turn(run, detail->turns, arrival, nullptr, r.http);
    }

    http::HttpResponse vote(const RouteRequest& r) {
        auto id = battle_id_of(r);
        if (!id) return error_response(api_error(404, "not_found_error", "not_found", "battle not found"));
        auto body = store::parse_json(r.http.body, "request body");
        if (!body.ok()) return invalid(body.status().message(), "invalid_json");
        if (!body->is_object()) return invalid("body: expected an object");
        store::Vote v;
        auto winner = body->find("winner");
        auto verdict = winner != body->end() && winner->is_string() ? store::parse_verdict(winner->get<std::string>())
                                                                    : std::nullopt;
        if (!verdict) return invalid("body.winner: expected \"a\", \"b\", \"tie\" or \"both_bad\"");
        v.winner = *verdict;
        for (auto [key, field] : {std::pair{"keep_chatting", &v.keep_chatting}, std::pair{"understood", &v.understood},
                                  std::pair{"too_ai", &v.too_ai}}) {
            auto it = body->find(key);
            if (it == body->end() || it->is_null()) continue;
            auto pick = it->is_string() ? store::parse_pick(it->get<std::string>()) : std::nullopt;
            if (!pick) return invalid(strformat("body.%s: expected \"a\", \"b\", \"both\" or \"neither\"", key));
            *field = *pick;
        }
        auto detail = store->arena().battle(*id);
        if (!detail.ok()) return store_error(detail.status(), r.http);
        if (detail->record.vote)
            return conflict("already_voted", strformat("battle %lld already has a vote", (long long)*id));
        if (detail->turns.empty()) return conflict("no_answers", "this battle has no answers to vote on yet");
        const std::string key = voter_key(r.http);
        double retry_after = 0;
        if (!limiter.try_take(key, now_seconds(), &retry_after)) {
            openai::ApiError e = api_error(429, "rate_limit_error", "rate_limited",
                                           strformat("at most %d votes a minute per session; try again in %.0f s",
                                                     options.votes_per_minute, std::ceil(retry_after)));
            e.retry_after_seconds = std::max(1, static_cast<int>(std::ceil(retry_after)));
            return error_response(e);
        }
        v.session = key;
        if (Status st = store->arena().vote(*id, v); !st.ok()) {
            limiter.give_back(key);
            return store_error(st, r.http);
        }
        auto revealed = store->arena().battle(*id);
        if (!revealed.ok()) return store_error(revealed.status(), r.http);
        return json_response(store::dump_json(battle_json(*revealed)));
    }

    http::HttpResponse get_battle(const RouteRequest& r) {
        auto id = battle_id_of(r);
        if (!id) return error_response(api_error(404, "not_found_error", "not_found", "battle not found"));
        auto detail = store->arena().battle(*id);
        if (!detail.ok()) return store_error(detail.status(), r.http);
        return json_response(store::dump_json(battle_json(*detail)));
    }

    http::HttpResponse leaderboard(const RouteRequest& r) {
        auto rounds = r.query_int("bootstrap", options.bootstrap_rounds, 0, 10000);
        if (!rounds.ok()) return invalid(rounds.status().message());
        auto seed = r.query_int("seed", 1, 0, INT64_MAX);
        if (!seed.ok()) return invalid(seed.status().message());
        auto battles = load_arena_battles(store->arena());
        if (!battles.ok()) return store_error(battles.status(), r.http);
        arena::LeaderboardOptions o;
        o.bootstrap_rounds = static_cast<int>(*rounds);
        o.seed = static_cast<uint64_t>(*seed);
        return json_response(arena_report_json(arena::build_report(*battles, o)));
    }

    // ?format=csv (default) or jsonl (one battle per line, vote and turns nested).
    http::HttpResponse export_battles(const RouteRequest& r) {
        const std::string format = r.query_value("format").value_or("csv");
        if (format != "csv" && format != "jsonl") return invalid("format: expected \"csv\" or \"jsonl\"");
        const bool jsonl = format == "jsonl";
        std::ostringstream out;
        const Status st =
            jsonl ? store::write_battles_jsonl(store->arena(), out) : store::write_battles_csv(store->arena(), out);
        if (!st.ok()) return store_error(st, r.http);
        http::HttpResponse response;
        response.body = out.str();
        response.content_type = jsonl ? "application/x-ndjson; charset=utf-8" : "text/csv; charset=utf-8";
        response.headers.emplace_back("Content-Disposition", jsonl ? "attachment; filename=\"duet-battles.jsonl\""
                                                                   : "attachment; filename=\"duet-battles.csv\"");
        return response;
    }
};

}  // namespace

RouteTable arena_routes(Server::State& state, std::shared_ptr<store::Store> store, ArenaOptions options) {
    auto api = std::make_shared<ArenaApi>(state, std::move(store), options);
    auto bind = [api](http::HttpResponse (ArenaApi::*fn)(const RouteRequest&)) {
        return RouteHandler([api, fn](const RouteRequest& r) { return ((*api).*fn)(r); });
    };
    const Access s = Access::session;
    RouteTable t;
    t.add("POST", "/api/arena/battles", s, bind(&ArenaApi::start_battle));
    t.add("GET", "/api/arena/battles/{id}", s, bind(&ArenaApi::get_battle));
    t.add("POST", "/api/arena/battles/{id}/turns", s, bind(&ArenaApi::next_turn));
    t.add("POST", "/api/arena/battles/{id}/vote", s, bind(&ArenaApi::vote));
    t.add("GET", "/api/arena/leaderboard", s, bind(&ArenaApi::leaderboard));
    t.add("GET", "/api/arena/export", s, bind(&ArenaApi::export_battles));
    return t;
}

}  // namespace duet::server
