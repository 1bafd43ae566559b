// cmd_template.cpp: `duet template`: render a chat template (from a GGUF or a .jinja file) for JSON messages.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>

#include "app/commands.h"
#include "gguf/gguf.h"
#include "tokenizer/chat_template.h"

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
        case ordered_json::value_t::null: return Value::none();
        case ordered_json::value_t::boolean: return Value(j.get<bool>());
        case ordered_json::value_t::number_integer: return Value(j.get<int64_t>());
        case ordered_json::value_t::number_unsigned: {
            auto u = j.get<uint64_t>();
            return u > static_cast<uint64_t>(INT64_MAX) ? Value(static_cast<double>(u)) : Value(static_cast<int64_t>(u));
        }
        case ordered_json::value_t::number_float: return Value(j.get<double>());
        case ordered_json::value_t::string: return Value(j.get<std::string>());
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
        default: return Value::none();
    }
}

struct TemplateSource {
    std::string text;
    std::string bos_token;
    std::string eos_token;
};

// Token text of tokenizer.ggml.tokens[id_key], or empty when either is missing.
std::string token_text(const gguf::GgufFile& file, const char* id_key) {
    auto id = file.get_u32(id_key);
    auto tokens = file.get_array("tokenizer.ggml.tokens");
    if (!id.ok() || !tokens.ok() || *id >= (*tokens)->strings.size()) return {};
    return std::string((*tokens)->strings[*id]);
}

Result<TemplateSource> template_from_gguf(const std::string& path) {
    DUET_TRY(auto file, gguf::GgufFile::open(path));
    TemplateSource src;
    src.bos_token = token_text(*file, "tokenizer.ggml.bos_token_id");
    src.eos_token = token_text(*file, "tokenizer.ggml.eos_token_id");
    DUET_TRY(std::string_view text, file->get_string_or("tokenizer.chat_template", ""));
    if (!text.empty()) {
        src.text = std::string(text);
        return src;
    }
    tok::TemplateHints hints;
    DUET_TRY(hints.architecture, file->get_string_or("general.architecture", ""));
    DUET_TRY(hints.tokenizer_model, file->get_string_or("tokenizer.ggml.model", ""));
    DUET_TRY(hints.tokenizer_pre, file->get_string_or("tokenizer.ggml.pre", ""));
    DUET_TRY(hints.model_name, file->get_string_or("general.name", ""));
    auto tokens = file->get_array("tokenizer.ggml.tokens");
    const gguf::Array* vocab = tokens.ok() ? *tokens : nullptr;
    hints.has_token = [vocab](std::string_view t) {
        if (vocab == nullptr) return false;
        for (std::string_view s : vocab->strings)
            if (s == t) return true;
        return false;
    };
    src.text = std::string(tok::fallback_template(tok::pick_fallback_template(hints)));
    return src;
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
    if (model_path.empty() == template_path.empty()) return fail("give exactly one of -m MODEL.gguf or --template FILE");
    if (messages_path.empty()) return fail("--messages FILE.json is required");

    TemplateSource src;
    if (!model_path.empty()) {
        auto loaded = template_from_gguf(model_path);
        if (!loaded.ok()) return fail(loaded.status().message());
        src = std::move(loaded).value();
    } else {
        auto text = read_text_file(template_path);
        if (!text.ok()) return fail(text.status().message());
        src.text = std::move(text).value();
    }
    if (bos_given) src.bos_token = bos_token;
    if (eos_given) src.eos_token = eos_token;

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

    auto tpl = tok::ChatTemplate::parse(src.text);
    if (!tpl.ok()) return fail(tpl.status().message());
    auto prompt = tok::apply_chat_template(*tpl, messages, tools, add_generation_prompt, src.bos_token, src.eos_token,
                                           extra);
    if (!prompt.ok()) return fail(prompt.status().message());
    if (std::fwrite(prompt->data(), 1, prompt->size(), stdout) != prompt->size() || std::fflush(stdout) != 0)
        return fail("writing the prompt to stdout failed");
    return 0;
}

}  // namespace duet::app
