// test_template_errors.cpp: malformed and hostile templates fail cleanly (line numbers, bounded loops, recursion,
// output and work), the sandbox holds, fallbacks are picked sensibly and rendering is thread-safe.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "support/threads.h"
#include "tokenizer/template/chat_template.h"

namespace {

using duet::tok::ChatTemplate;
using duet::tok::jinja::Array;
using duet::tok::jinja::Limits;
using duet::tok::jinja::Object;
using duet::tok::jinja::Value;

Value chat(std::initializer_list<std::pair<const char*, const char*>> turns) {
    Array messages;
    for (const auto& [role, content] : turns) {
        Object m;
        m.set("role", Value(role));
        m.set("content", Value(content));
        messages.emplace_back(std::move(m));
    }
    return Value(std::move(messages));
}

Value context_with(Value messages) {
    Object ctx;
    ctx.set("messages", std::move(messages));
    return Value(std::move(ctx));
}

// Parse + render; the error message, or "" on success (then *out holds the text).
std::string error_of(std::string_view source, const Limits& limits = {}, std::string* out = nullptr) {
    auto tpl = ChatTemplate::parse(source);
    if (!tpl.ok()) return tpl.status().message();
    auto r = tpl->render(context_with(chat({{"user", "hi"}})), limits);
    if (!r.ok()) return r.status().message();
    if (out != nullptr) *out = *r;
    return "";
}

TEST(TemplateErrors, SyntaxErrorsNameTheLine) {
    EXPECT_EQ(error_of("{% if x %}\n\n{% endfor %}"), "template: line 3: unexpected 'endfor'");
    EXPECT_EQ(error_of("a\n{% endif %}"), "template: line 2: unexpected 'endif'");
    EXPECT_EQ(error_of("{% for m in messages %}\n{{ m }}"),
              "template: line 2: unexpected end of template (expected 'endfor')");
    EXPECT_EQ(error_of("{{ 1 +\n }}"), "template: line 2: unexpected '}}'");
    EXPECT_EQ(error_of("\n\n  {{ 'abc }}"), "template: line 3, column 6: unterminated string literal");
    EXPECT_EQ(error_of("{{ a $ b }}"), "template: line 1, column 6: unexpected character '$'");
    EXPECT_EQ(error_of("{% frobnicate %}"), "template: line 1: unknown tag 'frobnicate'");
    EXPECT_EQ(error_of("{# never closed"), "template: line 1, column 1: unclosed comment");
    EXPECT_EQ(error_of("x {{ 1 "), "template: line 1, column 3: unclosed '{{'");
}

TEST(TemplateErrors, RuntimeErrorsNameTheLine) {
    EXPECT_EQ(error_of("ok\n{{ raise_exception('Only user and assistant roles are supported!') }}"),
              "template: line 2: raise_exception: Only user and assistant roles are supported!");
    EXPECT_EQ(error_of("\n{{ missing.attr }}"), "template: line 2: cannot read attribute 'attr' of an undefined value");
    EXPECT_EQ(error_of("{{ 1 + 'a' }}"), "template: line 1: unsupported operand type(s) for +: 'int' and 'str'");
    EXPECT_EQ(error_of("{{ 1 // 0 }}"), "template: line 1: integer division or modulo by zero");
    EXPECT_EQ(error_of("{{ 'x' | nosuch }}"), "template: line 1: unknown filter 'nosuch'");
    EXPECT_EQ(error_of("{{ 1 is nosuch }}"), "template: line 1: unknown test 'nosuch'");
    EXPECT_EQ(error_of("{% set x = 1 %}{% set x.y = 2 %}"),
              "template: line 1: cannot assign attribute 'y' on non-namespace object 'x'");
    EXPECT_EQ(error_of("{{ nothing() }}"), "template: line 1: 'nothing' is undefined");
    EXPECT_EQ(error_of("{% for a, b in [1] %}{% endfor %}"), "template: line 1: 'int' object is not iterable");
}

TEST(TemplateLimits, LoopIterationsAreBounded) {
    std::string err = error_of("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}");
    EXPECT_NE(err.find("exceeded 100000 loop iterations"), std::string::npos) << err;
    Limits small;
    small.max_loop_iterations = 10;
    std::string out;
    EXPECT_EQ(error_of("{% for i in range(10) %}{{ i }}{% endfor %}", small, &out), "");
    EXPECT_EQ(out, "0123456789");
    EXPECT_NE(error_of("{% for i in range(11) %}{% endfor %}", small).find("loop iterations"), std::string::npos);
    EXPECT_NE(error_of("{% for i in range(10**9) %}{% endfor %}").find("range: too many items"), std::string::npos);
}

TEST(TemplateLimits, MacroRecursionIsBounded) {
    std::string err = error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    EXPECT_NE(err.find("macro calls nested deeper than 64"), std::string::npos) << err;
    std::string out;
    EXPECT_EQ(error_of("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}.{% endif %}{% endmacro %}{{ f(60) }}", {}, &out),
              "");
    EXPECT_EQ(out, std::string(60, '.'));
}

TEST(TemplateLimits, OutputAndWorkAreBounded) {
    std::string err = error_of("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}");
    EXPECT_NE(err.find("template output exceeds 16 MiB"), std::string::npos) << err;
    Limits small_work;  // the default budget (512 MiB) behaves the same, only slower to reach
    small_work.max_work_bytes = 1u << 20;
    err = error_of("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                   small_work);
    EXPECT_NE(err.find("work budget (1 MiB"), std::string::npos) << err;
    err = error_of("{{ 'x' * 1000000000000 }}");
    EXPECT_NE(err.find("too large"), std::string::npos) << err;
    err = error_of("{% set l = [1] * 1000 %}{{ (l * 1000000) | length }}");
    EXPECT_NE(err.find("too large"), std::string::npos) << err;
}

TEST(TemplateLimits, DeepNestingIsRejectedNotCrashed) {
    std::string parens = std::string(5000, '(') + "1" + std::string(5000, ')');
    EXPECT_NE(error_of("{{ " + parens + " }}").find("nested too deeply"), std::string::npos);
    std::string chain = "{{ 1";
    for (int i = 0; i < 5000; ++i) chain += " + 1";
    EXPECT_NE(error_of(chain + " }}").find("too deeply nested"), std::string::npos);
    std::string blocks;
    for (int i = 0; i < 500; ++i) blocks += "{% if true %}";
    EXPECT_NE(error_of(blocks).find("blocks nested too deeply"), std::string::npos);
    EXPECT_NE(error_of("{{ " + std::string(5000, '-') + "1 }}").find("nested too deeply"), std::string::npos);
    EXPECT_NE(error_of("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}").find("nested too deeply"),
              std::string::npos);
    std::string nots = "{{ ";
    for (int i = 0; i < 5000; ++i) nots += "not ";
    EXPECT_NE(error_of(nots + "1 }}").find("nested too deeply"), std::string::npos);
}

TEST(TemplateSandbox, NoPythonInternalsNoMutation) {
    std::string out;
    EXPECT_EQ(error_of("[{{ ''.__class__ }}][{{ messages.__len__ }}][{{ messages[0].__dict__ }}][{{ cycler }}]", {},
                       &out),
              "");
    EXPECT_EQ(out, "[][][][]");
    EXPECT_NE(error_of("{{ messages.append(1) }}").find("not allowed"), std::string::npos);
    EXPECT_NE(error_of("{{ messages[0].update({'role': 'x'}) }}").find("not allowed"), std::string::npos);
    EXPECT_NE(error_of("{{ messages[0].pop('role') }}").find("not allowed"), std::string::npos);
}

// A namespace that holds itself is a reference cycle; the render must still free it (checked by LSan in the
// sanitizer build and the fuzzer, which found it).
TEST(TemplateSandbox, NamespaceCyclesAreBroken) {
    std::string out;
    EXPECT_EQ(error_of("{% set ns = namespace(a=1) %}{% set ns.me = ns %}{% set ns.l = [ns, {'n': ns}] %}"
                       "{{ ns.me.me.a }}{{ ns.l[1].n.a }}",
                       {}, &out),
              "");
    EXPECT_EQ(out, "11");
}

TEST(TemplateSandbox, GarbageNeverCrashes) {
    const char* inputs[] = {"{{",
                            "{%",
                            "{#",
                            "}}",
                            "%}",
                            "{{}}",
                            "{%%}",
                            "{{ . }}",
                            "{% for %}",
                            "{% set %}",
                            "{% set = 1 %}",
                            "{{ a[ }}",
                            "{{ a[:: }}",
                            "{{ f(a=) }}",
                            "{{ {1: } }}",
                            "{% macro %}",
                            "{% if %}{% elif %}",
                            "{{ 'a' is }}",
                            "{{ x | }}",
                            "\xff\xfe{{ '\xff' }}",
                            "{{ 1e }}",
                            "{{ 99999999999999999999 }}",
                            "{% endmacro %}",
                            "{% call %}",
                            "{{ a.1.2 }}",
                            "{%- -%}"};
    for (const char* in : inputs) {
        auto tpl = ChatTemplate::parse(in);
        if (tpl.ok()) (void)tpl->render(context_with(chat({{"user", "hi"}})));
        SUCCEED() << in;
    }
    EXPECT_EQ(error_of("{{ 99999999999999999999 }}"), "template: line 1, column 4: integer literal too large");
}

TEST(TemplateFallbacks, EveryFallbackRenders) {
    auto msgs =
        chat({{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "<think>x</think>Hello"}, {"user", "Bye"}});
    for (std::string_view name : duet::tok::fallback_template_names()) {
        SCOPED_TRACE(std::string(name));
        auto tpl = ChatTemplate::parse(duet::tok::fallback_template(name));
        ASSERT_TRUE(tpl.ok()) << tpl.status().message();
        auto out = duet::tok::apply_chat_template(*tpl, msgs, Value::none(), true, "<s>", "</s>", Value::object());
        ASSERT_TRUE(out.ok()) << out.status().message();
        EXPECT_NE(out->find("Bye"), std::string::npos);
    }
    EXPECT_TRUE(duet::tok::fallback_template("nope").empty());
    auto plain = ChatTemplate::parse(duet::tok::fallback_template("plain"));
    ASSERT_TRUE(plain.ok());
    auto out = duet::tok::apply_chat_template(*plain, chat({{"user", "Once upon"}, {"assistant", "a time"}}),
                                              Value::none(), true, "<s>", "</s>", Value::object());
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, "user: Once upon\nassistant: a time\nassistant:");
}

TEST(TemplateFallbacks, PickedFromGgufHints) {
    using duet::tok::pick_fallback_template;
    using duet::tok::TemplateHints;
    TemplateHints hints;
    EXPECT_EQ(pick_fallback_template(hints), "plain");
    hints.architecture = "llama";
    hints.tokenizer_model = "llama";
    EXPECT_EQ(pick_fallback_template(hints), "plain");  // stories260K: SentencePiece llama, no chat markers
    hints.tokenizer_model = "gpt2";
    EXPECT_EQ(pick_fallback_template(hints), "llama3");
    hints = {};
    hints.architecture = "qwen2";
    EXPECT_EQ(pick_fallback_template(hints), "chatml");
    hints.tokenizer_pre = "deepseek-r1-qwen";
    EXPECT_EQ(pick_fallback_template(hints), "deepseek-r1");
    hints = {};
    hints.architecture = "llama";
    hints.has_token = [](std::string_view t) { return t == "<|im_start|>" || t == "<|im_end|>"; };
    EXPECT_EQ(pick_fallback_template(hints), "chatml");
}

TEST(TemplateApi, ExtraContextAndMessagesHelper) {
    auto tpl = ChatTemplate::parse(
        "{{ bos_token }}{% for m in messages %}{{ m.role }}={{ m.content }}{{ '(' ~ m.name ~ ')' if m.name }};"
        "{% endfor %}{{ tools | length }}|{{ enable_thinking }}|{{ add_generation_prompt }}|{{ eos_token }}");
    ASSERT_TRUE(tpl.ok()) << tpl.status().message();
    Value extra_fields = Value::object();
    extra_fields.set("name", Value("calc"));
    std::vector<duet::tok::ChatMessage> messages = {{"user", "2+2", Value()}, {"tool", "4", extra_fields}};
    Value extra = Value::object();
    extra.set("enable_thinking", Value(false));
    extra.set("bos_token", Value("ignored: explicit arguments win"));
    auto out = duet::tok::apply_chat_template(*tpl, duet::tok::messages_to_value(messages),
                                              Value(Array{Value("t1"), Value("t2")}), false, "<B>", "<E>", extra);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(*out, "<B>user=2+2;tool=4(calc);2|False|False|<E>");
}

TEST(TemplateApi, RenderIsThreadSafe) {
    DUET_REQUIRE_THREADS();
    auto tpl = ChatTemplate::parse(
        "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{{ m.content }}{% endfor %}"
        "{{ ns.n }}");
    ASSERT_TRUE(tpl.ok());
    Value ctx = context_with(chat({{"user", "a"}, {"assistant", "b"}, {"user", "c"}}));
    std::vector<std::string> results(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                auto r = tpl->render(ctx);
                results[t] = r.ok() ? *r : r.status().message();
                if (results[t] != "abc3") return;
            }
        });
    for (auto& th : threads) th.join();
    for (const auto& r : results) EXPECT_EQ(r, "abc3");
}

}  // namespace
