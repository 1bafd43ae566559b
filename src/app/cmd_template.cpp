// cmd_template.cpp: `duet template`: render a chat template (from a GGUF or a .jinja file) for JSON messages.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "app/commands.h"
#include "gguf/gguf.h"
#include "tokenizer/template/chat_template.h"

namespace duet::app {

namespace {

using nlohmann::ordered_json;
using tok::jinja::Value;

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: duet template (-m MODEL.gguf | --template FILE.jinja) --messages FILE.json\n"
                 "                     [--add-generation-prompt] [--bos-token S] [--eos-token S]\n\n"
                 "Renders a chat template like transformers' apply_chat_template and prints the prompt on stdout,\n"
                 "byte for byte, with nothing appended.\n\n"
                 "  -m, --model FILE        template from the GGUF's tokenizer.chat_template (a built-in fallback\n"
                 "                          -- llama3, chatml, deepseek-r1, plain -- when it has none); bos/eos\n"
                 "                          default to the GGUF's bos/eos token texts\n"
                 "  --template FILE         a Jinja template file\n"
                 "  --messages FILE         JSON: an array of messages, or an object {\"messages\": [...],\n"
                 "                          \"tools\": [...], ...} whose other keys become template variables\n"
                 "  --add-generation-prompt append the assistant turn opener\n"
                 "  --bos-token S, --eos-token S  token texts (default: from the GGUF, else empty)\n"
                 "  -h, --help              this text\n\n"
                 "Exit status: 0 on success; 1 with 'error: <message>' on stderr otherwise.\n");
}

int fail(const std::string& message) {
    std::fprintf(stderr, "error: %s\n", message.c_str());
    return 1;
}

Result<std::string> read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::io_error("cannot open '%s'", path.c_str());
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return Status::io_error("cannot read '%s'", path.c_str());
    return ss.str();
}

// JSON -> template value; objects keep their key order (tojson must reproduce it).
Value json_to_value(const ordered_json& j) {
    switch (j.type()) {
        case ordered_json::value_t::null:
            return Value::none();
        case ordered_json::value_t::boolean:
            return Value(j.get<bool>());
        case ordered_json::value_t::number_integer:
            return Value(j.get<int64_t>());
        case ordered_json::value_t::number_unsigned: {
            auto u = j.get<uint64_t>();
            return u > static_cast<uint64_t>(INT64_MAX) ? Value(static_cast<double>(u))
                                                        : Value(static_cast<int64_t>(u));
        }
        case ordered_json::value_t::number_float:
            return Value(j.get<double>());
        case ordered_json::value_t::string:
            return Value(j.get<std::string>());
        case ordered_json::value_t::array: {
            Value out = Value::array();
            for (const auto& item : j) out.push_back(json_to_value(item));
            return out;
        }
        case ordered_json::value_t::object: {
            Value out = Value::object();
            for (const auto& [k, v] : j.items()) out.set(k, json_to_value(v));
            return out;
        }
        default:
            return Value::none();
    }
}

}  // namespace

int cmd_template(int argc, char** argv) {
    std::string model_path, template_path, messages_path;
    std::string bos_token, eos_token;
    bool bos_given = false, eos_given = false, add_generation_prompt = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= argc) return false;
            out = argv[++i];
            return true;
        };
        if (arg == "-h" || arg == "--help") {
            usage(stdout);
            return 0;
        } else if (arg == "-m" || arg == "--model") {
            if (!value(model_path)) return fail("-m needs a file");
        } else if (arg == "--template") {
            if (!value(template_path)) return fail("--template needs a file");
        } else if (arg == "--messages") {
            if (!value(messages_path)) return fail("--messages needs a file");
        } else if (arg == "--add-generation-prompt") {
            add_generation_prompt = true;
        } else if (arg == "--bos-token") {
            if (!value(bos_token)) return fail("--bos-token needs a value");
            bos_given = true;
        } else if (arg == "--eos-token") {
            if (!value(eos_token)) return fail("--eos-token needs a value");
            eos_given = true;
        } else {
            usage(stderr);
            return fail("unknown argument '" + std::string(arg) + "'");
        }
    }
    if (model_path.empty() == template_path.empty())
        return fail("give exactly one of -m MODEL.gguf or --template FILE");
    if (messages_path.empty()) return fail("--messages FILE.json is required");

    std::optional<tok::ChatTemplate> tpl;
    if (!model_path.empty()) {
        auto file = gguf::GgufFile::open(model_path);
        if (!file.ok()) return fail(file.status().message());
        auto loaded = tok::load_chat_template(**file);
        if (!loaded.ok()) return fail(model_path + ": " + loaded.status().message());
        tpl = std::move(loaded->tpl);
        if (!bos_given) bos_token = loaded->bos_token;
        if (!eos_given) eos_token = loaded->eos_token;
    } else {
        auto text = read_text_file(template_path);
        if (!text.ok()) return fail(text.status().message());
        auto parsed = tok::ChatTemplate::parse(*text);
        if (!parsed.ok()) return fail(parsed.status().message());
        tpl = std::move(parsed).value();
    }

    auto messages_text = read_text_file(messages_path);
    if (!messages_text.ok()) return fail(messages_text.status().message());
    ordered_json doc = ordered_json::parse(*messages_text, nullptr, false);
    if (doc.is_discarded()) return fail("'" + messages_path + "' is not valid JSON");
    Value messages, tools = Value::none(), extra = Value::object();
    if (doc.is_array()) {
        messages = json_to_value(doc);
    } else if (doc.is_object() && doc.contains("messages") && doc["messages"].is_array()) {
        for (const auto& [k, v] : doc.items()) {
            if (k == "messages") messages = json_to_value(v);
            else if (k == "tools") tools = json_to_value(v);
            else extra.set(k, json_to_value(v));
        }
    } else {
        return fail("'" + messages_path + "' must hold an array of messages or an object with a \"messages\" array");
    }

    auto prompt = tok::apply_chat_template(*tpl, messages, tools, add_generation_prompt, bos_token, eos_token, extra);
    if (!prompt.ok()) return fail(prompt.status().message());
    if (std::fwrite(prompt->data(), 1, prompt->size(), stdout) != prompt->size() || std::fflush(stdout) != 0)
        return fail("writing the prompt to stdout failed");
    return 0;
}

}  // namespace duet::app
