// serve_config.cpp: libyaml events -> a small tree (maps, lists, scalars, each with its line) -> ServeConfigFile.
#include "server/serve_config.h"

#include <yaml.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/duration.h"
#include "common/strformat.h"

namespace duet::server {

namespace {

struct Node {
    enum class Kind { scalar, map, list } kind = Kind::scalar;
    std::string text;  // scalar
    bool quoted = false;
    int line = 0;                                // 1-based
    std::vector<std::pair<Node, Node>> entries;  // map, in order
    std::vector<Node> items;                     // list
};

// One libyaml parse into a Node tree; errors "FILE:LINE: reason".
class TreeReader {
public:
    TreeReader(std::string_view text, const std::string& file) : file_(file) {
        yaml_parser_initialize(&parser_);
        yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    }
    ~TreeReader() { yaml_parser_delete(&parser_); }

    Result<Node> read_document() {
        Node root;
        root.kind = Node::Kind::map;  // an empty file is an empty map
        yaml_event_t event;
        bool have_root = false;
        for (;;) {
            DUET_RETURN_IF_ERROR(next(&event));
            const yaml_event_type_t type = event.type;
            const int line = static_cast<int>(event.start_mark.line) + 1;
            if (type == YAML_STREAM_END_EVENT) {
                yaml_event_delete(&event);
                break;
            }
            if (type == YAML_STREAM_START_EVENT || type == YAML_DOCUMENT_END_EVENT) {
                yaml_event_delete(&event);
                continue;
            }
            if (type == YAML_DOCUMENT_START_EVENT) {
                yaml_event_delete(&event);
                if (have_root) return error(line, "only one YAML document is expected");
                continue;
            }
            DUET_TRY(root, read_node(&event));
            have_root = true;
        }
        return root;
    }

    Status error(int line, const std::string& reason) const {
        return Status::invalid_argument("%s:%d: %s", file_.c_str(), line, reason.c_str());
    }

private:
    Status next(yaml_event_t* event) {
        if (yaml_parser_parse(&parser_, event)) return Status::ok_status();
        const int line = static_cast<int>(parser_.problem_mark.line) + 1;
        std::string reason = parser_.problem ? parser_.problem : "invalid YAML";
        if (parser_.context) reason = std::string(parser_.context) + ": " + reason;
        return error(line, reason);
    }

    // Consumes `event` (deleted here) and, for a map or list, every event up to its end.
    Result<Node> read_node(yaml_event_t* event) {
        Node node;
        node.line = static_cast<int>(event->start_mark.line) + 1;
        const yaml_event_type_t type = event->type;
        if (type == YAML_SCALAR_EVENT) {
            node.text.assign(reinterpret_cast<const char*>(event->data.scalar.value), event->data.scalar.length);
            node.quoted = event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
            yaml_event_delete(event);
            return node;
        }
        yaml_event_delete(event);
        if (type == YAML_ALIAS_EVENT) return error(node.line, "anchors and aliases (*name) are not supported");
        if (type != YAML_MAPPING_START_EVENT && type != YAML_SEQUENCE_START_EVENT)
            return error(node.line, "unexpected YAML event");
        if (++depth_ > kMaxDepth) return error(node.line, "nested too deeply");
        node.kind = type == YAML_MAPPING_START_EVENT ? Node::Kind::map : Node::Kind::list;
        const yaml_event_type_t end =
            type == YAML_MAPPING_START_EVENT ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
        for (;;) {
            yaml_event_t child;
            DUET_RETURN_IF_ERROR(next(&child));
            if (child.type == end) {
                yaml_event_delete(&child);
                break;
            }
            DUET_TRY(Node item, read_node(&child));
            if (node.kind == Node::Kind::list) {
                node.items.push_back(std::move(item));
                continue;
            }
            if (item.kind != Node::Kind::scalar) return error(item.line, "a key must be a plain name");
            yaml_event_t value_event;
            DUET_RETURN_IF_ERROR(next(&value_event));
            DUET_TRY(Node value, read_node(&value_event));
            for (const auto& [key, unused] : node.entries)
                if (key.text == item.text) return error(item.line, "'" + item.text + "' is given twice");
            node.entries.emplace_back(std::move(item), std::move(value));
        }
        --depth_;
        return node;
    }

    static constexpr int kMaxDepth = 16;
    std::string file_;
    yaml_parser_t parser_;
    int depth_ = 0;
};

// Typed reads of scalars, each error at the value's line.
class Reader {
public:
    explicit Reader(const TreeReader& tree) : tree_(tree) {}

    Status error(const Node& at, const std::string& reason) const { return tree_.error(at.line, reason); }

    Result<std::string> string(const Node& v, const std::string& key) const {
        if (v.kind != Node::Kind::scalar) return error(v, "'" + key + "' must be a single value");
        if (v.text.empty()) return error(v, "'" + key + "' is empty");
        return v.text;
    }
    Result<bool> boolean(const Node& v, const std::string& key) const {
        DUET_RETURN_IF_ERROR(string(v, key).status());
        const std::string& s = v.text;
        if (s == "true" || s == "yes" || s == "on") return true;
        if (s == "false" || s == "no" || s == "off") return false;
        return error(v, "'" + key + "' must be true or false, not '" + s + "'");
    }
    Result<int64_t> integer(const Node& v, const std::string& key, int64_t min, int64_t max) const {
        DUET_TRY(std::string s, string(v, key));
        char* end = nullptr;
        const long long n = std::strtoll(s.c_str(), &end, 10);
        if (end != s.c_str() + s.size() || n < min || n > max)
            return error(v, strformat("'%s' must be a whole number in %lld..%lld, not '%s'", key.c_str(),
                                      static_cast<long long>(min), static_cast<long long>(max), s.c_str()));
        return static_cast<int64_t>(n);
    }
    Result<double> duration(const Node& v, const std::string& key) const {
        DUET_TRY(std::string s, string(v, key));
        auto seconds = parse_duration_seconds(s);
        if (!seconds.ok()) return error(v, "'" + key + "': " + seconds.status().message());
        return *seconds;
    }
    Result<size_t> size(const Node& v, const std::string& key) const {
        DUET_TRY(std::string s, string(v, key));
        auto bytes = parse_byte_size(s);
        if (!bytes.ok()) return error(v, "'" + key + "': " + bytes.status().message());
        return *bytes;
    }
    Status expect(const Node& v, Node::Kind kind, const std::string& what) const {
        if (v.kind == kind) return Status::ok_status();
        return error(v, what);
    }

private:
    const TreeReader& tree_;
};

std::string keys_text(std::initializer_list<const char*> keys) {
    std::string out;
    for (const char* k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
    return out;
}

Status unknown_key(const Reader& r, const Node& key, const char* where, std::initializer_list<const char*> keys) {
    return r.error(key,
                   strformat("unknown key '%s' in %s (expected %s)", key.text.c_str(), where, keys_text(keys).c_str()));
}

Result<ConfigModel> read_model(const Reader& r, const Node& item, const std::string& base_dir) {
    DUET_RETURN_IF_ERROR(
        r.expect(item, Node::Kind::map, "each entry of 'models' must be a map (name: ..., model: ...)"));
    ConfigModel m;
    m.line = item.line;
    m.spec.preload = false;  // load on demand, Ollama-like
    for (const auto& [key, value] : item.entries) {
        const std::string& k = key.text;
        if (k == "name") {
            DUET_TRY(m.spec.name, r.string(value, k));
        } else if (k == "model" || k == "file") {
            DUET_TRY(m.spec.path, r.string(value, k));
        } else if (k == "role") {
            DUET_TRY(std::string role, r.string(value, k));
            auto parsed = registry::parse_role(role);
            if (!parsed.ok()) return r.error(value, parsed.status().message());
            m.spec.role = *parsed;
        } else if (k == "preload") {
            DUET_TRY(m.spec.preload, r.boolean(value, k));
        } else if (k == "keep_alive") {
            DUET_TRY(m.keep_alive, r.duration(value, k));
        } else if (k == "context") {
            DUET_TRY(int64_t n, r.integer(value, k, 1, 1 << 24));
            m.spec.context_length = static_cast<int32_t>(n);
        } else if (k == "kv_memory") {
            DUET_TRY(m.spec.kv_memory_bytes, r.size(value, k));
        } else {
            return unknown_key(r, key, "a model",
                               {"name", "model", "role", "preload", "keep_alive", "context", "kv_memory"});
        }
    }
    if (m.spec.path.empty()) return r.error(item, "a model needs 'model': a GGUF file or ORG/REPO[:QUANT]");
    if (m.spec.name.empty()) {  // the file's stem, as -m FILE does
        std::string stem = std::filesystem::path(m.spec.path).filename().string();
        if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".gguf") == 0) stem.resize(stem.size() - 5);
        m.spec.name = stem;
    }
    // A relative file is looked up beside the config file first.
    constexpr std::string_view kScript = "script:";
    const bool script = m.spec.path.rfind(kScript, 0) == 0;
    std::string file = script ? m.spec.path.substr(kScript.size()) : m.spec.path;
    if (!base_dir.empty() && !file.empty() && std::filesystem::path(file).is_relative()) {
        std::error_code ec;
        const std::string beside = (std::filesystem::path(base_dir) / file).string();
        if (std::filesystem::exists(beside, ec)) m.spec.path = script ? std::string(kScript) + beside : beside;
    }
    return m;
}

Result<upstream::UpstreamSpec> read_upstream(const Reader& r, const Node& item) {
    DUET_RETURN_IF_ERROR(
        r.expect(item, Node::Kind::map, "each entry of 'upstreams' must be a map (name: ..., urls: [...])"));
    std::string name, model, key;
    std::vector<std::pair<std::string, const Node*>> urls;
    for (const auto& [k, value] : item.entries) {
        if (k.text == "name") {
            DUET_TRY(name, r.string(value, k.text));
        } else if (k.text == "model") {
            DUET_TRY(model, r.string(value, k.text));
        } else if (k.text == "key") {
            DUET_TRY(key, r.string(value, k.text));
        } else if (k.text == "urls" || k.text == "url") {
            if (value.kind == Node::Kind::list) {
                for (const auto& u : value.items) {
                    DUET_TRY(std::string url, r.string(u, k.text));
                    urls.emplace_back(url, &u);
                }
            } else {
                DUET_TRY(std::string url, r.string(value, k.text));
                urls.emplace_back(url, &value);
            }
        } else {
            return unknown_key(r, k, "an upstream", {"name", "urls", "model", "key"});
        }
    }
    if (name.empty()) return r.error(item, "an upstream needs a 'name'");
    if (urls.empty()) return r.error(item, "upstream '" + name + "' needs 'urls': one or more http(s):// URLs");
    std::vector<upstream::UpstreamSpec> one;
    for (const auto& [url, at] : urls) {
        // The same rules as --upstream NAME=URL[#model].
        const std::string arg = name + "=" + url + (model.empty() ? "" : "#" + model);
        if (Status st = upstream::add_upstream_arg(arg, &one); !st.ok()) return r.error(*at, st.message());
    }
    one.front().api_key = key;
    return one.front();
}

}  // namespace

Result<size_t> parse_byte_size(std::string_view text) {
    std::string_view s = text;
    auto bad = [&] {
        return Status::invalid_argument("size '%.*s': expected bytes or a number with K, M, G or T (512M, 2G)",
                                        static_cast<int>(text.size()), text.data());
    };
    if (s.empty()) return bad();
    double multiplier = 1;
    const char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(s.back())));
    if (unit == 'B' && s.size() > 1) s.remove_suffix(1);  // "2GB" reads as "2G"
    const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(s.back())));
    if (u == 'K' || u == 'M' || u == 'G' || u == 'T') {
        multiplier = u == 'K' ? 0x1p10 : u == 'M' ? 0x1p20 : u == 'G' ? 0x1p30 : 0x1p40;
        s.remove_suffix(1);
    }
    const std::string number(s);
    char* end = nullptr;
    const double value = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(value > 0) || value * multiplier > 0x1p50)
        return bad();
    return static_cast<size_t>(std::llround(value * multiplier));
}

Result<ServeConfigFile> parse_serve_config(std::string_view text, const std::string& file_name,
                                           const std::string& base_dir) {
    TreeReader tree(text, file_name);
    DUET_TRY(Node root, tree.read_document());
    const Reader r(tree);
    if (root.kind != Node::Kind::map)
        return r.error(root, "the config file must be a map of settings (models:, upstreams:, ...)");
    ServeConfigFile out;
    for (const auto& [key, value] : root.entries) {
        const std::string& k = key.text;
        if (k == "models") {
            DUET_RETURN_IF_ERROR(r.expect(value, Node::Kind::list, "'models' must be a list (- name: ...)"));
            for (const auto& item : value.items) {
                DUET_TRY(ConfigModel m, read_model(r, item, base_dir));
                for (const auto& other : out.models)
                    if (other.spec.name == m.spec.name)
                        return r.error(item, "model name '" + m.spec.name + "' is given twice");
                if (m.spec.role == registry::Role::expert) out.expert_model = m.spec.name;
                if (m.spec.role == registry::Role::daily) out.daily_model = m.spec.name;
                out.models.push_back(std::move(m));
            }
        } else if (k == "upstreams") {
            DUET_RETURN_IF_ERROR(r.expect(value, Node::Kind::list, "'upstreams' must be a list (- name: ...)"));
            for (const auto& item : value.items) {
                DUET_TRY(upstream::UpstreamSpec spec, read_upstream(r, item));
                for (const auto& other : out.upstreams)
                    if (other.name == spec.name)
                        return r.error(item, "upstream '" + spec.name + "' is given twice (list its urls instead)");
                out.upstreams.push_back(std::move(spec));
            }
        } else if (k == "roles") {
            DUET_RETURN_IF_ERROR(r.expect(value, Node::Kind::map, "'roles' must be a map (expert: NAME, daily: NAME)"));
            for (const auto& [role, name] : value.entries) {
                if (role.text == "expert") {
                    DUET_TRY(out.expert_model, r.string(name, "expert"));
                } else if (role.text == "daily") {
                    DUET_TRY(out.daily_model, r.string(name, "daily"));
                } else {
                    return unknown_key(r, role, "roles", {"expert", "daily"});
                }
            }
        } else if (k == "memory_budget") {
            DUET_TRY(out.memory_budget_bytes, r.size(value, k));
        } else if (k == "kv_memory") {
            DUET_TRY(out.kv_memory_bytes, r.size(value, k));
        } else if (k == "keep_alive") {
            DUET_TRY(out.keep_alive_seconds, r.duration(value, k));
        } else if (k == "load_timeout") {
            DUET_TRY(double seconds, r.duration(value, k));
            if (seconds < 0) return r.error(value, "'load_timeout' must not be negative");
            out.load_timeout_seconds = seconds;
        } else if (k == "context") {
            DUET_TRY(int64_t n, r.integer(value, k, 1, 1 << 24));
            out.context_length = static_cast<int32_t>(n);
        } else {
            return unknown_key(r, key, "the config file",
                               {"models", "upstreams", "roles", "memory_budget", "kv_memory", "keep_alive",
                                "load_timeout", "context"});
        }
    }
    for (const auto& m : out.models)
        for (const auto& u : out.upstreams)
            if (m.spec.name == u.name) return tree.error(m.line, "'" + u.name + "' is both a model and an upstream");
    return out;
}

Result<ServeConfigFile> load_serve_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::io_error("--config %s: cannot read the file", path.c_str());
    std::ostringstream text;
    text << in.rdbuf();
    const std::string base = std::filesystem::path(path).parent_path().string();
    return parse_serve_config(text.str(), path, base.empty() ? "." : base);
}

}  // namespace duet::server
