// test_template_vectors.cpp: the 44 official chat-template renderings (Jinja2 + transformers) must match byte for byte.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/fixtures.h"
#include "test_template_json.h"
#include "tokenizer/template/chat_template.h"

namespace {

using duet::tok::ChatTemplate;
using duet::tok::jinja::Value;
using nlohmann::ordered_json;

constexpr int kNumVectors = 44;
const char* kVectorsPath = "chat-templates/vectors/chat_template_renderings.json";

const ordered_json& vectors() {
    static const ordered_json cases = [] {
        std::string path = duet::test::fixture(kVectorsPath);
        if (path.empty()) return ordered_json::array();
        std::string text = duet::test::read_file(path);
        if (text.empty()) return ordered_json::array();
        return ordered_json::parse(text)["cases"];
    }();
    return cases;
}

std::string case_name(int index) {
    const auto& c = vectors()[static_cast<size_t>(index)];
    return c["template_file"].get<std::string>() + " / " + c["case"].get<std::string>() +
           (c["add_generation_prompt"].get<bool>() ? " +gen" : "") +
           (c["extra_context"].empty() ? "" : " " + c["extra_context"].dump());
}

// The context exactly as the vector's generator passed it: null bos/eos stay None.
Value context_of(const ordered_json& c) {
    Value context = Value::object();
    context.set("messages", duet::test::json_to_value(c["messages"]));
    context.set("tools", duet::test::json_to_value(c["tools"]));
    context.set("add_generation_prompt", Value(c["add_generation_prompt"].get<bool>()));
    context.set("bos_token", duet::test::json_to_value(c["bos_token"]));
    context.set("eos_token", duet::test::json_to_value(c["eos_token"]));
    for (const auto& [k, v] : c["extra_context"].items()) context.set(k, duet::test::json_to_value(v));
    return context;
}

class TemplateVector : public ::testing::TestWithParam<int> {};

TEST_P(TemplateVector, RendersByteExact) {
    DUET_REQUIRE_FIXTURES();
    ASSERT_EQ(static_cast<int>(vectors().size()), kNumVectors) << "vector file changed";
    const auto& c = vectors()[static_cast<size_t>(GetParam())];
    SCOPED_TRACE(case_name(GetParam()));
    std::string source =
        duet::test::read_file(duet::test::fixture("chat-templates/" + c["template_file"].get<std::string>()));
    ASSERT_FALSE(source.empty());
    auto tpl = ChatTemplate::parse(source);
    ASSERT_TRUE(tpl.ok()) << tpl.status().message();
    auto out = tpl->render(context_of(c));
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(*out, c["expected"].get<std::string>());
}

// The convenience entry point gives the same bytes (bos/eos None -> "" only matters to templates that print them).
TEST_P(TemplateVector, ApplyChatTemplateAgrees) {
    DUET_REQUIRE_FIXTURES();
    ASSERT_EQ(static_cast<int>(vectors().size()), kNumVectors);
    const auto& c = vectors()[static_cast<size_t>(GetParam())];
    SCOPED_TRACE(case_name(GetParam()));
    std::string source =
        duet::test::read_file(duet::test::fixture("chat-templates/" + c["template_file"].get<std::string>()));
    auto tpl = ChatTemplate::parse(source);
    ASSERT_TRUE(tpl.ok()) << tpl.status().message();
    std::string bos = c["bos_token"].is_string() ? c["bos_token"].get<std::string>() : "";
    std::string eos = c["eos_token"].is_string() ? c["eos_token"].get<std::string>() : "";
    auto out =
        duet::tok::apply_chat_template(*tpl, duet::test::json_to_value(c["messages"]),
                                       duet::test::json_to_value(c["tools"]), c["add_generation_prompt"].get<bool>(),
                                       bos, eos, duet::test::json_to_value(c["extra_context"]));
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(*out, c["expected"].get<std::string>());
}

INSTANTIATE_TEST_SUITE_P(Official, TemplateVector, ::testing::Range(0, kNumVectors));

// Built-in fallbacks reproduce the official templates on the conversations they cover (no tools, no default
// system prompt): llama3 == Llama-3 current, deepseek-r1 == R1-Distill-Qwen (2025-02), chatml == Qwen3 when the
// last message is from the user and thinking is left on.
TEST(TemplateFallback, MatchesOfficialTemplatesOnPlainChats) {
    DUET_REQUIRE_FIXTURES();
    int compared = 0;
    for (const auto& c : vectors()) {
        std::string file = c["template_file"].get<std::string>();
        std::string fallback;
        if (file == "official/meta-llama-Meta-Llama-3-8B-Instruct.jinja") fallback = "llama3";
        if (file == "official/deepseek-ai-DeepSeek-R1-Distill-Qwen-1.5B.jinja") fallback = "deepseek-r1";
        if (file == "official/Qwen-Qwen3.jinja" && c["extra_context"].empty() && c["case"] != "think_history")
            fallback = "chatml";
        if (fallback.empty()) continue;
        SCOPED_TRACE(fallback + " vs " + c["case"].get<std::string>());
        auto tpl = ChatTemplate::parse(duet::tok::fallback_template(fallback));
        ASSERT_TRUE(tpl.ok()) << tpl.status().message();
        auto out = tpl->render(context_of(c));
        ASSERT_TRUE(out.ok()) << out.status().message();
        EXPECT_EQ(*out, c["expected"].get<std::string>());
        ++compared;
    }
    EXPECT_EQ(compared, 8 + 10 + 4);
}

}  // namespace
