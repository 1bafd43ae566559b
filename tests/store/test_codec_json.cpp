// test_codec_json.cpp: the export document round-trips; hostile import files get errors that name the place, and
// never crash (a corpus of malformed documents plus seeded random mutations of a valid one).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "store/codec_json.h"
#include "store/data_dir.h"
#include "store/store.h"
#include "store/test_util.h"

namespace duet::store {
namespace {

using namespace testing;
using nlohmann::json;

std::vector<ConversationWithMessages> sample() {
    ConversationWithMessages c;
    c.conversation.id = "abc";
    c.conversation.title = "Sample <script>alert(1)</script>";
    c.conversation.created_at = 1000;
    c.conversation.updated_at = 2000;
    c.conversation.mode = "expert";
    c.conversation.settings.temperature = 0.5;
    c.conversation.settings.send_system_prompt = false;
    Message u;
    u.role = Role::user;
    u.content = "héllo \"quoted\" \n 中文";
    u.created_at = 1500;
    Message a;
    a.role = Role::assistant;
    a.content = "answer";
    a.reasoning = "thought";
    a.model = "r1";
    a.route = R"({"model":"r1","explanation":"math question"})";
    a.finish_reason = "stop";
    a.timings.ttft_ms = 210.5;
    a.timings.completion_tokens = 42;
    a.ordinal = 1;
    a.created_at = 1600;
    c.messages = {u, a};
    return {c};
}

TEST(CodecJson, ExportParsesBackToTheSameContent) {
    std::string text = export_json(sample(), 3000);
    json doc = json::parse(text);
    EXPECT_EQ(doc["format"], "duet-conversations");
    EXPECT_EQ(doc["version"], 1);
    EXPECT_EQ(doc["conversations"][0]["messages"][1]["route"]["explanation"], "math question");  // an object
    EXPECT_TRUE(doc["conversations"][0]["settings"]["top_p"].is_null());
    auto back = parse_export_json(text);
    ASSERT_TRUE(back.ok()) << back.status().message();
    ASSERT_EQ(back->size(), 1u);
    const auto& c = (*back)[0];
    EXPECT_EQ(c.conversation.title, sample()[0].conversation.title);
    EXPECT_EQ(c.conversation.mode, "expert");
    EXPECT_EQ(c.conversation.settings, sample()[0].conversation.settings);
    EXPECT_EQ(c.conversation.created_at, 1000);
    ASSERT_EQ(c.messages.size(), 2u);
    EXPECT_EQ(c.messages[0].content, sample()[0].messages[0].content);
    EXPECT_EQ(c.messages[1].reasoning, std::optional<std::string>("thought"));
    EXPECT_EQ(c.messages[1].timings, sample()[0].messages[1].timings);
    EXPECT_EQ(json::parse(*c.messages[1].route), json::parse(*sample()[0].messages[1].route));
    EXPECT_EQ(c.messages[1].created_at, std::optional<int64_t>(1600));
}

TEST(CodecJson, ImportThroughTheStoreRoundTrips) {
    TempDir dir;
    auto store = Store::open_file(dir.file("duet.db"));
    ASSERT_TRUE(store.ok());
    auto parsed = parse_export_json(export_json(sample(), 3000));
    ASSERT_TRUE(parsed.ok());
    auto ids = (*store)->conversations().import_conversations(*parsed);
    ASSERT_TRUE(ids.ok());
    auto again = (*store)->conversations().export_conversations(std::nullopt);
    ASSERT_TRUE(again.ok());
    json a = json::parse(export_json(*again, 0))["conversations"][0];
    json b = json::parse(export_json(sample(), 0))["conversations"][0];
    a.erase("id");
    b.erase("id");
    for (auto* doc : {&a, &b})
        for (auto& m : (*doc)["messages"]) m.erase("id");
    b["message_count"] = 2;
    EXPECT_EQ(a, b);
}

struct Hostile {
    const char* name;
    std::string text;
    const char* expect;  // a substring of the error message
};

std::string with_message(const std::string& message_json) {
    return R"({"format":"duet-conversations","version":1,"conversations":[{"title":"t","messages":[{"role":"user","content":"ok"},)" +
           message_json + "]}]}";
}

TEST(CodecJson, HostileFilesGetErrorsThatNameThePlace) {
    std::vector<Hostile> corpus = {
        {"empty", "", "invalid JSON at line 1"},
        {"not json", "hello", "invalid JSON"},
        {"truncated", R"({"conversations":[{"title":"x")", "invalid JSON"},
        {"syntax on line 3", "{\n\"conversations\": [\n  {\"title\": }\n]}", "line 3"},
        {"array root", "[]", "expected a JSON object"},
        {"number root", "42", "expected a JSON object"},
        {"no conversations", "{}", "conversations: expected an array"},
        {"conversations object", R"({"conversations":{}})", "conversations: expected an array"},
        {"wrong format", R"({"format":"chatgpt","conversations":[]})", "format"},
        {"newer version", R"({"version":2,"conversations":[]})", "version 2"},
        {"version string", R"({"version":"1","conversations":[]})", "version: expected an integer"},
        {"conversation not object", R"({"conversations":[1]})", "conversations[0]: expected an object"},
        {"title number", R"({"conversations":[{"title":5}]})", "conversations[0].title: expected a string"},
        {"title too long", R"({"conversations":[{"title":")" + std::string(1001, 'x') + R"("}]})",
         "conversations[0].title: 1001 bytes"},
        {"mode empty", R"({"conversations":[{"mode":""}]})", "conversations[0].mode: empty"},
        {"temperature high", R"({"conversations":[{"settings":{"temperature":9}}]})",
         "settings.temperature: 9 outside"},
        {"top_p zero", R"({"conversations":[{"settings":{"top_p":0}}]})", "settings.top_p"},
        {"max_tokens float", R"({"conversations":[{"settings":{"max_tokens":1.5}}]})",
         "settings.max_tokens: expected an integer"},
        {"max_tokens negative", R"({"conversations":[{"settings":{"max_tokens":-1}}]})",
         "settings.max_tokens: -1 outside"},
        {"max_tokens huge", R"({"conversations":[{"settings":{"max_tokens":18446744073709551615}}]})",
         "settings.max_tokens"},
        {"send toggle string", R"({"conversations":[{"settings":{"send_system_prompt":"yes"}}]})",
         "send_system_prompt"},
        {"created_at negative", R"({"conversations":[{"created_at":-5}]})", "conversations[0].created_at"},
        {"messages object", R"({"conversations":[{"messages":{}}]})", "conversations[0].messages: expected an array"},
        {"message not object", with_message("null"), "conversations[0].messages[1]: expected an object"},
        {"role missing", with_message(R"({"content":"x"})"), "conversations[0].messages[1].role: missing"},
        {"role unknown", with_message(R"({"role":"admin","content":"x"})"), "messages[1].role: expected \"user\""},
        {"role number", with_message(R"({"role":1,"content":"x"})"), "messages[1].role: expected a string"},
        {"content missing", with_message(R"({"role":"user"})"), "messages[1].content: missing"},
        {"content array", with_message(R"({"role":"user","content":["a"]})"), "messages[1].content: expected a string"},
        {"reasoning number", with_message(R"({"role":"user","content":"x","reasoning":3})"), "messages[1].reasoning"},
        {"route string", with_message(R"({"role":"user","content":"x","route":"r1"})"),
         "messages[1].route: expected an object"},
        {"timings array", with_message(R"({"role":"user","content":"x","timings":[]})"),
         "messages[1].timings: expected an object"},
        {"ttft negative", with_message(R"({"role":"user","content":"x","timings":{"ttft_ms":-1}})"), "timings.ttft_ms"},
        {"tokens float", with_message(R"({"role":"user","content":"x","timings":{"prompt_tokens":2.5}})"),
         "timings.prompt_tokens"},
        {"number overflow", with_message(R"({"role":"user","content":"x","timings":{"ttft_ms":1e400}})"),
         "invalid JSON"},
        {"deep nesting", std::string(100000, '[') + std::string(100000, ']'), "nested deeper than 64"},
        {"deep route",
         with_message(R"({"role":"user","content":"x","route":)" + std::string(70, '[') + std::string(70, ']') + "}"),
         "nested deeper"},
        {"invalid utf-8", "{\"conversations\":[{\"title\":\"\xff\xfe\"}]}", "invalid JSON"},
        {"lone surrogate", R"({"conversations":[{"title":"\ud800"}]})", "invalid JSON"},
        {"nul byte", std::string("{\"conversations\":[]}\0garbage", 28), "invalid JSON"},
        {"trailing garbage", R"({"conversations":[]} {})", "invalid JSON"},
    };
    for (const auto& h : corpus) {
        auto r = parse_export_json(h.text);
        ASSERT_FALSE(r.ok()) << h.name;
        EXPECT_NE(r.status().message().find(h.expect), std::string::npos)
            << h.name << ": got \"" << r.status().message() << "\", expected it to contain \"" << h.expect << "\"";
        EXPECT_LT(r.status().message().size(), 400u) << h.name;  // never echoes the whole input
    }
}

TEST(CodecJson, UnknownKeysAndMissingOptionalsAreFine) {
    auto r =
        parse_export_json(R"({"conversations":[{"extra":1,"messages":[{"role":"tool","content":"","x":[1]}]},{}]})");
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].conversation.title, "Imported conversation");
    EXPECT_EQ((*r)[0].conversation.mode, "auto");
    EXPECT_EQ((*r)[0].messages[0].role, Role::tool);
    EXPECT_TRUE((*r)[1].messages.empty());
}

TEST(CodecJson, RandomMutationsNeverCrash) {
    std::string valid = export_json(sample(), 3000);
    uint32_t seed = 12345;
    std::mt19937 rng(seed);
    const std::string alphabet = "{}[]\":,\\0123456789-eE.tfnulr \n\xff\x80";
    int ok = 0, rejected = 0;
    for (int trial = 0; trial < 3000; ++trial) {
        std::string text = valid;
        int edits = std::uniform_int_distribution<int>(1, 6)(rng);
        for (int e = 0; e < edits && !text.empty(); ++e) {
            size_t pos = std::uniform_int_distribution<size_t>(0, text.size() - 1)(rng);
            switch (rng() % 3) {
                case 0:
                    text[pos] = alphabet[rng() % alphabet.size()];
                    break;
                case 1:
                    text.erase(pos, 1 + rng() % 8);
                    break;
                default:
                    text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
                    break;
            }
        }
        auto r = parse_export_json(text);
        if (r.ok()) ++ok;
        else {
            ++rejected;
            EXPECT_FALSE(r.status().message().empty());
        }
    }
    EXPECT_GT(rejected, 2000);  // nearly every mutation breaks the document, and each is reported, not thrown
    EXPECT_EQ(ok + rejected, 3000);
}

TEST(CodecJson, InvalidUtf8InStoredTextIsReplacedOnExport) {
    auto items = sample();
    items[0].messages[0].content = "bad \xff byte";
    std::string text = export_json(items, 0);
    EXPECT_NE(text.find("bad \xEF\xBF\xBD byte"), std::string::npos);
    EXPECT_TRUE(parse_export_json(text).ok());
}

TEST(CodecJson, MessageDraftAndSettingsPatch) {
    auto d =
        message_draft_from_json(json::parse(R"({"role":"assistant","content":"x","model":"m","id":7,"ordinal":9})"),
                                "body");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->model, std::optional<std::string>("m"));
    ConversationSettings s;
    s.temperature = 0.7;
    s.max_tokens = 10;
    ASSERT_TRUE(apply_settings_json(json::parse(R"({"temperature":null,"top_p":0.9})"), "settings", &s).ok());
    EXPECT_FALSE(s.temperature.has_value());
    EXPECT_EQ(s.top_p, std::optional<double>(0.9));
    EXPECT_EQ(s.max_tokens, std::optional<int64_t>(10));  // absent key: unchanged
    Status bad = apply_settings_json(json::parse(R"({"top_p":"high"})"), "settings", &s);
    EXPECT_EQ(bad.message(), "settings.top_p: expected a number or null");
}

TEST(DataDir, FlagThenXdgThenHome) {
    EXPECT_EQ(*resolve_data_dir("/data", "/xdg", "/home/u"), "/data");
    EXPECT_EQ(*resolve_data_dir("", "/xdg", "/home/u"), "/xdg/duet");
    EXPECT_EQ(*resolve_data_dir("", "relative/xdg", "/home/u"), "/home/u/.local/share/duet");  // XDG: relative ignored
    EXPECT_EQ(*resolve_data_dir("", nullptr, "/home/u"), "/home/u/.local/share/duet");
    EXPECT_FALSE(resolve_data_dir("", nullptr, nullptr).ok());
    EXPECT_EQ(database_path("/d"), "/d/duet.db");
}

TEST(DataDir, CreatesNestedDirectoriesAndRefusesAFile) {
    TempDir dir;
    std::string nested = dir.file("a/b/c");
    ASSERT_TRUE(ensure_data_dir(nested).ok());
    EXPECT_TRUE(std::filesystem::is_directory(nested));
    auto store = Store::open(nested);
    ASSERT_TRUE(store.ok());
    EXPECT_TRUE(std::filesystem::exists(nested + "/duet.db"));
    std::string file = dir.file("plain");
    { std::ofstream(file) << "x"; }
    EXPECT_EQ(ensure_data_dir(file).code(), StatusCode::io_error);
}

}  // namespace
}  // namespace duet::store
