// fuzz_template.cpp: libFuzzer target: arbitrary bytes as a chat template, parsed and rendered against a small
// fixed conversation. Any crash, sanitizer report, hang or unbounded allocation is a bug; errors are fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tokenizer/template/chat_template.h"

namespace {

using duet::tok::jinja::Array;
using duet::tok::jinja::Object;
using duet::tok::jinja::Value;

Value message(const char* role, const char* content) {
    Object m;
    m.set("role", Value(role));
    m.set("content", Value(content));
    return Value(std::move(m));
}

const Value& fixed_context() {
    static const Value context = [] {
        Object call;
        Object function;
        function.set("name", Value("get_weather"));
        Object args;
        args.set("city", Value("Paris"));
        function.set("arguments", Value(std::move(args)));
        call.set("function", Value(std::move(function)));
        Value assistant = message("assistant", "<think>\nhmm\n</think>\n\nSunny.");
        assistant.set("tool_calls", Value(Array{Value(std::move(call))}));
        Object ctx;
        ctx.set("messages", Value(Array{message("system", "Be brief."), message("user", "Weather in Paris?"), assistant,
                                        message("tool", "{\"temp\": 21.5}"), message("user", "Thanks \xC3\xA9")}));
        ctx.set("tools", Value::none());
        ctx.set("add_generation_prompt", Value(true));
        ctx.set("bos_token", Value("<s>"));
        ctx.set("eos_token", Value("</s>"));
        ctx.set("enable_thinking", Value(false));
        return Value(std::move(ctx));
    }();
    return context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view source(reinterpret_cast<const char*>(data), size);
    auto tpl = duet::tok::ChatTemplate::parse(source);
    if (!tpl.ok()) return 0;
    // Smaller budgets than the defaults keep every input well under libFuzzer's per-input timeout under ASan;
    // the limits are the same code paths.
    duet::tok::jinja::Limits limits;
    limits.max_loop_iterations = 20'000;
    limits.max_output_bytes = 1u << 20;
    limits.max_work_bytes = 32u << 20;
    limits.max_collection_size = 1u << 16;
    (void)tpl->render(fixed_context(), limits);
    return 0;
}
