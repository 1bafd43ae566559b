// test_template_cli.cpp: `duet template` end to end: byte-exact prompts on stdout (nothing appended) from a .jinja
// file or a GGUF's tokenizer.chat_template (with the GGUF's bos/eos), and `error: ...` + exit 1 on bad input.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>

#include "gguf/gguf.h"
#include "support/fixtures.h"

namespace {

using nlohmann::ordered_json;

struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

std::string write_temp(const std::string& name, const std::string& text) {
    std::string path = duet::test::temp_dir() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

RunResult run_duet(const std::string& args) {
    RunResult r;
    std::string err_path = duet::test::temp_dir() + "/template_cli.stderr";
    std::string cmd = duet::test::duet_binary() + " template " + args + " 2>" + err_path;
    FILE* pipe = popen(cmd.c_str(), "r");
    if (pipe == nullptr) return r;
    char buf[4096];
    size_t n = 0;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
    int status = pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = duet::test::read_file(err_path);
    return r;
}

// The rendering vector for (template file, case, add_generation_prompt), from the shared fixtures.
ordered_json find_vector(const std::string& template_file, const std::string& case_name, bool add_generation_prompt) {
    static const ordered_json cases = ordered_json::parse(
        duet::test::read_file(duet::test::fixture("chat-templates/vectors/chat_template_renderings.json")))["cases"];
    for (const auto& c : cases)
        if (c["template_file"] == template_file && c["case"] == case_name &&
            c["add_generation_prompt"] == add_generation_prompt && c["extra_context"].empty())
            return c;
    return {};
}

TEST(TemplateCli, TemplateFileWithToolsIsByteExact) {
    DUET_REQUIRE_FIXTURES();
    ordered_json c = find_vector("official/Qwen-Qwen2.5-Instruct.jinja", "tools", true);
    ASSERT_FALSE(c.is_null());
    ordered_json doc = {{"messages", c["messages"]}, {"tools", c["tools"]}};
    std::string messages = write_temp("qwen_tools.json", doc.dump());
    RunResult r = run_duet("--template " + duet::test::fixture("chat-templates/official/Qwen-Qwen2.5-Instruct.jinja") +
                           " --messages " + messages + " --add-generation-prompt");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, c["expected"].get<std::string>());  // exactly: no trailing newline added
    EXPECT_EQ(r.err, "");
}

TEST(TemplateCli, ExtraContextFromMessagesObject) {
    DUET_REQUIRE_FIXTURES();
    std::string tpl = duet::test::fixture("chat-templates/official/Qwen-Qwen3.jinja");
    ordered_json doc = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"enable_thinking", false}};
    RunResult r = run_duet("--template " + tpl + " --messages " + write_temp("qwen3.json", doc.dump()) +
                           " --add-generation-prompt");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

struct GgufCase {
    const char* gguf;
    const char* template_file;
};

class TemplateCliGguf : public ::testing::TestWithParam<GgufCase> {};

// The template and bos/eos come from the GGUF; the result equals the official rendering of the same chat.
TEST_P(TemplateCliGguf, RendersLikeTheOfficialTemplate) {
    DUET_REQUIRE_FIXTURES();
    for (bool gen : {true, false}) {
        SCOPED_TRACE(std::string(GetParam().gguf) + (gen ? " +gen" : ""));
        ordered_json c = find_vector(GetParam().template_file, "std", gen);
        ASSERT_FALSE(c.is_null());
        std::string messages = write_temp("std.json", c["messages"].dump());
        RunResult r = run_duet("-m " + duet::test::fixture(std::string("vocab-derived/") + GetParam().gguf) +
                               " --messages " + messages + (gen ? " --add-generation-prompt" : ""));
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, c["expected"].get<std::string>());
    }
}

INSTANTIATE_TEST_SUITE_P(VocabDerived, TemplateCliGguf,
                         ::testing::Values(GgufCase{"vocab-llama3-instruct.derived.gguf",
                                                    "official/meta-llama-Meta-Llama-3-8B-Instruct.jinja"},
                                           GgufCase{"vocab-qwen2.5-instruct.derived.gguf",
                                                    "official/Qwen-Qwen2.5-Instruct.jinja"},
                                           GgufCase{"vocab-deepseek-r1-distill-qwen.derived.gguf",
                                                    "official/deepseek-ai-DeepSeek-R1-Distill-Qwen-1.5B.jinja"}));

TEST(TemplateCli, BosTokenOverride) {
    DUET_REQUIRE_FIXTURES();
    std::string messages = write_temp("one.json", R"([{"role": "user", "content": " Hi "}])");
    RunResult r = run_duet("-m " + duet::test::fixture("vocab-derived/vocab-llama3-instruct.derived.gguf") +
                           " --messages " + messages + " --bos-token '[BOS]'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "[BOS]<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
}

TEST(TemplateCli, ErrorsGoToStderrWithExitOne) {
    std::string messages = write_temp("ok.json", R"([{"role": "user", "content": "Hi"}])");
    std::string bad_tpl = write_temp("bad.jinja", "{% for m in messages %}\n{{ m.content }}\n{% endif %}");
    RunResult r = run_duet("--template " + bad_tpl + " --messages " + messages);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "error: template: line 3: unexpected 'endif'\n");

    std::string raising = write_temp("raise.jinja", "{{ raise_exception('no system role') }}");
    r = run_duet("--template " + raising + " --messages " + messages);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "error: template: line 1: raise_exception: no system role\n");

    std::string good_tpl = write_temp("good.jinja", "{{ messages[0].content }}");
    r = run_duet("--template " + good_tpl + " --messages " + write_temp("bad.json", "[{"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("is not valid JSON"), std::string::npos) << r.err;

    r = run_duet("--template " + good_tpl + " --messages " + write_temp("obj.json", R"({"nomessages": 1})"));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("\"messages\" array"), std::string::npos) << r.err;

    r = run_duet("--messages " + messages);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "error: give exactly one of -m MODEL.gguf or --template FILE\n");

    r = run_duet("--template " + good_tpl);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "error: --messages FILE.json is required\n");

    r = run_duet("--template /nonexistent/x.jinja --messages " + messages);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "error: cannot open '/nonexistent/x.jinja'\n");

    r = run_duet("-m " + write_temp("not.gguf", "garbage") + " --messages " + messages);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
}

// A GGUF without tokenizer.chat_template gets a built-in fallback chosen from its vocabulary / metadata.
TEST(TemplateCli, FallbackWhenTheGgufHasNoTemplate) {
    duet::gguf::GgufWriter chatml;
    chatml.set_string("general.architecture", "llama");
    chatml.set_array_string("tokenizer.ggml.tokens", {"<s>", "</s>", "<|im_start|>", "<|im_end|>"});
    chatml.set_u32("tokenizer.ggml.bos_token_id", 0);
    chatml.set_u32("tokenizer.ggml.eos_token_id", 1);
    std::string chatml_path = duet::test::temp_dir() + "/no_template_chatml.gguf";
    ASSERT_TRUE(chatml.write(chatml_path).ok());
    std::string messages = write_temp("fb.json", R"([{"role": "user", "content": "Hi"}])");
    RunResult r = run_duet("-m " + chatml_path + " --messages " + messages + " --add-generation-prompt");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");

    duet::gguf::GgufWriter plain;  // like stories260K: SentencePiece llama, no chat markers
    plain.set_string("general.architecture", "llama");
    plain.set_string("tokenizer.ggml.model", "llama");
    plain.set_array_string("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
    std::string plain_path = duet::test::temp_dir() + "/no_template_plain.gguf";
    ASSERT_TRUE(plain.write(plain_path).ok());
    r = run_duet("-m " + plain_path + " --messages " + messages + " --add-generation-prompt");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "user: Hi\nassistant:");
}

TEST(TemplateCli, ByteExactOutputWithoutNewline) {
    std::string messages = write_temp("nl.json", R"([{"role": "user", "content": "x\n"}])");
    std::string tpl = write_temp("nl.jinja", "{{ messages[0].content }}\n");  // Jinja drops one trailing newline
    RunResult r = run_duet("--template " + tpl + " --messages " + messages);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "x\n");
}

}  // namespace
