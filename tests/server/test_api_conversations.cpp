// test_api_conversations.cpp: the page's /api/ routes end to end: HTTP client -> real transport -> route table ->
// store on a temporary SQLite file. Every route of the contract, its errors (OpenAI shape), cross-site refusal,
// auth, and a conversation that survives a server restart.
#include <cstdlib>
#include <filesystem>

#include "serve_process.h"
#include "server/routes_api_conversations.h"
#include "server_harness.h"
#include "store/store.h"

namespace duet::test {
namespace {

class TempDataDir {
public:
    TempDataDir() {
        std::string tmpl = "/tmp/duet-api-test-XXXXXX";
        path_ = mkdtemp(tmpl.data()) ? tmpl : "";
    }
    ~TempDataDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

struct ApiHarness {
    std::unique_ptr<ServerHarness> h;
    std::shared_ptr<store::Store> store;

    explicit ApiHarness(const std::string& data_dir, const std::string& api_key = "") {
        h = std::make_unique<ServerHarness>(api_key);
        auto s = store::Store::open(data_dir);
        EXPECT_TRUE(s.ok()) << s.status().message();
        store = std::move(s).value();
        auto names = [] { return std::vector<std::string>{"alpha", "deepseek-r1-distill-qwen-1.5b"}; };
        Status st = h->server->add_routes(server::api_conversation_routes(store, names));
        EXPECT_TRUE(st.ok()) << st.message();
    }
    std::unique_ptr<httplib::Client> client(const std::string& key = "") const { return h->client(key); }
};

json body_of(const httplib::Result& r) {
    if (!r) return json();
    return json::parse(r->body, nullptr, false);
}

std::string create(httplib::Client& c, const std::string& title) {
    auto r = c.Post("/api/conversations", json{{"title", title}}.dump(), "application/json");
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no response");
    return body_of(r)["id"].get<std::string>();
}

TEST(ApiConversations, CreateGetListPatchDelete) {
    TempDataDir dir;
    ApiHarness a(dir.path());
    auto c = a.client();
    auto created = c->Post("/api/conversations", R"({"title":"First","mode":"expert","settings":{"temperature":0.2}})",
                           "application/json");
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 201) << created->body;
    json conv = body_of(created);
    std::string id = conv["id"];
    EXPECT_EQ(conv["title"], "First");
    EXPECT_EQ(conv["mode"], "expert");
    EXPECT_EQ(conv["settings"]["temperature"], 0.2);
    EXPECT_TRUE(conv["settings"]["top_p"].is_null());
    EXPECT_EQ(conv["messages"], json::array());
    auto empty_body = c->Post("/api/conversations", "", "application/json");  // every field optional
    ASSERT_TRUE(empty_body);
    EXPECT_EQ(empty_body->status, 201);
    EXPECT_EQ(body_of(empty_body)["title"], "New conversation");

    auto listed = c->Get("/api/conversations");
    ASSERT_TRUE(listed);
    json list = body_of(listed);
    ASSERT_EQ(list["data"].size(), 2u);
    EXPECT_EQ(list["data"][1]["id"], id);  // newest first
    EXPECT_EQ(list["has_more"], false);
    EXPECT_TRUE(list["next_cursor"].is_null());

    auto patched = c->Patch("/api/conversations/" + id, R"({"title":"Renamed","settings":{"temperature":null}})",
                            "application/json");
    ASSERT_TRUE(patched);
    ASSERT_EQ(patched->status, 200) << patched->body;
    EXPECT_EQ(body_of(patched)["title"], "Renamed");
    EXPECT_TRUE(body_of(patched)["settings"]["temperature"].is_null());
    EXPECT_EQ(body_of(patched)["mode"], "expert");  // absent keys unchanged

    auto removed = c->Delete("/api/conversations/" + id);
    ASSERT_TRUE(removed);
    EXPECT_EQ(removed->status, 204);
    auto gone = c->Get("/api/conversations/" + id);
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->status, 404);
    EXPECT_TRUE(is_error_body(gone->body));
    EXPECT_EQ(body_of(gone)["error"]["code"], "not_found");
    auto gone_again = c->Delete("/api/conversations/" + id);
    ASSERT_TRUE(gone_again);
    EXPECT_EQ(gone_again->status, 404);
}

TEST(ApiConversations, MessagesAndTailReplacement) {
    TempDataDir dir;
    ApiHarness a(dir.path());
    auto c = a.client();
    std::string id = create(*c, "chat");
    std::string path = "/api/conversations/" + id;
    auto u = c->Post(path + "/messages", R"({"role":"user","content":"What is 2+2?"})", "application/json");
    ASSERT_TRUE(u);
    ASSERT_EQ(u->status, 201) << u->body;
    EXPECT_EQ(body_of(u)["ordinal"], 0);
    json answer = {{"role", "assistant"},
                   {"content", "4"},
                   {"reasoning", "2+2=4"},
                   {"model", "alpha"},
                   {"route", {{"model", "alpha"}, {"explanation", "arithmetic"}}},
                   {"system_prompt_sent", nullptr},
                   {"finish_reason", "stop"},
                   {"timings", {{"ttft_ms", 12.5}, {"tokens_per_second", 30}, {"completion_tokens", 3}}}};
    auto asst = c->Post(path + "/messages", answer.dump(), "application/json");
    ASSERT_TRUE(asst);
    ASSERT_EQ(asst->status, 201) << asst->body;
    json full = body_of(c->Get(path));
    ASSERT_EQ(full["messages"].size(), 2u);
    const json& m = full["messages"][1];
    EXPECT_EQ(m["route"]["explanation"], "arithmetic");
    EXPECT_EQ(m["reasoning"], "2+2=4");
    EXPECT_EQ(m["timings"]["ttft_ms"], 12.5);
    EXPECT_TRUE(m["timings"]["prompt_tokens"].is_null());
    EXPECT_EQ(full["message_count"], 2);

    // Edit the question and resend: the tail from ordinal 0 is replaced.
    auto edited = c->Put(path + "/tail", R"({"from_ordinal":0,"messages":[{"role":"user","content":"What is 3+3?"}]})",
                         "application/json");
    ASSERT_TRUE(edited);
    ASSERT_EQ(edited->status, 200) << edited->body;
    EXPECT_EQ(body_of(edited)["messages"][0]["content"], "What is 3+3?");
    full = body_of(c->Get(path));
    ASSERT_EQ(full["messages"].size(), 1u);
    auto beyond = c->Put(path + "/tail", R"({"from_ordinal":5})", "application/json");
    ASSERT_TRUE(beyond);
    EXPECT_EQ(beyond->status, 409);
    EXPECT_EQ(body_of(beyond)["error"]["code"], "conflict");

    auto bad_role = c->Post(path + "/messages", R"({"role":"root","content":"x"})", "application/json");
    ASSERT_TRUE(bad_role);
    EXPECT_EQ(bad_role->status, 400);
    EXPECT_NE(body_of(bad_role)["error"]["message"].get<std::string>().find("body.role"), std::string::npos);
    auto bad_json = c->Post(path + "/messages", "{not json", "application/json");
    ASSERT_TRUE(bad_json);
    EXPECT_EQ(bad_json->status, 400);
    EXPECT_EQ(body_of(bad_json)["error"]["code"], "invalid_json");
    auto unknown = c->Post("/api/conversations/nope/messages", R"({"role":"user","content":"x"})", "application/json");
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->status, 404);
}

TEST(ApiConversations, SearchPagingAndWildcards) {
    TempDataDir dir;
    ApiHarness a(dir.path());
    auto c = a.client();
    create(*c, "100% sure");
    create(*c, "100 percent");
    for (int i = 0; i < 5; ++i) create(*c, "filler " + std::to_string(i));
    json found = body_of(c->Get("/api/conversations?q=100%25"));
    ASSERT_EQ(found["data"].size(), 1u);
    EXPECT_EQ(found["data"][0]["title"], "100% sure");
    std::vector<std::string> titles;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
        json p = body_of(c->Get("/api/conversations?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor)));
        for (auto& item : p["data"]) titles.push_back(item["title"]);
        if (!p["has_more"].get<bool>()) break;
        cursor = p["next_cursor"];
    }
    EXPECT_EQ(titles.size(), 7u);
    EXPECT_EQ(titles.front(), "filler 4");
    EXPECT_EQ(titles.back(), "100% sure");
    auto bad_limit = c->Get("/api/conversations?limit=0");
    ASSERT_TRUE(bad_limit);
    EXPECT_EQ(bad_limit->status, 400);
    EXPECT_EQ(body_of(bad_limit)["error"]["param"], "limit");
    auto bad_cursor = c->Get("/api/conversations?cursor=abc");
    ASSERT_TRUE(bad_cursor);
    EXPECT_EQ(bad_cursor->status, 400);
}

TEST(ApiConversations, ExportImportRoundTripAndHostileImport) {
    TempDataDir dir;
    ApiHarness a(dir.path());
    auto c = a.client();
    std::string id = create(*c, "<img src=x onerror=alert(1)>");
    ASSERT_TRUE(
        c->Post("/api/conversations/" + id + "/messages", R"({"role":"user","content":"**hi**"})", "application/json"));
    auto exported = c->Get("/api/conversations/export?format=json&id=" + id);
    ASSERT_TRUE(exported);
    ASSERT_EQ(exported->status, 200);
    EXPECT_NE(exported->get_header_value("Content-Disposition").find("attachment"), std::string::npos);
    json doc = body_of(exported);
    EXPECT_EQ(doc["format"], "duet-conversations");
    ASSERT_EQ(doc["conversations"].size(), 1u);

    auto imported = c->Post("/api/conversations/import", exported->body, "application/json");
    ASSERT_TRUE(imported);
    ASSERT_EQ(imported->status, 200) << imported->body;
    json result = body_of(imported);
    EXPECT_EQ(result["imported"], 1);
    std::string copy_id = result["ids"][0];
    EXPECT_NE(copy_id, id);
    json copy = body_of(c->Get("/api/conversations/" + copy_id));
    EXPECT_EQ(copy["title"], "<img src=x onerror=alert(1)>");
    EXPECT_EQ(copy["messages"][0]["content"], "**hi**");

    auto md = c->Get("/api/conversations/export?format=md");
    ASSERT_TRUE(md);
    EXPECT_EQ(md->get_header_value("Content-Type"), "text/markdown; charset=utf-8");
    EXPECT_NE(md->body.find("### user\n\n**hi**"), std::string::npos);
    auto bad_format = c->Get("/api/conversations/export?format=xml");
    ASSERT_TRUE(bad_format);
    EXPECT_EQ(bad_format->status, 400);

    auto hostile =
        c->Post("/api/conversations/import",
                R"({"conversations":[{"title":"ok","messages":[{"role":"user","content":1}]}]})", "application/json");
    ASSERT_TRUE(hostile);
    EXPECT_EQ(hostile->status, 400);
    EXPECT_NE(body_of(hostile)["error"]["message"].get<std::string>().find("conversations[0].messages[0].content"),
              std::string::npos);
    auto deep =
        c->Post("/api/conversations/import", std::string(5000, '[') + std::string(5000, ']'), "application/json");
    ASSERT_TRUE(deep);
    EXPECT_EQ(deep->status, 400);
    EXPECT_EQ(body_of(c->Get("/api/conversations"))["data"].size(), 2u);  // nothing half-imported
}

TEST(ApiConversations, SettingsAndSystemPrompts) {
    TempDataDir dir;
    ApiHarness a(dir.path());
    auto c = a.client();
    auto put = c->Put("/api/settings", R"({"theme":"dark","enter_sends":true,"shortcuts":{"stop":"Escape"}})",
                      "application/json");
    ASSERT_TRUE(put);
    ASSERT_EQ(put->status, 200) << put->body;
    put = c->Put("/api/settings", R"({"enter_sends":null,"theme":"light"})", "application/json");
    ASSERT_TRUE(put);
    EXPECT_EQ(body_of(put), json::parse(R"({"theme":"light","shortcuts":{"stop":"Escape"}})"));
    EXPECT_EQ(body_of(c->Get("/api/settings")), body_of(put));
    auto bad_key = c->Put("/api/settings", R"({"bad key!":1})", "application/json");
    ASSERT_TRUE(bad_key);
    EXPECT_EQ(bad_key->status, 400);

    json prompts = body_of(c->Get("/api/system-prompts"));
    EXPECT_EQ(prompts["default"], json::parse(R"({"prompt":null,"send":true})"));
    ASSERT_EQ(prompts["models"].size(), 2u);
    EXPECT_EQ(prompts["models"][0],
              json::parse(R"({"model":"alpha","prompt":null,"send":true,"send_is_default":true})"));
    EXPECT_EQ(prompts["models"][1]["send"], false);  // R1 distill: no system prompt by default
    auto set = c->Put("/api/system-prompts",
                      R"({"default":{"prompt":"Be helpful.","send":true},
                          "models":[{"model":"alpha","prompt":"Be brief.","send":false},{"model":"gone","prompt":"x"}]})",
                      "application/json");
    ASSERT_TRUE(set);
    ASSERT_EQ(set->status, 200) << set->body;
    prompts = body_of(set);
    EXPECT_EQ(prompts["default"]["prompt"], "Be helpful.");
    EXPECT_EQ(prompts["models"][0],
              json::parse(R"({"model":"alpha","prompt":"Be brief.","send":false,"send_is_default":false})"));
    ASSERT_EQ(prompts["models"].size(), 3u);  // a stored entry for a model not loaded is listed too
    EXPECT_EQ(prompts["models"][2]["model"], "gone");
    auto reset =
        c->Put("/api/system-prompts", R"({"models":[{"model":"gone","prompt":null,"send":null}]})", "application/json");
    ASSERT_TRUE(reset);
    EXPECT_EQ(body_of(reset)["models"].size(), 2u);
    auto bad = c->Put("/api/system-prompts", R"({"models":[{"model":"alpha","send":"no"}]})", "application/json");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400);
}

TEST(ApiConversations, CrossSiteWritesAreRefused) {
    TempDataDir dir;
    ApiHarness a(dir.path());
    auto c = a.client();
    std::string host = "127.0.0.1:" + std::to_string(a.h->port());
    auto evil =
        c->Post("/api/conversations", httplib::Headers{{"Origin", "http://evil.example"}}, "{}", "application/json");
    ASSERT_TRUE(evil);
    EXPECT_EQ(evil->status, 403);
    EXPECT_EQ(body_of(evil)["error"]["code"], "cross_site");
    auto fetch_meta =
        c->Post("/api/conversations", httplib::Headers{{"Sec-Fetch-Site", "cross-site"}}, "{}", "application/json");
    ASSERT_TRUE(fetch_meta);
    EXPECT_EQ(fetch_meta->status, 403);
    auto same = c->Post("/api/conversations", httplib::Headers{{"Origin", "http://" + host}}, "{}", "application/json");
    ASSERT_TRUE(same);
    EXPECT_EQ(same->status, 201) << same->body;
    auto read = c->Get("/api/conversations", httplib::Headers{{"Origin", "http://evil.example"}});
    ASSERT_TRUE(read);
    EXPECT_EQ(read->status, 200);  // reads change nothing (and CORS keeps their body from the other site)
    EXPECT_EQ(body_of(c->Get("/api/conversations"))["data"].size(), 1u);
}

TEST(ApiConversations, ApiKeyIsRequiredWhenSet) {
    TempDataDir dir;
    ApiHarness a(dir.path(), "sk-test");
    auto anonymous = a.client()->Get("/api/conversations");
    ASSERT_TRUE(anonymous);
    EXPECT_EQ(anonymous->status, 401);
    auto with_key = a.client("sk-test")->Get("/api/conversations");
    ASSERT_TRUE(with_key);
    EXPECT_EQ(with_key->status, 200);
}

TEST(ApiConversations, ConversationSurvivesAServerRestart) {
    TempDataDir dir;
    std::string id;
    {
        ApiHarness a(dir.path());
        auto c = a.client();
        id = create(*c, "persistent");
        ASSERT_TRUE(c->Post("/api/conversations/" + id + "/messages", R"({"role":"user","content":"remember me"})",
                            "application/json"));
    }
    ApiHarness b(dir.path());
    json conv = body_of(b.client()->Get("/api/conversations/" + id));
    EXPECT_EQ(conv["title"], "persistent");
    ASSERT_EQ(conv["messages"].size(), 1u);
    EXPECT_EQ(conv["messages"][0]["content"], "remember me");
}

// The real binary: `duet serve --data-dir DIR` keeps a conversation across a restart.
TEST(ApiConversations, DuetServeDataDirSurvivesARestart) {
    TempDataDir dir;
    std::string id;
    {
        ServeProcess serve({"--data-dir", dir.path()});
        REQUIRE_SERVE(serve);
        auto c = serve.client();
        id = create(*c, "kept by the binary");
        auto m = c->Post("/api/conversations/" + id + "/messages", R"({"role":"user","content":"hello"})",
                         "application/json");
        ASSERT_TRUE(m);
        ASSERT_EQ(m->status, 201);
    }
    EXPECT_TRUE(std::filesystem::exists(dir.path() + "/duet.db"));
    ServeProcess again({"--data-dir", dir.path()});
    REQUIRE_SERVE(again);
    json conv = body_of(again.client()->Get("/api/conversations/" + id));
    EXPECT_EQ(conv["title"], "kept by the binary");
    ASSERT_EQ(conv["messages"].size(), 1u);
    EXPECT_EQ(conv["messages"][0]["content"], "hello");
}

TEST(ApiConversations, DefaultSendSystemPromptRecognisesR1) {
    EXPECT_FALSE(server::default_send_system_prompt("r1"));
    EXPECT_FALSE(server::default_send_system_prompt("DeepSeek-R1-Distill-Qwen-1.5B"));
    EXPECT_FALSE(server::default_send_system_prompt("r1_7b"));
    EXPECT_TRUE(server::default_send_system_prompt("llama3"));
    EXPECT_TRUE(server::default_send_system_prompt("qwen2-r10"));
    EXPECT_TRUE(server::default_send_system_prompt("br1ck"));
}

}  // namespace
}  // namespace duet::test
