// test_api_arena.cpp: the arena's /api routes end to end: HTTP client -> real transport -> route table -> two
// scripted models streaming at once -> store on a temporary SQLite file. Battles (masked, reasoning never sent,
// randomised sides), turns with history, votes (reveal, double vote, rate limit per session), leaderboard, export;
// plus the vote limiter on its own.
#include <httplib.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "router/router.h"
#include "server/route_select.h"
#include "server/routes_api_arena.h"
#include "server/scripted_model.h"
#include "server/server.h"
#include "store/store.h"

namespace duet::test {
namespace {

using nlohmann::json;

constexpr const char* kScript =
    "{\"contains\": \"who are you\", \"reply\": \"I am {{model}}, a Llama model.\", \"pace_ms\": 0}\n"
    "{\"contains\": \"think\", \"reasoning\": \"secret plan\", \"reply\": \"done thinking\", "
    "\"pace_ms\": 0}\n"
    "{\"default\": true, \"reply\": \"{{model}} heard: {{user}}\", \"pace_ms\": 1, \"chunk\": 3}\n";

struct ArenaHarness {
    std::string dir;
    std::shared_ptr<store::Store> store;
    std::unique_ptr<server::Server> server;

    explicit ArenaHarness(int votes_per_minute = 30, std::vector<std::string> models = {"alpha", "beta"},
                          std::string api_key = "") {
        std::string tmpl = "/tmp/duet-arena-test-XXXXXX";
        dir = mkdtemp(tmpl.data()) ? tmpl : "";
        server::ServerOptions options;
        options.http.host = "127.0.0.1";
        options.http.port = 0;
        options.http.n_threads = 16;
        options.api_key = std::move(api_key);
        server = std::make_unique<server::Server>(options);
        for (const auto& name : models) {
            auto script = server::scripted::parse_script(kScript, "arena.jsonl");
            EXPECT_TRUE(script.ok()) << script.status().message();
            Status st = server->registry().add_ready(name, server::scripted::make_serving(name, std::move(*script)),
                                                     registry::Role::none, 1700000000);
            EXPECT_TRUE(st.ok()) << st.message();
        }
        auto s = store::Store::open(dir);
        EXPECT_TRUE(s.ok()) << s.status().message();
        store = std::move(s).value();
        server::ArenaOptions arena;
        arena.votes_per_minute = votes_per_minute;
        arena.max_turns = 3;
        arena.bootstrap_rounds = 20;
        EXPECT_TRUE(server->add_arena_routes(store, arena).ok());
        EXPECT_TRUE(server->start().ok());
        server->set_ready(true);
    }
    ~ArenaHarness() {
        server->stop();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::unique_ptr<httplib::Client> client(const std::string& cookie = "") const {
        auto c = std::make_unique<httplib::Client>("127.0.0.1", server->port());
        c->set_read_timeout(30, 0);
        if (!cookie.empty()) c->set_default_headers({{"Cookie", cookie}});
        return c;
    }
};

// A battle stream's events, gathered.
struct Streamed {
    int status = 0;
    int64_t battle = -1;
    int64_t turn = -1;
    std::map<std::string, std::string> shown;  // side -> text
    std::set<std::string> done;
    std::string set_cookie;
    std::string raw;
    bool ended = false;  // [DONE]
};

Streamed post_stream(httplib::Client& c, const std::string& path, const json& body) {
    Streamed out;
    auto r = c.Post(path, body.dump(), "application/json");
    if (!r) return out;
    out.status = r->status;
    out.raw = r->body;
    out.set_cookie = r->get_header_value("Set-Cookie");
    size_t pos = 0;
    while (pos < r->body.size()) {
        size_t end = r->body.find("\n\n", pos);
        if (end == std::string::npos) break;
        std::string event = r->body.substr(pos, end - pos);
        pos = end + 2;
        if (event.rfind("data: ", 0) != 0) continue;
        std::string payload = event.substr(6);
        if (payload == "[DONE]") {
            out.ended = true;
            continue;
        }
        json j = json::parse(payload);
        if (j.contains("battle")) out.battle = j["battle"].get<int64_t>();
        if (j.contains("side")) {
            std::string side = j["side"];
            if (j.contains("content")) out.shown[side] += j["content"].get<std::string>();
            if (j.value("done", false)) out.done.insert(side);
        } else if (j.contains("turn")) {
            out.turn = j["turn"].get<int64_t>();
        } else if (j.contains("content")) {  // a study chat: one model, no sides
            out.shown[""] += j["content"].get<std::string>();
        }
    }
    return out;
}

json get_json(httplib::Client& c, const std::string& path, int* status = nullptr) {
    auto r = c.Get(path);
    if (status) *status = r ? r->status : 0;
    return r ? json::parse(r->body, nullptr, false) : json();
}

json post_json(httplib::Client& c, const std::string& path, const json& body, int* status,
               std::string* retry_after = nullptr) {
    auto r = c.Post(path, body.dump(), "application/json");
    *status = r ? r->status : 0;
    if (r && retry_after) *retry_after = r->get_header_value("Retry-After");
    return r ? json::parse(r->body, nullptr, false) : json();
}

std::string cookie_of(const std::string& set_cookie) { return set_cookie.substr(0, set_cookie.find(';')); }

TEST(ApiArena, BattleStreamsBothSidesMaskedThenVoteReveals) {
    ArenaHarness a;
    auto c = a.client();
    Streamed s = post_stream(*c, "/api/arena/battles", {{"prompt", "who are you?"}});
    ASSERT_EQ(s.status, 200) << s.raw;
    ASSERT_GE(s.battle, 1);
    EXPECT_EQ(s.shown["a"], "I am [hidden], a [hidden] model.");
    EXPECT_EQ(s.shown["b"], "I am [hidden], a [hidden] model.");
    EXPECT_EQ(s.done, (std::set<std::string>{"a", "b"}));
    EXPECT_EQ(s.turn, 0);
    EXPECT_TRUE(s.ended);
    EXPECT_NE(s.raw.find("\"battle\""), std::string::npos);
    EXPECT_EQ(s.raw.find("alpha"), std::string::npos) << "a model name leaked into the stream";
    EXPECT_EQ(s.raw.find("beta"), std::string::npos) << "a model name leaked into the stream";
    ASSERT_EQ(s.set_cookie.rfind("duet_arena=", 0), 0u) << s.set_cookie;
    EXPECT_NE(s.set_cookie.find("HttpOnly"), std::string::npos);
    c = a.client(cookie_of(s.set_cookie));

    const std::string path = "/api/arena/battles/" + std::to_string(s.battle);
    int status = 0;
    json before = get_json(*c, path, &status);
    ASSERT_EQ(status, 200);
    EXPECT_FALSE(before["voted"].get<bool>());
    EXPECT_FALSE(before.contains("model_a"));
    EXPECT_EQ(before["turns"][0]["answer_a"], "I am [hidden], a [hidden] model.");

    json reveal = post_json(*c, path + "/vote", {{"winner", "a"}, {"too_ai", "b"}}, &status);
    ASSERT_EQ(status, 200) << reveal.dump();
    EXPECT_TRUE(reveal["voted"].get<bool>());
    const std::string model_a = reveal["model_a"], model_b = reveal["model_b"];
    EXPECT_EQ(std::set<std::string>({model_a, model_b}), (std::set<std::string>{"alpha", "beta"}));
    EXPECT_EQ(reveal["winner"], "a");
    EXPECT_EQ(reveal["too_ai"], "b");
    EXPECT_EQ(reveal["language"], "en");
    EXPECT_TRUE(reveal["router_pick"].is_null()) << "no router on this server, so no pick";
    EXPECT_TRUE(reveal["route"].is_null());
    const json& turn = reveal["turns"][0];
    EXPECT_EQ(turn["answer_a"], "I am " + model_a + ", a Llama model.");
    EXPECT_EQ(turn["answer_b"], "I am " + model_b + ", a Llama model.");
    EXPECT_TRUE(turn["ttft_ms_a"].is_number());
    EXPECT_GT(turn["completion_tokens_b"].get<int64_t>(), 0);

    json again = post_json(*c, path + "/vote", {{"winner", "b"}}, &status);
    EXPECT_EQ(status, 409);
    EXPECT_EQ(again["error"]["code"], "already_voted");
    json stored = get_json(*c, path, &status);
    EXPECT_EQ(stored["winner"], "a") << "the second vote changed the first";
}

TEST(ApiArena, TurnsCarryEachSidesHistoryAndReasoningStaysHidden) {
    ArenaHarness a;
    auto c = a.client();
    Streamed first = post_stream(*c, "/api/arena/battles", {{"prompt", "please think"}});
    ASSERT_EQ(first.status, 200) << first.raw;
    EXPECT_EQ(first.shown["a"], "done thinking");
    EXPECT_EQ(first.raw.find("secret plan"), std::string::npos) << "reasoning was streamed";
    const std::string path = "/api/arena/battles/" + std::to_string(first.battle);
    Streamed second = post_stream(*c, path + "/turns", {{"prompt", "more 你好"}});
    ASSERT_EQ(second.status, 200) << second.raw;
    EXPECT_EQ(second.battle, -1);
    EXPECT_EQ(second.turn, 1);
    EXPECT_EQ(second.shown["a"], "[hidden] heard: more 你好");

    int status = 0;
    json reveal = post_json(*c, path + "/vote", {{"winner", "tie"}}, &status);
    ASSERT_EQ(status, 200) << reveal.dump();
    EXPECT_EQ(reveal["turns"].size(), 2u);
    EXPECT_EQ(reveal["turns"][0]["reasoning_a"], "secret plan");  // kept for the reveal
    EXPECT_EQ(reveal["turns"][1]["answer_b"], reveal["model_b"].get<std::string>() + " heard: more 你好");

    Streamed late = post_stream(*c, path + "/turns", {{"prompt", "one more"}});
    EXPECT_EQ(late.status, 409);
    EXPECT_NE(late.raw.find("already_voted"), std::string::npos);
}

TEST(ApiArena, ErrorsAreClear) {
    ArenaHarness a;
    auto c = a.client();
    int status = 0;
    json e = post_json(*c, "/api/arena/battles/999/vote", {{"winner", "a"}}, &status);
    EXPECT_EQ(status, 404);
    EXPECT_EQ(e["error"]["code"], "not_found");
    Streamed s = post_stream(*c, "/api/arena/battles", {{"prompt", "hi"}});
    ASSERT_EQ(s.status, 200);
    const std::string path = "/api/arena/battles/" + std::to_string(s.battle);
    e = post_json(*c, path + "/vote", {{"winner", "left"}}, &status);
    EXPECT_EQ(status, 400);
    EXPECT_NE(e["error"]["message"].get<std::string>().find("body.winner"), std::string::npos);
    e = post_json(*c, path + "/vote", {{"winner", "a"}, {"understood", 3}}, &status);
    EXPECT_EQ(status, 400);
    EXPECT_EQ(post_stream(*c, "/api/arena/battles", {{"prompt", ""}}).status, 400);
    EXPECT_EQ(post_stream(*c, "/api/arena/battles", {{"prompt", "x"}, {"models", {"alpha", "alpha"}}}).status, 400);
    EXPECT_EQ(post_stream(*c, "/api/arena/battles", {{"prompt", "x"}, {"models", {"alpha", "nope"}}}).status, 404);
    EXPECT_EQ(post_stream(*c, "/api/arena/battles/abc/turns", {{"prompt", "x"}}).status, 404);
    // max_turns = 3 in the harness: turns 1 and 2, then the fourth prompt is refused.
    EXPECT_EQ(post_stream(*c, path + "/turns", {{"prompt", "2"}}).status, 200);
    EXPECT_EQ(post_stream(*c, path + "/turns", {{"prompt", "3"}}).status, 200);
    Streamed fourth = post_stream(*c, path + "/turns", {{"prompt", "4"}});
    EXPECT_EQ(fourth.status, 409);
    EXPECT_NE(fourth.raw.find("too_many_turns"), std::string::npos);
}

TEST(ApiArena, OneModelIsNotAnArena) {
    ArenaHarness a(30, {"solo"});
    auto c = a.client();
    Streamed s = post_stream(*c, "/api/arena/battles", {{"prompt", "hi"}});
    EXPECT_EQ(s.status, 409);
    EXPECT_NE(s.raw.find("not_enough_models"), std::string::npos);
}

TEST(ApiArena, SidesAreDrawnPerBattle) {
    ArenaHarness a(0);
    auto c = a.client();
    std::set<std::string> left_models;
    for (int i = 0; i < 24 && left_models.size() < 2; ++i) {
        Streamed s = post_stream(*c, "/api/arena/battles", {{"prompt", "who are you"}});
        ASSERT_EQ(s.status, 200);
        int status = 0;
        json reveal =
            post_json(*c, "/api/arena/battles/" + std::to_string(s.battle) + "/vote", {{"winner", "a"}}, &status);
        ASSERT_EQ(status, 200);
        left_models.insert(reveal["model_a"].get<std::string>());
    }
    EXPECT_EQ(left_models.size(), 2u) << "24 battles all had the same model on side A";
}

TEST(ApiArena, VotesAreRateLimitedPerSession) {
    ArenaHarness a(2);
    auto anon = a.client();
    Streamed first = post_stream(*anon, "/api/arena/battles", {{"prompt", "hi"}});
    ASSERT_EQ(first.status, 200);
    const std::string cookie = cookie_of(first.set_cookie);
    auto c = a.client(cookie);
    std::vector<int64_t> ids = {first.battle};
    for (int i = 0; i < 3; ++i) {
        Streamed s = post_stream(*c, "/api/arena/battles", {{"prompt", "hi"}});
        ASSERT_EQ(s.status, 200);
        EXPECT_TRUE(s.set_cookie.empty()) << "a second cookie for the same session";
        ids.push_back(s.battle);
    }
    int status = 0;
    std::string retry_after;
    for (int i = 0; i < 2; ++i) {
        post_json(*c, "/api/arena/battles/" + std::to_string(ids[i]) + "/vote", {{"winner", "b"}}, &status);
        EXPECT_EQ(status, 200) << "vote " << i;
    }
    json limited = post_json(*c, "/api/arena/battles/" + std::to_string(ids[2]) + "/vote", {{"winner", "b"}}, &status,
                             &retry_after);
    EXPECT_EQ(status, 429);
    EXPECT_EQ(limited["error"]["code"], "rate_limited");
    EXPECT_GE(std::atoi(retry_after.c_str()), 1);
    // Another session is not affected, and the refused battle is still open for it.
    auto other = a.client("duet_arena=0123456789abcdef0123456789abcdef");
    post_json(*other, "/api/arena/battles/" + std::to_string(ids[2]) + "/vote", {{"winner", "b"}}, &status);
    EXPECT_EQ(status, 200);
    // The first session stays limited until its votes leave the minute.
    post_json(*c, "/api/arena/battles/" + std::to_string(ids[3]) + "/vote", {{"winner", "b"}}, &status);
    EXPECT_EQ(status, 429);
}

TEST(ApiArena, LeaderboardCountsTheVotes) {
    ArenaHarness a(0);
    auto c = a.client();
    int status = 0;
    std::map<std::string, int> wins;
    const char* verdicts[] = {"a", "a", "b", "tie", "both_bad"};
    for (const char* verdict : verdicts) {
        Streamed s = post_stream(*c, "/api/arena/battles", {{"prompt", "who are you"}});
        ASSERT_EQ(s.status, 200);
        json reveal =
            post_json(*c, "/api/arena/battles/" + std::to_string(s.battle) + "/vote", {{"winner", verdict}}, &status);
        ASSERT_EQ(status, 200);
        if (std::string(verdict) == "a") ++wins[reveal["model_a"]];
        if (std::string(verdict) == "b") ++wins[reveal["model_b"]];
    }
    // A battle without a vote is not counted.
    ASSERT_EQ(post_stream(*c, "/api/arena/battles", {{"prompt", "hi"}}).status, 200);
    json board = get_json(*c, "/api/arena/leaderboard?bootstrap=30&seed=7", &status);
    ASSERT_EQ(status, 200) << board.dump();
    EXPECT_EQ(board["battles"], 5);
    EXPECT_EQ(board["both_bad"], 1);
    EXPECT_EQ(board["bootstrap_rounds"], 30);
    ASSERT_EQ(board["ratings"].size(), 2u);
    for (const auto& r : board["ratings"]) {
        EXPECT_EQ(r["battles"], 5);
        EXPECT_EQ(r["ties"], 2);
        EXPECT_EQ(r["wins"], wins[r["model"].get<std::string>()]);
        EXPECT_LE(r["elo_low"].get<double>(), r["elo"].get<double>());
        EXPECT_GE(r["elo_high"].get<double>(), r["elo"].get<double>());
    }
    EXPECT_EQ(board["by_language"]["en"]["battles"], 5);
    EXPECT_EQ(get_json(*c, "/api/arena/leaderboard?bootstrap=-1", &status).is_object(), true);
    EXPECT_EQ(status, 400);

    auto csv = c->Get("/api/arena/export");
    ASSERT_TRUE(csv);
    EXPECT_EQ(csv->status, 200);
    EXPECT_NE(csv->get_header_value("Content-Type").find("text/csv"), std::string::npos);
    EXPECT_NE(csv->body.find("who are you"), std::string::npos);
}

TEST(ApiArena, RouterPickIsStoredRevealedAndCountedInAgreement) {
    ArenaHarness a(0);
    auto router = std::make_shared<const router::Router>(std::move(router::Router::create_default()).value());
    a.server->set_routing(std::make_shared<server::RouteService>(router, "alpha", "beta"));  // alpha = expert
    auto c = a.client();
    constexpr const char* kEnglishTech = "How do I rebase a branch onto main in git?";
    constexpr const char* kCasualChinese = "今天好累啊，晚上吃点啥好呢";
    struct Case {
        const char* prompt;
        const char* route;
        const char* pick;
        const char* vote_for;  // the model voted for, or "tie"
    };
    const Case cases[] = {{kEnglishTech, "expert", "alpha", "alpha"},  // agrees
                          {kCasualChinese, "daily", "beta", "alpha"},  // disagrees
                          {kEnglishTech, "expert", "alpha", "tie"},    // no preference: not counted
                          {kCasualChinese, "daily", "beta", "beta"}};  // agrees
    int status = 0;
    for (const Case& k : cases) {
        Streamed s = post_stream(*c, "/api/arena/battles", {{"prompt", k.prompt}});
        ASSERT_EQ(s.status, 200) << s.raw;
        EXPECT_EQ(s.raw.find("expert"), std::string::npos) << "the route leaked before the vote";
        const std::string path = "/api/arena/battles/" + std::to_string(s.battle);
        auto stored = a.store->arena().battle(s.battle);
        ASSERT_TRUE(stored.ok()) << stored.status().message();
        EXPECT_EQ(stored->record.battle.route.value_or("none"), k.route) << k.prompt;
        EXPECT_EQ(stored->record.battle.router_pick.value_or("none"), k.pick) << k.prompt;
        // A later turn in the other language keeps the first prompt's pick.
        ASSERT_EQ(post_stream(*c, path + "/turns",
                              {{"prompt", k.route == std::string("expert") ? kCasualChinese : kEnglishTech}})
                      .status,
                  200);
        json before = get_json(*c, path, &status);
        EXPECT_FALSE(before.contains("router_pick")) << before.dump();
        const std::string winner = k.vote_for == std::string("tie")              ? "tie"
                                   : stored->record.battle.model_a == k.vote_for ? "a"
                                                                                 : "b";
        json reveal = post_json(*c, path + "/vote", {{"winner", winner}}, &status);
        ASSERT_EQ(status, 200) << reveal.dump();
        EXPECT_EQ(reveal["router_pick"], k.pick);
        EXPECT_EQ(reveal["route"], k.route);
    }
    json board = get_json(*c, "/api/arena/leaderboard?bootstrap=10", &status);
    ASSERT_EQ(status, 200) << board.dump();
    const json& agreement = board["router"];
    EXPECT_EQ(agreement["with_pick"], 4);
    EXPECT_EQ(agreement["pick_not_in_battle"], 0);
    EXPECT_EQ(agreement["undecided"], 1);
    EXPECT_EQ(agreement["agreement"]["successes"], 2);
    EXPECT_EQ(agreement["agreement"]["trials"], 3);
    EXPECT_NEAR(agreement["agreement"]["estimate"].get<double>(), 0.6667, 1e-4);
    EXPECT_LT(agreement["agreement"]["low"].get<double>(), 0.6667);
    EXPECT_GT(agreement["agreement"]["high"].get<double>(), 0.6667);
    const json& expert = board["router_by_route"]["expert"];
    EXPECT_EQ(expert["with_pick"], 2);
    EXPECT_EQ(expert["agreement"]["successes"], 1);
    EXPECT_EQ(expert["agreement"]["trials"], 1);
    const json& daily = board["router_by_route"]["daily"];
    EXPECT_EQ(daily["agreement"]["successes"], 1);
    EXPECT_EQ(daily["agreement"]["trials"], 2);
    EXPECT_EQ(board["by_route"]["expert"]["battles"], 2);
    EXPECT_EQ(board["by_route"]["daily"]["battles"], 2);

    auto csv = c->Get("/api/arena/export");
    ASSERT_TRUE(csv);
    EXPECT_NE(csv->body.find(",expert,alpha,en,0,"), std::string::npos) << csv->body;
    EXPECT_NE(csv->body.find(",daily,beta,zh,0,"), std::string::npos) << csv->body;
    auto jsonl = c->Get("/api/arena/export?format=jsonl");
    ASSERT_TRUE(jsonl);
    EXPECT_EQ(jsonl->status, 200);
    EXPECT_NE(jsonl->get_header_value("Content-Type").find("application/x-ndjson"), std::string::npos);
    std::istringstream lines(jsonl->body);
    int n_lines = 0;
    for (std::string line; std::getline(lines, line); ++n_lines) {
        const json b = json::parse(line);
        EXPECT_EQ(b["router_pick"], cases[n_lines].pick);
        EXPECT_EQ(b["route"], cases[n_lines].route);
        EXPECT_EQ(b["turns"].size(), 2u);
        EXPECT_TRUE(b["vote"].is_object());
    }
    EXPECT_EQ(n_lines, 4);
    auto bad = c->Get("/api/arena/export?format=xml");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400);
}

TEST(ApiStudy, ThreeParticipantsEndToEnd) {
    ArenaHarness a;
    auto organiser = a.client();
    int status = 0;
    json study = post_json(
        *organiser, "/api/arena/studies",
        {{"name", "pilot"}, {"model_a", "alpha"}, {"model_b", "beta"}, {"minutes_per_model", 1}, {"participants", 3}},
        &status);
    ASSERT_EQ(status, 201) << study.dump();
    ASSERT_EQ(study["invites"].size(), 3u);
    EXPECT_EQ(study["questions"].size(), 3u);  // the three default questions; free text is kept apart
    std::vector<bool> a_first;
    for (const auto& inv : study["invites"]) a_first.push_back(inv["a_first"].get<bool>());
    EXPECT_EQ(a_first, (std::vector<bool>{true, false, true}));  // counterbalanced

    // Participant i: chats with "Model A" (masked), then answers in their own labels.
    const char* keep[] = {"a", "a", "b"};                 // study terms: alpha, beta, beta
    const char* understood[] = {"both", "neither", "a"};  // alpha+beta, none, alpha
    for (int i = 0; i < 3; ++i) {
        const std::string code = study["invites"][i]["code"];
        auto participant = a.client();
        json protocol = get_json(*participant, "/api/arena/study/" + code, &status);
        ASSERT_EQ(status, 200) << protocol.dump();
        EXPECT_EQ(protocol["minutes_per_model"], 1);
        EXPECT_FALSE(protocol["answered"].get<bool>());
        EXPECT_FALSE(protocol.contains("model_a"));
        Streamed chat = post_stream(*participant, "/api/arena/study/" + code + "/chat",
                                    {{"model", "A"}, {"messages", {{{"role", "user"}, {"content", "who are you"}}}}});
        ASSERT_EQ(chat.status, 200) << chat.raw;
        EXPECT_EQ(chat.shown[""], "I am [hidden], a [hidden] model.") << chat.raw;
        EXPECT_EQ(chat.raw.find("alpha"), std::string::npos);
        EXPECT_EQ(chat.raw.find("beta"), std::string::npos);
        json answers = {
            {"answers", {{{"question", 0}, {"choice", keep[i]}}, {{"question", 1}, {"choice", understood[i]}}}}};
        if (i == 1) answers["about_a"] = "It said As an AI language model. I hope this helps!";
        json stored = post_json(*participant, "/api/arena/study/" + code + "/answers", answers, &status);
        ASSERT_EQ(status, 201) << stored.dump();
        EXPECT_EQ(stored["stored"], i == 1 ? 3 : 2);
        json again = post_json(*participant, "/api/arena/study/" + code + "/answers", answers, &status);
        EXPECT_EQ(status, 409);
        EXPECT_EQ(again["error"]["code"], "already_answered");
    }
    EXPECT_EQ(get_json(*organiser, "/api/arena/study/nope", &status).is_object(), true);
    EXPECT_EQ(status, 404);

    json results = get_json(*organiser, "/api/arena/studies/" + std::to_string(study["id"].get<int64_t>()), &status);
    ASSERT_EQ(status, 200) << results.dump();
    EXPECT_EQ(results["joined"], 3);
    EXPECT_EQ(results["answered"], 3);
    // Participant 1 saw beta first: their "a" is beta. Keep chatting: alpha 1 (p0), beta 2 (p1, p2).
    const json& q0 = results["results"][0];
    EXPECT_EQ(q0["respondents"], 3);
    EXPECT_EQ(q0["models"][0]["model"], "alpha");
    EXPECT_EQ(q0["models"][0]["named"], 1);
    EXPECT_EQ(q0["models"][1]["named"], 2);
    EXPECT_NEAR(q0["models"][1]["share"]["estimate"].get<double>(), 2.0 / 3, 1e-9);
    EXPECT_LT(q0["models"][1]["share"]["low"].get<double>(), 2.0 / 3);
    // Understood: p0 both, p1 neither, p2 "a" = alpha -> alpha 2, beta 1.
    EXPECT_EQ(results["results"][1]["models"][0]["named"], 2);
    EXPECT_EQ(results["results"][1]["models"][1]["named"], 1);
    EXPECT_EQ(results["results"][2]["respondents"], 0);
    // p1's free text about their first model is about beta.
    ASSERT_EQ(results["free_text"].size(), 1u);
    EXPECT_EQ(results["free_text"][0]["model"], "beta");
    EXPECT_EQ(results["ai_speak"][0]["total"], 0);
    EXPECT_GE(results["ai_speak"][1]["total"].get<int>(), 2);
}

TEST(ApiStudy, InviteCodesAreTheParticipantsCredential) {
    ArenaHarness a(30, {"alpha", "beta"}, "sekret");
    auto organiser = a.client();
    organiser->set_default_headers({{"Authorization", "Bearer sekret"}});
    auto stranger = a.client();
    int status = 0;
    post_json(*stranger, "/api/arena/studies", {{"model_a", "alpha"}, {"model_b", "beta"}}, &status);
    EXPECT_EQ(status, 401);
    EXPECT_EQ(post_stream(*stranger, "/api/arena/battles", {{"prompt", "hi"}}).status, 401);
    json study = post_json(*organiser, "/api/arena/studies",
                           {{"model_a", "alpha"}, {"model_b", "beta"}, {"participants", 1}}, &status);
    ASSERT_EQ(status, 201) << study.dump();
    const std::string code = study["invites"][0]["code"];
    get_json(*stranger, "/api/arena/study/" + code, &status);
    EXPECT_EQ(status, 200);
    get_json(*stranger, "/api/arena/studies/" + std::to_string(study["id"].get<int64_t>()), &status);
    EXPECT_EQ(status, 401);
    post_json(*organiser, "/api/arena/studies", {{"model_a", "alpha"}, {"model_b", "nope"}}, &status);
    EXPECT_EQ(status, 404);
    post_json(*organiser, "/api/arena/studies", {{"model_a", "alpha"}, {"model_b", "beta"}, {"minutes_per_model", 0}},
              &status);
    EXPECT_EQ(status, 400);
}

TEST(VoteLimiter, SlidingWindowPerKey) {
    server::VoteLimiter limiter(2, 60);
    double retry = 0;
    EXPECT_TRUE(limiter.try_take("s1", 100, &retry));
    EXPECT_TRUE(limiter.try_take("s1", 110, &retry));
    EXPECT_FALSE(limiter.try_take("s1", 120, &retry));
    EXPECT_DOUBLE_EQ(retry, 40);  // the vote at 100 leaves the window at 160
    EXPECT_TRUE(limiter.try_take("s2", 120, &retry));
    EXPECT_TRUE(limiter.try_take("s1", 160, &retry));
    EXPECT_FALSE(limiter.try_take("s1", 165, &retry));
    limiter.give_back("s1");
    EXPECT_TRUE(limiter.try_take("s1", 165, &retry));
    server::VoteLimiter unlimited(0, 60);
    for (int i = 0; i < 100; ++i) EXPECT_TRUE(unlimited.try_take("s", 1, &retry));
}

}  // namespace
}  // namespace duet::test
