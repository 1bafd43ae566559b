// test_template_jinja.cpp: the Jinja interpreter against Python Jinja2 3.1.6 (configured like transformers) on
// whitespace control, operators, filters, tests, string/dict methods, loops, scoping and macros.
//
// Each expected string below was produced by Jinja2 (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
// loopcontrols, transformers' tojson) with messages = the conversation in rich_messages() or [{user: "hi"}],
// bos_token "<s>", eos_token "</s>", tools None, add_generation_prompt False.
#include <gtest/gtest.h>

#include <string>

#include "tokenizer/template/chat_template.h"
#include "tokenizer/template/jinja_value.h"

namespace {

using duet::tok::ChatTemplate;
using duet::tok::jinja::Array;
using duet::tok::jinja::Object;
using duet::tok::jinja::Value;

struct GoldenCase {
    const char* source;
    const char* expected;
    bool rich;  // messages = rich_messages() instead of one user "hi"
};

const GoldenCase kGolden[] = {
    {"a  \n  {% if true %}\n  x\n  {% endif %}\n  b\n", "a  \n  x\n  b", false},
    {"a  {%- if true -%}  x  {%- endif -%}  b", "axb", false},
    {"  {{ 1 }}  \n  {# c #}\n  z", "  1  \n  z", false},
    {"{% for m in messages %}\n    {{ m.role }}\n{% endfor %}\n", "    user\n", false},
    {"x\n\n{%+ if true %}y{% endif +%}\nz", "x\n\ny\nz", false},
    {"line1\r\nline2\r\n{% if 1 %}\r\nok\r\n{% endif %}\r\n", "line1\nline2\nok\n", false},
    {"{{- ' a ' -}}\n\n{{ 'b' }}\n", " a b", false},
    {"{# comment -#}\n  x {#- c #} y\n", "x y", false},
    {"   {% if true %}a{% endif %}", "a", false},
    {"\n   {%- if true %}a{% endif %}", "a", false},
    {"{{ 'a' }}\n{% set x = 1 %}\n{{ x }}", "a\n1", false},
    {"{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} "
     "{{ 2 ** -1 }}",
     "7 9 3 -4 1 2 3.5 1024 0.5", false},
    {"{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1e-5 }} {{ 123456789.0 }} {{ 1.5e15 }} {{ 3.0 * 2 }} {{ 10 / 5 }}",
     "1.0 0.30000000000000004 1e+20 1e-05 123456789.0 1500000000000000.0 6.0 2.0", false},
    {"{{ 'a' ~ 1 ~ none ~ true ~ [1, 'x'] ~ {'k': 'v'} }}", "a1NoneTrue[1, 'x']{'k': 'v'}", false},
    {"{{ none }} {{ true }} {{ false }} {{ undefined_var }} [{{ [1, 'a', none, 2.5] }}] {{ {'a': [1]} }}",
     "None True False  [[1, 'a', None, 2.5]] {'a': [1]}", false},
    {"{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ [1,2] < [1,3] }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'a' "
     "}}",
     "True False True True True True False", false},
    {"{{ 'b' in 'abc' }} {{ 2 in [1,2] }} {{ 'k' in {'k':1} }} {{ 'z' not in 'abc' }} {{ 'x' in undefined_thing }}",
     "True True True True False", false},
    {"{{ 1 if true else 2 }} {{ 1 if false else 2 }} [{{ 1 if false }}] {{ 'a' if none else 'b' if 0 else 'c' }}",
     "1 2 [] c", false},
    {"{{ true and 'x' }} {{ false or 'y' }} {{ 0 or '' or 'z' }} {{ not 0 }} {{ not not 'a' }}", "x y z True True",
     false},
    {"{{ 'abc'[0] }} {{ 'abc'[-1] }} {{ 'abc'[::-1] }} {{ 'abcdef'[1:4] }} {{ 'abcdef'[::2] }} {{ [1,2,3][1:] }} {{ "
     "[1,2,3][-2:] }} {{ '\346\227\245\346\234\254\350\252\236'[1] }} {{ '\346\227\245\346\234\254\350\252\236'[::-1] "
     "}} {{ [1,2,3][5] }}|",
     "a c cba bcd ace [2, 3] [2, 3] \346\234\254 \350\252\236\346\234\254\346\227\245 |", false},
    {"{{ messages[0].role }} {{ messages[0]['role'] }} {{ messages[-1].content }} {{ messages[99] is defined }} {{ "
     "messages[0].nope is defined }}",
     "user user hi False False", false},
    {"{{ 'x' * 3 }} {{ [1] * 3 }} {{ 3 * 'ab' }} {{ [1] + [2] }} {{ 'a' + 'b' }}", "xxx [1, 1, 1] ababab [1, 2] ab",
     false},
    {"{{ -(1) }} {{ - 1 | abs }} {{ +3 }} {{ -2.5 | abs }}", "-1 1 3 2.5", false},
    {"{{ 'a' 'b' }} {{ \"q\\\"uote\" }} {{ 'tab\\there' }} {{ 'nl\\n' }} {{ '\\u00e9\\x41' }} {{ 'back\\\\slash' }} {{ "
     "'unk\\qx' }}",
     "ab q\"uote tab\there nl\n \303\251A back\\slash unk\\qx", false},
    {"[{{ '  x  ' | trim }}] [{{ 'xxaxx' | trim('x') }}] {{ 'Hello' | upper }} {{ 'Hello' | lower }} {{ 'hello world' "
     "| title }} {{ 'hELLO' | capitalize }}",
     "[x] [a] HELLO hello Hello World Hello", false},
    {"{{ messages | length }} {{ 'h\303\251llo' | length }} {{ {'a':1} | length }} {{ undefined_x | length }} {{ [] | "
     "count }}",
     "1 5 1 0 0", false},
    {"{{ 'a,b,,c'.split(',') }} {{ ' a  b \\n c '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} "
     "{{ 'abc'.split('b') | join('-') }}",
     "['a', 'b', '', 'c'] ['a', 'b', 'c'] ['a', 'b c'] ['a,b', 'c'] a-c", false},
    {"{{ [1,2,3] | join(', ') }} {{ messages | map(attribute='role') | join('/') }} {{ messages | selectattr('role', "
     "'equalto', 'user') | list | length }} {{ messages | rejectattr('role', 'eq', 'user') | map(attribute='role') | "
     "list }}",
     "1, 2, 3 user 1 []", false},
    {"{{ [3,1,2] | sort }} {{ ['b','A','c'] | sort }} {{ [3,1,2] | sort(reverse=true) }} {{ messages | "
     "sort(attribute='role') | map(attribute='role') | list }} {{ [1,2,2,3,1] | unique | list }} {{ [1,2,3] | reverse "
     "| list }} {{ 'abc' | reverse }}",
     "[1, 2, 3] ['A', 'b', 'c'] [3, 2, 1] ['user'] [1, 2, 3] [3, 2, 1] cba", false},
    {"{{ [1,2,3] | first }} {{ [1,2,3] | last }} {{ 'abc' | first }} {{ [] | first }}| {{ [1,2,3] | sum }} {{ [1,5,3] "
     "| max }} {{ [4,2,8] | min }}",
     "1 3 a | 6 5 2", false},
    {"{{ undefined_x | default('dflt') }} {{ '' | default('e', true) }} {{ none | default('n') }} {{ 0 | d('z', "
     "boolean=true) }}",
     "dflt e None z", false},
    {"{{ '12' | int + 1 }} {{ '3.5' | float }} {{ 'x' | int }} {{ 3.9 | int }} {{ 2 | float }} {{ 2.567 | round(2) }} "
     "{{ 2.5 | round }} {{ 3 | string ~ 'x' }}",
     "13 3.5 0 3 2.0 2.57 2.0 3x", false},
    {"{{ {'b':1,'a':2} | items | list }} {{ {'b':1,'a':[1,2]} | tojson }} {{ {'b':1,'a':2} | dictsort }}",
     "[('b', 1), ('a', 2)] {\"b\": 1, \"a\": [1, 2]} [('a', 2), ('b', 1)]", false},
    {"{{ messages[2].tool_calls[0].function.arguments | tojson }}",
     "{\"a\": 1, \"b\": [1, 2.5, null, true], \"c\": \"\303\251\303\251\\\"\\\\\\n\\t\\u0001\"}", true},
    {"{{ messages[2].tool_calls[0].function.arguments | tojson(indent=2) }}",
     "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2.5,\n    null,\n    true\n  ],\n  \"c\": "
     "\"\303\251\303\251\\\"\\\\\\n\\t\\u0001\"\n}",
     true},
    {"{{ messages[2].tool_calls | tojson(indent=4, sort_keys=true) }}",
     "[\n    {\n        \"function\": {\n            \"arguments\": {\n                \"a\": 1,\n                "
     "\"b\": [\n                    1,\n                    2.5,\n                    null,\n                    "
     "true\n                ],\n                \"c\": \"\303\251\303\251\\\"\\\\\\n\\t\\u0001\"\n            },\n     "
     "       \"name\": \"f\"\n        }\n    }\n]",
     true},
    {"{{ {'x': '\303\251'} | tojson(ensure_ascii=true) }} {{ [] | tojson }} {{ {} | tojson(indent=2) }} {{ [[], {}] | "
     "tojson(indent=1) }} {{ 1.0 | tojson }} {{ 'a<b>&' | tojson }}",
     "{\"x\": \"\\u00e9\"} [] {} [\n [],\n {}\n] 1.0 \"a<b>&\"", false},
    {"{{ 'a-b' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'abc' | replace('', '.') }} {{ 'x' | e }} "
     "{{ '<&>' | escape }} {{ '<a>' | safe }}",
     "a+b bba .a.b.c. x &lt;&amp;&gt; <a>", false},
    {"{{ 'line1\\nline2' | indent(2) }}|{{ 'l1\\n\\nl2' | indent(2, true) }}|{{ 'l1\\n\\nl2' | indent(width=3, "
     "blank=true) }}",
     "line1\n  line2|  l1\n\n  l2|l1\n   \n   l2", false},
    {"{{ [1, none, 0, 'a'] | select | list }} {{ [1,2,3,4] | select('odd') | list }} {{ [1,2,3,4] | reject('even') | "
     "list }} {{ ['A','b'] | map('lower') | list }} {{ [1,2] | map('string') | join }}",
     "[1, 'a'] [1, 3] [1, 3] ['a', 'b'] 12", false},
    {"{{ 'hello world foo' | wordcount }} {{ messages[0] | attr('role') }} {{ [[1,2],[3]] | map('length') | list }}",
     "3  [2, 1]", false},
    {"{{ '  x  '.strip() }}|{{ 'xyx'.strip('x') }}|{{ '\\n\\na\\n'.lstrip('\\n') }}|{{ 'a\\n\\n'.rstrip() }}|{{ "
     "'ab'.startswith('a') }} {{ 'ab'.endswith(('x','b')) }} {{ 'ab'.startswith('abc') }}",
     "x|y|a\n|a|True True False", false},
    {"{{ 'Hello'.upper() }} {{ 'Hello'.lower() }} {{ 'a b'.title() }} {{ 'abc'.find('c') }} {{ 'abc'.find('z') }} {{ "
     "'aXbXc'.count('X') }} {{ '-'.join(['a','b']) }} {{ 'a\\nb\\r\\nc'.splitlines() }}",
     "HELLO hello A B 2 -1 2 a-b ['a', 'b', 'c']", false},
    {"{{ '12'.isdigit() }} {{ 'ab'.isalpha() }} {{ '  '.isspace() }} {{ 'AB'.isupper() }} {{ 'ab'.islower() }} {{ '{} "
     "and {}'.format(1, 'x') }} {{ '{a}-{0}'.format(5, a='k') }} {{ 'prefix_x'.removeprefix('prefix_') }}",
     "True True True True True 1 and x k-5 x", false},
    {"{{ messages[0].content.strip() }}|{{ messages[2].content.split('</think>')[-1].lstrip('\\n') }}|{{ "
     "messages[2].content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}",
     "sys|ans|r", true},
    {"{{ {'a':1}.get('a') }} {{ {'a':1}.get('b') }} {{ {'a':1}.get('b', 7) }} {{ {'a':1,'b':2}.keys() | list }} {{ "
     "{'a':1,'b':2}.values() | list }} {% for k, v in {'x': 1, 'y': 2}.items() %}{{ k }}={{ v }};{% endfor %}",
     "1 None 7 ['a', 'b'] [1, 2] x=1;y=2;", false},
    {"{{ [1,2,3].index(2) }} {{ [1,2,2].count(2) }}", "1 2", false},
    {"{{ 1 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ 'a' is "
     "string }} {{ {} is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ none is none }} "
     "{{ x is undefined }} {{ x is not defined }}",
     "True True True False True True True True True False True True True", false},
    {"{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ true is boolean }} {{ 3 is odd }} {{ "
     "4 is even }} {{ 9 is divisibleby 3 }} {{ 1 is eq 1 }} {{ 2 is gt 1 }} {{ 'a' is in 'cat' }} {{ 'ABC' is upper }} "
     "{{ 'x' is lower }} {{ none is sameas none }} {{ true is sameas true }}",
     "True False True False True True True True True True True True True True True", false},
    {"{{ messages is sequence }} {{ 'abc' is sequence }} {{ namespace is callable }} {{ 1 is callable }} {{ 2 is le 2 "
     "}} {{ 2 is ne 3 }} {{ 2 is lt 3 }} {{ 3 is ge 4 }}",
     "True True True False True True True False", false},
    {"{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ "
     "loop.revindex }}{{ loop.revindex0 }};{% endfor %}",
     "10TrueFalse443;21FalseFalse432;32FalseFalse421;43FalseTrue410;", true},
    {"{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }}/{{ loop.length }} {% endfor %}",
     "1:user/3 2:assistant/3 3:user/3 ", true},
    {"{% for m in messages %}{{ loop.previtem.role if loop.previtem is defined else '-' }}>{{ loop.nextitem.role if "
     "loop.nextitem else '-' }} {% endfor %}",
     "->user system>assistant user>user assistant>- ", true},
    {"{% for x in [] %}a{% else %}empty{% endfor %} {% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% "
     "if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
     "empty 13", false},
    {"{% for a, b in [[1,2],[3,4]] %}{{ a + b }}{% endfor %} {% for c in 'h\303\251y' %}[{{ c }}]{% endfor %} {% for k "
     "in {'a':1,'b':2} %}{{ k }}{% endfor %} {% for x in range(3) %}{{ x }}{% endfor %} {% for x in range(1, 10, 3) "
     "%}{{ x }}{% endfor %} {% for x in range(5, 0, -2) %}{{ x }}{% endfor %}",
     "37 [h][\303\251][y] ab 012 147 531", false},
    {"{% for x in [1,2] %}{% for y in 'ab' %}{{ loop.index }}{{ x }}{{ y }} {% endfor %}{{ loop.index }}|{% endfor %}",
     "11a 21b 1|12a 22b 2|", false},
    {"{% for x in [1,2,3] %}{{ loop.cycle('a','b') }}{% endfor %}", "aba", false},
    {"{% for x in undefined_list %}x{% endfor %}ok", "ok", false},
    {"{% set x = 1 %}{% for i in [1,2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}", "231", false},
    {"{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}", "2", false},
    {"{% set ns = namespace(n=0, s='') %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% "
     "endfor %}{{ ns.n }} {{ ns.s }} {{ ns.missing is defined }}",
     "6 0123 False", false},
    {"{% for i in [1,2] %}{% if i == 1 %}{% set y = 'set' %}{% endif %}[{{ y }}]{% endfor %}", "[set][]", false},
    {"{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = (1, 2) %}{{ t }} {% set l = [1,2] %}{{ l }}", "12 (1, 2) [1, 2]",
     false},
    {"{% set x %}block {{ 1 + 1 }}{% endset %}[{{ x }}] {% set y | upper %}up{% endset %}{{ y }}", "[block 2] UP",
     false},
    {"{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('A') }} {{ greet('B', "
     "'Hi') }} {{ greet(name='C', greeting='Yo') }}",
     "Hello, A! Hi, B! Yo, C!", false},
    {"{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(5) }}", "54321", false},
    {"{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner {{ 1 + 2 }}{% endcall %}", "<inner 3>",
     false},
    {"{% set g = 'global' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }}", "global", false},
    {"{% filter upper %}abc {{ 'd' }}{% endfilter %}", "ABC D", false},
    {"{{ namespace(a=1).a }} {{ dict(a=1, b=2) }} {{ range(3) | list }} {{ range(3) | length }}",
     "1 {'a': 1, 'b': 2} [0, 1, 2] 3", false},
    {"{{ messages | tojson }}",
     "[{\"role\": \"system\", \"content\": \"  sys  \"}, {\"role\": \"user\", \"content\": \"Hello <b>&'\\\"\\n\"}, "
     "{\"role\": \"assistant\", \"content\": \"<think>\\nr\\n</think>\\n\\nans\", \"tool_calls\": [{\"function\": "
     "{\"name\": \"f\", \"arguments\": {\"a\": 1, \"b\": [1, 2.5, null, true], \"c\": "
     "\"\303\251\303\251\\\"\\\\\\n\\t\\u0001\"}}}]}, {\"role\": \"user\", \"content\": \"\303\274n\303\257 "
     "\346\227\245\346\234\254\"}]",
     true},
    {"{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] | trim }}{% endif %}", "sys", true},
    {"{{ '%s' }} {{ '{' }}{{ '}' }} {{ '{{' }}", "%s {} {{", false},
    {"{{ {'a': {'b': 1}}.a.b }} {{ {'a': 1}['a'] }} {{ {'items': 5}['items'] }} {{ {'items': 5}.items() | list }}",
     "1 1 5 [('items', 5)]", false},
    {"{{ (1, 2) }} {{ () }} {{ (1,) }} {{ [] }} {{ [1,] }}", "(1, 2) () (1,) [] [1]", false},
    {"{{ 1 is divisibleby(1) }} {{ 'x'|length > 0 and 'y' }}", "True y", false},
    {"{{ 0.1 }} {{ 100.0 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ -0.0 }} {{ 2.5e-7 }} {{ 1/3 }} {{ 2/3 "
     "}} {{ 1e100 }} {{ 123.456e5 }}",
     "0.1 100.0 1e+16 1000000000000000.0 0.0001 1e-05 -0.0 2.5e-07 0.3333333333333333 0.6666666666666666 1e+100 "
     "12345600.0",
     false},
    {"{{ messages[2].tool_calls[0].function.arguments.b[1] }} {{ [1.5, 2.25, 1e-7, 1e22] | tojson }}",
     "2.5 [1.5, 2.25, 1e-07, 1e+22]", true},
    {"{{ 'a' if 'x' in messages[0].content else 'b' }}", "b", true},
    {"{%- for message in messages %}{%- if message.role == 'user' %}{{ '<|user|>' + message.content }}{%- elif "
     "message.role == 'assistant' and message.tool_calls is defined %}{{ message.tool_calls | length }}{% endif %}{% "
     "endfor %}",
     "<|user|>Hello <b>&'\"\n1<|user|>\303\274n\303\257 \346\227\245\346\234\254", true},
    {"{{ none.x }}", "", false},
    {"{{ none['x'] }}|{{ (none.x) is defined }}", "|False", false},

};

Value message(const char* role, const char* content) {
    Object m;
    m.set("role", Value(role));
    m.set("content", Value(content));
    return Value(std::move(m));
}

// system / user / assistant with reasoning and a tool call / user, with escapes and non-ASCII text.
Value rich_messages() {
    Object arguments;
    arguments.set("a", Value(1));
    arguments.set("b", Value(Array{Value(1), Value(2.5), Value::none(), Value(true)}));
    arguments.set("c", Value("\xC3\xA9\xC3\xA9\"\\\n\t\x01"));
    Object function;
    function.set("name", Value("f"));
    function.set("arguments", Value(std::move(arguments)));
    Object call;
    call.set("function", Value(std::move(function)));
    Value assistant = message("assistant", "<think>\nr\n</think>\n\nans");
    assistant.set("tool_calls", Value(Array{Value(std::move(call))}));
    return Value(Array{message("system", "  sys  "), message("user", "Hello <b>&'\"\n"), assistant,
                       message("user", "\xC3\xBCn\xC3\xAF \xE6\x97\xA5\xE6\x9C\xAC")});
}

Value context(bool rich) {
    Object ctx;
    ctx.set("messages", rich ? rich_messages() : Value(Array{message("user", "hi")}));
    ctx.set("tools", Value::none());
    ctx.set("add_generation_prompt", Value(false));
    ctx.set("bos_token", Value("<s>"));
    ctx.set("eos_token", Value("</s>"));
    return Value(std::move(ctx));
}

class JinjaGolden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(JinjaGolden, MatchesJinja2) {
    const GoldenCase& c = GetParam();
    SCOPED_TRACE(c.source);
    auto tpl = ChatTemplate::parse(c.source);
    ASSERT_TRUE(tpl.ok()) << tpl.status().message();
    auto out = tpl->render(context(c.rich));
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(*out, c.expected);
}

INSTANTIATE_TEST_SUITE_P(Jinja2, JinjaGolden, ::testing::ValuesIn(kGolden));

TEST(JinjaValue, PythonFloatRepr) {
    using duet::tok::jinja::python_float_repr;
    EXPECT_EQ(python_float_repr(1.0), "1.0");
    EXPECT_EQ(python_float_repr(21.5), "21.5");
    EXPECT_EQ(python_float_repr(0.1 + 0.2), "0.30000000000000004");
    EXPECT_EQ(python_float_repr(1e16), "1e+16");
    EXPECT_EQ(python_float_repr(1e15), "1000000000000000.0");
    EXPECT_EQ(python_float_repr(0.0001), "0.0001");
    EXPECT_EQ(python_float_repr(0.00001), "1e-05");
    EXPECT_EQ(python_float_repr(-2.5e-7), "-2.5e-07");
    EXPECT_EQ(python_float_repr(-0.0), "-0.0");
    EXPECT_EQ(python_float_repr(1e100), "1e+100");
}

TEST(JinjaValue, JsonDumpsSpacingAndEscapes) {
    Object obj;
    obj.set("b", Value("\"q\" \\ \n \x01 \xC3\xA9"));
    obj.set("a", Value(Array{Value(1), Value(2.5), Value::none(), Value(false)}));
    obj.set("e", Value(Object{}));
    std::string out, error;
    duet::tok::jinja::JsonOptions options;
    ASSERT_TRUE(duet::tok::jinja::to_json(Value(obj), options, out, error)) << error;
    EXPECT_EQ(out, "{\"b\": \"\\\"q\\\" \\\\ \\n \\u0001 \xC3\xA9\", \"a\": [1, 2.5, null, false], \"e\": {}}");
    out.clear();
    options.indent = 2;
    options.ensure_ascii = true;
    options.sort_keys = true;
    ASSERT_TRUE(duet::tok::jinja::to_json(Value(obj), options, out, error)) << error;
    EXPECT_EQ(out,
              "{\n  \"a\": [\n    1,\n    2.5,\n    null,\n    false\n  ],\n  \"b\": \"\\\"q\\\" \\\\ \\n \\u0001 "
              "\\u00e9\",\n"
              "  \"e\": {}\n}");
}

TEST(JinjaValue, UndefinedSemantics) {
    Value u = Value::undefined();
    EXPECT_FALSE(u.truthy());
    EXPECT_EQ(u.to_string(), "");
    EXPECT_TRUE(u.equals(Value::undefined()));
    EXPECT_FALSE(u.equals(Value::none()));
    EXPECT_TRUE(Value(1).equals(Value(1.0)));
    EXPECT_TRUE(Value(true).equals(Value(1)));
    EXPECT_FALSE(Value("1").equals(Value(1)));
}

}  // namespace
