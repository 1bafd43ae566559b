// cmd_inspect.cpp: `duet inspect FILE.gguf`: metadata, tensor table, totals and model sizes (text or --json).
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "app/commands.h"
#include "gguf/gguf.h"

namespace duet::app {

namespace {

using gguf::Array;
using gguf::GgufFile;
using gguf::TensorInfo;
using gguf::Value;
using gguf::ValueType;

constexpr size_t kMaxStringShown = 80;  // characters of a string value before "..."
constexpr uint64_t kMaxArrayShown = 8;  // arrays longer than this show their first 3 elements
constexpr uint64_t kArrayHead = 3;

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: duet inspect [--json] FILE.gguf\n\n"
                 "Shows a GGUF file's metadata (long arrays and strings summarized), its tensors (name, type,\n"
                 "shape, bytes), totals by type and, for llama/qwen2-style models, the parameter count, the weight\n"
                 "bytes read per generated token and the F16 KV-cache bytes per 1K tokens.\n\n"
                 "  --json     print one JSON object instead of text\n"
                 "  -h, --help this text\n\n"
                 "Exit status: 0 for a valid file; 1 with one line 'error: <message>' on stderr otherwise.\n");
}

// A prefix of at most `max` bytes that does not split a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, size_t max) {
    if (s.size() <= max) return s;
    size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

// Untrusted bytes escaped onto one line, at most `max` bytes of them (cut at a UTF-8 boundary).
std::string escaped(std::string_view s, size_t max) {
    std::string out;
    for (char ch : utf8_prefix(s, max)) {
        auto c = static_cast<unsigned char>(ch);
        if (ch == '"') out += "\\\"";
        else if (ch == '\\') out += "\\\\";
        else if (ch == '\n') out += "\\n";
        else if (ch == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) out += strformat("\\x%02x", c);
        else out += ch;
    }
    return out;
}

// A quoted, escaped, truncated string: "abc"... (1234 bytes)
std::string quote(std::string_view s, size_t max = kMaxStringShown) {
    std::string out = "\"" + escaped(s, max) + "\"";
    if (s.size() > max) out += strformat("... (%zu bytes)", s.size());
    return out;
}

std::string scalar_element(const Array& arr, uint64_t i) {
    switch (arr.elem_type) {
        case ValueType::FLOAT32:
        case ValueType::FLOAT64:
            return strformat("%g", arr.as_double(i));
        case ValueType::BOOL:
            return arr.as_int(i) != 0 ? "true" : "false";
        case ValueType::UINT64: {
            uint64_t v;
            std::memcpy(&v, arr.data + i * 8, 8);
            return strformat("%llu", static_cast<unsigned long long>(v));
        }
        default:
            return strformat("%lld", static_cast<long long>(arr.as_int(i)));
    }
}

std::string format_value(const Value& value) {
    switch (value.type) {
        case ValueType::STRING:
            return quote(std::get<std::string_view>(value.v));
        case ValueType::BOOL:
            return std::get<bool>(value.v) ? "true" : "false";
        case ValueType::FLOAT32:
        case ValueType::FLOAT64:
            return strformat("%g (%s)", std::get<double>(value.v), std::string(value_type_name(value.type)).c_str());
        case ValueType::UINT8:
        case ValueType::UINT16:
        case ValueType::UINT32:
        case ValueType::UINT64:
            return strformat("%llu (%s)", static_cast<unsigned long long>(std::get<uint64_t>(value.v)),
                             std::string(value_type_name(value.type)).c_str());
        case ValueType::INT8:
        case ValueType::INT16:
        case ValueType::INT32:
        case ValueType::INT64:
            return strformat("%lld (%s)", static_cast<long long>(std::get<int64_t>(value.v)),
                             std::string(value_type_name(value.type)).c_str());
        case ValueType::ARRAY: {
            const Array& arr = std::get<Array>(value.v);
            std::string out = strformat("[array of %llu %s", static_cast<unsigned long long>(arr.count),
                                        std::string(value_type_name(arr.elem_type)).c_str());
            const uint64_t shown = arr.count <= kMaxArrayShown ? arr.count : kArrayHead;
            for (uint64_t i = 0; i < shown; ++i) {
                out += i == 0 ? ": " : ", ";
                out += arr.elem_type == ValueType::STRING ? quote(arr.strings[i], 40) : scalar_element(arr, i);
            }
            if (shown < arr.count) out += ", ...";
            return out + "]";
        }
    }
    return "?";
}

std::string shape_of(const TensorInfo& t) {
    std::string out = "[";
    for (int d = 0; d < t.n_dims; ++d) out += strformat(d == 0 ? "%lld" : ", %lld", static_cast<long long>(t.ne[d]));
    return out + "]";
}

struct TypeTotal {
    uint64_t n_tensors = 0;
    uint64_t n_bytes = 0;
};

struct ModelSizes {
    std::string arch;
    uint64_t n_params = 0;
    uint64_t weight_bytes_per_token = 0;
    uint64_t kv_bytes_per_1k_tokens = 0;
    bool tied_output = false;
    uint32_t n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0;
};

// Model sizes for files with general.architecture and {arch}.block_count; nullopt for vocab-only files and others.
Result<std::optional<ModelSizes>> model_sizes(const GgufFile& f) {
    auto arch = f.get_string_or("general.architecture", "");
    if (!arch.ok()) return arch.status();
    ModelSizes m;
    m.arch = std::string(arch.value());
    if (m.arch.empty() || f.find(m.arch + ".block_count") == nullptr || f.tensors().empty())
        return std::optional<ModelSizes>();
    DUET_TRY(m.n_layers, f.get_u32(m.arch + ".block_count"));
    DUET_TRY(m.n_heads, f.get_u32(m.arch + ".attention.head_count"));
    DUET_TRY(m.n_kv_heads, f.get_u32_or(m.arch + ".attention.head_count_kv", m.n_heads));
    DUET_TRY(uint32_t n_embd, f.get_u32(m.arch + ".embedding_length"));
    if (m.n_heads == 0) return Status::invalid_data("%s.attention.head_count is 0", m.arch.c_str());
    DUET_TRY(m.head_dim, f.get_u32_or(m.arch + ".attention.key_length", n_embd / m.n_heads));

    const TensorInfo* embd = f.find_tensor("token_embd.weight");
    m.tied_output = f.find_tensor("output.weight") == nullptr;
    for (const auto& t : f.tensors()) {
        m.n_params += static_cast<uint64_t>(t.n_elements());
        if (&t != embd) m.weight_bytes_per_token += t.n_bytes;
    }
    // The embedding lookup reads one row; a tied output matrix reads all of token_embd.
    if (embd != nullptr) m.weight_bytes_per_token += m.tied_output ? embd->n_bytes : row_size(embd->type, embd->ne[0]);
    // K and V, F16 (2 bytes), per layer and KV head (the values are the file's: check for overflow).
    uint64_t kv = uint64_t{2} * 2 * 1024;
    if (__builtin_mul_overflow(kv, uint64_t{m.n_layers}, &kv) ||
        __builtin_mul_overflow(kv, uint64_t{m.n_kv_heads}, &kv) ||
        __builtin_mul_overflow(kv, uint64_t{m.head_dim}, &kv))
        return Status::invalid_data("KV cache size overflows (%u layers, %u KV heads, head_dim %u)", m.n_layers,
                                    m.n_kv_heads, m.head_dim);
    m.kv_bytes_per_1k_tokens = kv;
    return std::optional<ModelSizes>(m);
}

nlohmann::json value_json(const Value& value) {
    nlohmann::json j;
    j["type"] = std::string(value_type_name(value.type));
    switch (value.type) {
        case ValueType::STRING:
            j["value"] = std::string(std::get<std::string_view>(value.v));
            break;
        case ValueType::BOOL:
            j["value"] = std::get<bool>(value.v);
            break;
        case ValueType::FLOAT32:
        case ValueType::FLOAT64:
            j["value"] = std::get<double>(value.v);
            break;
        case ValueType::UINT8:
        case ValueType::UINT16:
        case ValueType::UINT32:
        case ValueType::UINT64:
            j["value"] = std::get<uint64_t>(value.v);
            break;
        case ValueType::INT8:
        case ValueType::INT16:
        case ValueType::INT32:
        case ValueType::INT64:
            j["value"] = std::get<int64_t>(value.v);
            break;
        case ValueType::ARRAY: {
            const Array& arr = std::get<Array>(value.v);
            j["elem_type"] = std::string(value_type_name(arr.elem_type));
            j["count"] = arr.count;
            nlohmann::json head = nlohmann::json::array();
            for (uint64_t i = 0; i < arr.count && i < kMaxArrayShown; ++i) {
                if (arr.elem_type == ValueType::STRING) head.push_back(std::string(arr.strings[i]));
                else if (arr.elem_type == ValueType::FLOAT32 || arr.elem_type == ValueType::FLOAT64)
                    head.push_back(arr.as_double(i));
                else head.push_back(arr.as_int(i));
            }
            j["head"] = head;  // the first (up to) 8 elements
            break;
        }
    }
    return j;
}

void print_json(const GgufFile& f, const std::map<std::string, TypeTotal>& by_type, uint64_t total_bytes,
                const std::optional<ModelSizes>& model, const std::string& model_error) {
    nlohmann::json j;
    j["file"] = f.path();
    j["file_size"] = f.file_size();
    j["version"] = f.version();
    j["alignment"] = f.alignment();
    j["data_offset"] = f.data_offset();
    nlohmann::json meta = nlohmann::json::object();
    for (const auto& kv : f.metadata()) meta[std::string(kv.key)] = value_json(kv.value);
    j["metadata"] = meta;
    nlohmann::json tensors = nlohmann::json::array();
    for (const auto& t : f.tensors()) {
        nlohmann::json shape = nlohmann::json::array();
        for (int d = 0; d < t.n_dims; ++d) shape.push_back(t.ne[d]);
        tensors.push_back({{"name", std::string(t.name)},
                           {"type", std::string(tensor_type_name(t.type))},
                           {"shape", shape},
                           {"offset", f.data_offset() + t.offset},
                           {"bytes", t.n_bytes}});
    }
    j["tensors"] = tensors;
    nlohmann::json types = nlohmann::json::object();
    for (const auto& [name, tt] : by_type) types[name] = {{"tensors", tt.n_tensors}, {"bytes", tt.n_bytes}};
    j["totals"] = {{"tensors", f.tensors().size()}, {"bytes", total_bytes}, {"by_type", types}};
    if (model) {
        j["model"] = {{"architecture", model->arch},
                      {"parameters", model->n_params},
                      {"weight_bytes_per_token", model->weight_bytes_per_token},
                      {"kv_bytes_per_1k_tokens", model->kv_bytes_per_1k_tokens},
                      {"tied_output", model->tied_output},
                      {"n_layers", model->n_layers},
                      {"n_heads", model->n_heads},
                      {"n_kv_heads", model->n_kv_heads},
                      {"head_dim", model->head_dim}};
    }
    if (!model_error.empty()) j["model_error"] = model_error;
    // Keys and strings come from the file: invalid UTF-8 is replaced rather than thrown on.
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

void print_text(const GgufFile& f, const std::map<std::string, TypeTotal>& by_type, uint64_t total_bytes,
                const std::optional<ModelSizes>& model, const std::string& model_error) {
    std::printf("file: %s\n", f.path().c_str());
    std::printf("GGUF v%u, %llu bytes, alignment %llu, data offset %llu\n", f.version(),
                static_cast<unsigned long long>(f.file_size()), static_cast<unsigned long long>(f.alignment()),
                static_cast<unsigned long long>(f.data_offset()));
    std::printf("\nmetadata (%zu keys):\n", f.metadata().size());
    for (const auto& kv : f.metadata())
        std::printf("  %s = %s\n", escaped(kv.key, 200).c_str(), format_value(kv.value).c_str());

    size_t name_width = 4;
    for (const auto& t : f.tensors()) name_width = std::max(name_width, std::min<size_t>(t.name.size(), 60));
    std::printf("\ntensors (%zu):\n", f.tensors().size());
    if (!f.tensors().empty())
        std::printf("  %-*s  %-5s  %-24s  %12s\n", static_cast<int>(name_width), "name", "type", "shape", "bytes");
    for (const auto& t : f.tensors()) {
        std::printf("  %-*s  %-5s  %-24s  %12llu\n", static_cast<int>(name_width), escaped(t.name, 200).c_str(),
                    std::string(tensor_type_name(t.type)).c_str(), shape_of(t).c_str(),
                    static_cast<unsigned long long>(t.n_bytes));
    }
    std::printf("\ntotals: %zu tensors, %llu bytes (%s)\n", f.tensors().size(),
                static_cast<unsigned long long>(total_bytes), format_bytes(static_cast<double>(total_bytes)).c_str());
    for (const auto& [name, tt] : by_type)
        std::printf("  %-5s %6llu tensors  %14llu bytes (%s)\n", name.c_str(),
                    static_cast<unsigned long long>(tt.n_tensors), static_cast<unsigned long long>(tt.n_bytes),
                    format_bytes(static_cast<double>(tt.n_bytes)).c_str());
    if (model) {
        std::printf("\nmodel: %s, %u layers, %u heads, %u KV heads, head_dim %u, output %s\n", model->arch.c_str(),
                    model->n_layers, model->n_heads, model->n_kv_heads, model->head_dim,
                    model->tied_output ? "tied to token_embd" : "separate");
        std::printf("  parameters:                %llu (%.2f M)\n", static_cast<unsigned long long>(model->n_params),
                    static_cast<double>(model->n_params) / 1e6);
        std::printf("  weight bytes per token:    %llu (%s)\n",
                    static_cast<unsigned long long>(model->weight_bytes_per_token),
                    format_bytes(static_cast<double>(model->weight_bytes_per_token)).c_str());
        std::printf("  KV bytes per 1K tokens:    %llu (%s, F16)\n",
                    static_cast<unsigned long long>(model->kv_bytes_per_1k_tokens),
                    format_bytes(static_cast<double>(model->kv_bytes_per_1k_tokens)).c_str());
    }
    if (!model_error.empty()) std::printf("\nmodel: sizes not computed: %s\n", model_error.c_str());
}

int fail(const std::string& message) {
    std::string line = message;
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    std::fprintf(stderr, "error: %s\n", line.c_str());
    return 1;
}

}  // namespace

int cmd_inspect(int argc, char** argv) {
    bool json = false;
    std::string path;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            usage(stdout);
            return 0;
        }
        if (arg == "--json") {
            json = true;
        } else if (arg.starts_with("-") && arg != "-") {
            std::fprintf(stderr, "error: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (path.empty()) {
            path = arg;
        } else {
            std::fprintf(stderr, "error: more than one file given ('%s' and '%s')\n", path.c_str(), argv[i]);
            return 2;
        }
    }
    if (path.empty()) {
        std::fprintf(stderr, "error: no file given\n");
        usage(stderr);
        return 2;
    }

    auto opened = GgufFile::open(path);
    if (!opened.ok()) return fail(opened.status().message());
    const GgufFile& f = *opened.value();
    // A valid GGUF with odd hyperparameters is still shown (exit 0); the model section says what is wrong.
    auto model = model_sizes(f);
    std::optional<ModelSizes> sizes = model.ok() ? model.value() : std::nullopt;
    std::string model_error = model.ok() ? "" : model.status().message();

    std::map<std::string, TypeTotal> by_type;
    uint64_t total_bytes = 0;
    for (const auto& t : f.tensors()) {
        TypeTotal& tt = by_type[std::string(tensor_type_name(t.type))];
        ++tt.n_tensors;
        tt.n_bytes += t.n_bytes;
        total_bytes += t.n_bytes;
    }
    if (json) print_json(f, by_type, total_bytes, sizes, model_error);
    else print_text(f, by_type, total_bytes, sizes, model_error);
    return 0;
}

}  // namespace duet::app
