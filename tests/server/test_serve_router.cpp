// test_serve_router.cpp: `duet serve` (the built binary) with the router: the roles from the model names and from
// --expert/--daily, over scripted models that answer with their own name (so the answer shows which model ran);
// /v1/completions routed on its prompt; empty and 1 MB messages; one role only -> duet-auto is refused with the reason; start-up errors for bad flags and router files; an
// encoder named daily does not get the role.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <tuple>
#include <string>
#include <vector>

#include "serve_process.h"

namespace duet::test {
namespace {

// A scripted model that answers "I am NAME" at once.
std::string answer_script() {
    const std::string path = temp_dir() + "/serve-router-" + std::to_string(::getpid()) + ".jsonl";
    std::ofstream(path) << R"({"default": true, "reply": "I am {{model}}", "pace_ms": 0})"
                        << "\n";
    return "script:" + path;
}

json ask(const ServeProcess& proc, const std::string& model, const std::string& text, int* status = nullptr,
         std::string* header = nullptr) {
    const json body = {{"model", model}, {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
    auto r = proc.client()->Post("/v1/chat/completions", body.dump(), "application/json");
    if (!r) return nullptr;
    if (status) *status = r->status;
    if (header) *header = r->get_header_value("x-duet-route");
    return json::parse(r->body, nullptr, false);
}

std::vector<std::string> model_ids(const ServeProcess& proc) {
    std::vector<std::string> ids;
    auto r = proc.client()->Get("/v1/models");
    if (!r || r->status != 200) return ids;
    const json models = json::parse(r->body);
    for (const auto& m : models["data"]) ids.push_back(m["id"]);
    return ids;
}

std::string content(const json& j) {
    return j.is_object() && j.contains("choices") ? j["choices"][0]["message"]["content"].get<std::string>() : "";
}

#define REQUIRE_BINARY() \
    if (::access(duet_binary().c_str(), X_OK) != 0) GTEST_SKIP() << "SKIPPED: no duet binary"

TEST(ServeRouter, ModelsNamedExpertAndDailyTakeTheRoles) {
    REQUIRE_BINARY();
    const std::string script = answer_script();
    ServeProcess proc({"-m", "daily=" + script}, "expert", script);
    ASSERT_TRUE(proc.ready());
    EXPECT_EQ(model_ids(proc), (std::vector<std::string>{"expert", "daily", "duet-auto", "duet-expert", "duet-daily"}));
    std::string header;
    json j = ask(proc, "duet-auto", "How do I rebase a branch onto main in git?", nullptr, &header);
    EXPECT_EQ(content(j), "I am expert");
    EXPECT_EQ(j["duet"]["route"]["role"], "expert");
    EXPECT_EQ(header.rfind("role=expert; mode=auto; model=expert", 0), 0u) << header;
    j = ask(proc, "duet-auto", "今天好累啊，晚上吃点啥好呢", nullptr, &header);
    EXPECT_EQ(content(j), "I am daily");
    EXPECT_EQ(j["duet"]["route"]["role"], "daily");
    EXPECT_EQ(header.rfind("role=daily; mode=auto; model=daily", 0), 0u) << header;
    EXPECT_EQ(content(ask(proc, "duet-daily", "SELECT * FROM t;")), "I am daily");
    auto m = proc.client()->Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_NE(m->body.find("duet_router_decisions_total{mode=\"auto\",route=\"daily\",model=\"daily\"} 1\n"),
              std::string::npos)
        << m->body;
}

TEST(ServeRouter, CompletionsAreRoutedOnTheirPrompt) {
    REQUIRE_BINARY();
    const std::string script = answer_script();
    ServeProcess proc({"-m", "daily=" + script}, "expert", script);
    ASSERT_TRUE(proc.ready());
    auto complete = [&](const json& body, httplib::Headers headers = {}) {
        auto r = proc.client()->Post("/v1/completions", headers, body.dump(), "application/json");
        EXPECT_TRUE(r);
        return r ? std::make_pair(json::parse(r->body, nullptr, false), r->get_header_value("x-duet-route"))
                 : std::make_pair(json(), std::string());
    };
    auto [j, header] = complete({{"model", "duet-auto"}, {"prompt", "How do I rebase a branch onto main in git?"}});
    EXPECT_EQ(j["choices"][0]["text"], "I am expert");
    EXPECT_EQ(j["duet"]["route"]["role"], "expert");
    EXPECT_EQ(header.rfind("role=expert; mode=auto; model=expert", 0), 0u) << header;
    std::tie(j, header) =
        complete({{"model", "duet-auto"}, {"prompt", "今天好累啊，晚上吃点啥好呢"}, {"user", "u1"}, {"stream", true}});
    EXPECT_EQ(header.rfind("role=daily; mode=auto; model=daily", 0), 0u) << header;
    std::tie(j, header) = complete({{"model", "duet-auto"}, {"prompt", "iPhone 好用吗"}, {"user", "u1"}});
    EXPECT_EQ(j["choices"][0]["text"], "I am daily");  // kept on daily by the user's conversation
    EXPECT_EQ(j["duet"]["route"]["stickiness"]["switch_avoided"], true);
    std::tie(j, header) = complete({{"model", "duet-daily"}, {"prompt", "SELECT 1;"}});
    EXPECT_EQ(j["choices"][0]["text"], "I am daily");
    auto m = proc.client()->Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_NE(m->body.find("duet_router_decisions_total{mode=\"auto\",route=\"daily\",model=\"daily\"} 2\n"),
              std::string::npos)
        << m->body;
}

TEST(ServeRouter, EmptyAndOneMegabyteMessagesRoute) {
    REQUIRE_BINARY();
    const std::string script = answer_script();
    ServeProcess proc({"-m", "daily=" + script}, "expert", script);
    ASSERT_TRUE(proc.ready());
    int status = 0;
    std::string header;
    json j = ask(proc, "duet-auto", "", &status, &header);
    EXPECT_EQ(status, 200) << j;
    EXPECT_EQ(content(j), "I am daily");  // letterless: the tie-break sends small talk to the daily model
    EXPECT_EQ(j["duet"]["route"]["borderline"], true);
    EXPECT_EQ(j["duet"]["route"]["message_bytes"], 0);
    EXPECT_EQ(header.rfind("role=daily; mode=auto; model=daily", 0), 0u) << header;
    // 1,000,000 bytes of a technical Chinese request: the router reads a bounded window of it.
    const std::string unit = "docker compose 启动 redis 一直报错 connection refused，咋整？";
    std::string big;
    while (big.size() + unit.size() <= 1000000) big += unit;
    big.resize(1000000, ' ');
    j = ask(proc, "duet-auto", big, &status, &header);
    EXPECT_EQ(status, 200) << j.dump().substr(0, 300);
    EXPECT_EQ(content(j), "I am expert");
    const json& route = j["duet"]["route"];
    EXPECT_EQ(route["message_bytes"], 1000000);
    EXPECT_EQ(route["truncated"], true);
    EXPECT_LT(route["scanned_bytes"].get<int64_t>(), 16 * 1024);
    EXPECT_EQ(header.rfind("role=expert; mode=auto; model=expert", 0), 0u) << header;
}

TEST(ServeRouter, ExplicitFlagsMapTheRoles) {
    REQUIRE_BINARY();
    const std::string script = answer_script();
    ServeProcess proc({"-m", "small=" + script, "-m", "daily=" + script, "--expert", "big", "--daily", "small"}, "big",
                      script);
    ASSERT_TRUE(proc.ready());
    EXPECT_EQ(content(ask(proc, "duet-auto", "SELECT * FROM t;")), "I am big");
    EXPECT_EQ(content(ask(proc, "duet-auto", "今天好累啊，晚上吃点啥好呢")),
              "I am small");  // not the model named daily
    EXPECT_EQ(content(ask(proc, "duet-expert", "今天好累啊")), "I am big");
    EXPECT_EQ(content(ask(proc, "daily", "SELECT 1;")), "I am daily");  // a real name bypasses
}

TEST(ServeRouter, OneRoleOnlyRefusesTheModesAndSaysWhy) {
    REQUIRE_BINARY();
    const std::string script = answer_script();
    ServeProcess proc({"-m", "qwen=" + script}, "expert", script);
    ASSERT_TRUE(proc.ready());
    EXPECT_EQ(model_ids(proc), (std::vector<std::string>{"expert", "qwen"}));
    int status = 0;
    const json j = ask(proc, "duet-auto", "hello", &status);
    EXPECT_EQ(status, 404);
    const std::string message = j["error"]["message"];
    EXPECT_NE(message.find("only the expert role has a model ('expert')"), std::string::npos) << message;
    EXPECT_NE(message.find("--expert NAME --daily NAME"), std::string::npos) << message;
    EXPECT_EQ(content(ask(proc, "qwen", "hello")), "I am qwen");
}

// `duet serve ARGS` that is expected to fail at start: its exit code and stderr.
std::pair<int, std::string> serve_fails(const std::string& args) {
    const std::string err = temp_dir() + "/serve-router-err-" + std::to_string(::getpid()) + ".txt";
    const std::string cmd = "'" + duet_binary() + "' serve " + args + " --port 0 2>'" + err + "' >/dev/null";
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(err)};
}

TEST(ServeRouter, BadFlagsAndRouterFilesFailAtStart) {
    REQUIRE_BINARY();
    const std::string script = answer_script();
    auto [code, err] = serve_fails("-m a=" + script + " -m b=" + script + " --expert nosuch --daily b");
    EXPECT_EQ(code, 2);  // invalid argument
    EXPECT_NE(err.find("--expert 'nosuch': no model of that name is served (models: a, b)"), std::string::npos) << err;
    std::tie(code, err) = serve_fails("-m a=" + script + " -m b=" + script + " --expert a --daily a");
    EXPECT_EQ(code, 2);  // invalid argument
    EXPECT_NE(err.find("--expert and --daily name the same model 'a'"), std::string::npos) << err;
    const std::string keywords = temp_dir() + "/serve-router-kw-" + std::to_string(::getpid()) + ".txt";
    std::ofstream(keywords) << "# a keyword list with a typo\nexpert 1.0 tech word kubernetes\ndialy 1.0 x word 咋整\n";
    std::tie(code, err) = serve_fails("-m a=" + script + " --route-config " + keywords);
    EXPECT_NE(code, 0);
    EXPECT_NE(err.find(keywords + ":3:"), std::string::npos) << err;
    EXPECT_NE(err.find("dialy"), std::string::npos) << err;
    std::tie(code, err) = serve_fails("-m a=" + script + " --route-model " + keywords);
    EXPECT_NE(code, 0);
    EXPECT_NE(err.find(keywords), std::string::npos) << err;
}

TEST(ServeRouter, AnEncoderNamedDailyDoesNotGetTheRole) {
    REQUIRE_BINARY();
    const std::string bert = temp_dir() + "/serve-router-bert-" + std::to_string(::getpid()) + ".gguf";
    const std::string make =
        "'" + duet_binary() + "' make-model --preset tiny-bert --type f32 --seed 3 -o '" + bert + "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(make.c_str()), 0);
    const std::string script = answer_script();
    {
        ServeProcess proc({"-m", "daily=" + bert}, "expert", script);
        ASSERT_TRUE(proc.ready());
        int status = 0;
        const json j = ask(proc, "duet-auto", "hello", &status);
        EXPECT_EQ(status, 404);
        EXPECT_NE(j["error"]["message"].get<std::string>().find("only the expert role"), std::string::npos) << j;
    }
    auto [code, err] = serve_fails("-m a=" + script + " -m emb=" + bert + " --expert a --daily emb");
    EXPECT_EQ(code, 2);  // invalid argument
    EXPECT_NE(err.find("--daily 'emb': that model cannot chat"), std::string::npos) << err;
    std::remove(bert.c_str());
}

}  // namespace
}  // namespace duet::test
