// jinja_value.cpp: Value semantics (truthiness, equality, str/repr), Python float repr, json.dumps, UTF-8.
#include "tokenizer/template/jinja_value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace duet::tok::jinja {

namespace {
constexpr size_t kIndexThreshold = 16;  // objects with more keys get a hash index
}

const Value* Object::find(std::string_view key) const {
    if (!index_.empty()) {
        auto it = index_.find(std::string(key));
        return it == index_.end() ? nullptr : &entries_[it->second].second;
    }
    for (const auto& [k, v] : entries_)
        if (k == key) return &v;
    return nullptr;
}

void Object::set(std::string key, Value value) {
    if (!index_.empty()) {
        auto it = index_.find(key);
        if (it != index_.end()) {
            entries_[it->second].second = std::move(value);
            return;
        }
    } else {
        for (auto& [k, v] : entries_)
            if (k == key) {
                v = std::move(value);
                return;
            }
    }
    entries_.emplace_back(std::move(key), std::move(value));
    if (entries_.size() > kIndexThreshold) {
        if (index_.empty())
            for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].first, i);
        else index_.emplace(entries_.back().first, entries_.size() - 1);
    }
}

Value Value::function(std::shared_ptr<const Function> f) {
    Value v;
    v.kind_ = Kind::function;
    v.function_ = std::move(f);
    return v;
}

void Value::push_back(Value v) {
    if (kind_ == Kind::array) array_->push_back(std::move(v));
}

void Value::set(std::string key, Value v) {
    if (kind_ == Kind::object) object_->set(std::move(key), std::move(v));
}

bool Value::truthy() const {
    switch (kind_) {
        case Kind::undefined:
        case Kind::none:
            return false;
        case Kind::boolean:
        case Kind::integer:
            return int_ != 0;
        case Kind::floating:
            return float_ != 0.0;
        case Kind::string:
            return !str_->empty();
        case Kind::array:
            return !array_->empty();
        case Kind::object:
            return is_namespace_ || object_->size() > 0;
        case Kind::function:
            return true;
    }
    return false;
}

const Value* Value::find(std::string_view key) const { return kind_ == Kind::object ? object_->find(key) : nullptr; }

bool Value::equals(const Value& other) const {
    if (is_number() && other.is_number()) {
        if (kind_ == Kind::floating || other.kind_ == Kind::floating) return as_double() == other.as_double();
        return int_ == other.int_;
    }
    if (kind_ != other.kind_) return false;
    switch (kind_) {
        case Kind::undefined:
        case Kind::none:
            return true;
        case Kind::string:
            return *str_ == *other.str_;
        case Kind::array: {
            if (array_ == other.array_) return true;
            if (array_->size() != other.array_->size()) return false;
            for (size_t i = 0; i < array_->size(); ++i)
                if (!(*array_)[i].equals((*other.array_)[i])) return false;
            return true;
        }
        case Kind::object: {
            if (object_ == other.object_) return true;
            if (is_namespace_ || other.is_namespace_) return false;  // namespaces compare by identity
            if (object_->size() != other.object_->size()) return false;
            for (const auto& [k, v] : object_->entries()) {
                const Value* o = other.object_->find(k);
                if (o == nullptr || !v.equals(*o)) return false;
            }
            return true;
        }
        case Kind::function:
            return function_ == other.function_;
        default:
            return false;
    }
}

std::string python_float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    if (d == 0.0) return std::signbit(d) ? "-0.0" : "0.0";
    // Shortest "%.Ne" that round-trips, then Python's layout: fixed for -4 <= exp < 16, else exponent form.
    char buf[64];
    int precision = 0;
    for (; precision < 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*e", precision, d);
        if (std::strtod(buf, nullptr) == d) break;
    }
    std::snprintf(buf, sizeof buf, "%.*e", precision, d);
    std::string s = buf;
    bool negative = s[0] == '-';
    if (negative) s.erase(0, 1);
    size_t e_pos = s.find('e');
    std::string digits;
    for (size_t i = 0; i < e_pos; ++i)
        if (s[i] != '.') digits += s[i];
    int exponent = std::atoi(s.c_str() + e_pos + 1);
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    std::string out = negative ? "-" : "";
    if (exponent >= -5 + 1 && exponent < 16) {
        if (exponent < 0) {
            out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
        } else if (static_cast<size_t>(exponent) + 1 >= digits.size()) {
            out += digits + std::string(static_cast<size_t>(exponent) + 1 - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, static_cast<size_t>(exponent) + 1) + "." +
                   digits.substr(static_cast<size_t>(exponent) + 1);
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exp_buf;
}

namespace {

std::string repr_string(const std::string& s) {
    // Python picks single quotes unless the string contains ' and no ".
    char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
    std::string out(1, quote);
    for (unsigned char c : s) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c == static_cast<unsigned char>(quote)) {
                    out += '\\';
                    out += static_cast<char>(c);
                } else if (c < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += quote;
    return out;
}

}  // namespace

std::string Value::to_string() const {
    switch (kind_) {
        case Kind::undefined:
            return "";
        case Kind::none:
            return "None";
        case Kind::boolean:
            return int_ ? "True" : "False";
        case Kind::integer:
            return std::to_string(int_);
        case Kind::floating:
            return python_float_repr(float_);
        case Kind::string:
            return *str_;
        case Kind::function:
            return "<function>";
        case Kind::array:
        case Kind::object:
            return repr();
    }
    return "";
}

std::string Value::repr() const {
    switch (kind_) {
        case Kind::string:
            return repr_string(*str_);
        case Kind::undefined:
            return "Undefined";
        case Kind::array: {
            std::string out = is_tuple_ ? "(" : "[";
            for (size_t i = 0; i < array_->size(); ++i) {
                if (i > 0) out += ", ";
                out += (*array_)[i].repr();
            }
            if (is_tuple_) return out + (array_->size() == 1 ? ",)" : ")");
            return out + "]";
        }
        case Kind::object: {
            if (is_namespace_) return "<Namespace>";
            std::string out = "{";
            bool first = true;
            for (const auto& [k, v] : object_->entries()) {
                if (!first) out += ", ";
                first = false;
                out += repr_string(k) + ": " + v.repr();
            }
            return out + "}";
        }
        default:
            return to_string();
    }
}

std::string_view Value::type_name() const {
    switch (kind_) {
        case Kind::undefined:
            return "Undefined";
        case Kind::none:
            return "NoneType";
        case Kind::boolean:
            return "bool";
        case Kind::integer:
            return "int";
        case Kind::floating:
            return "float";
        case Kind::string:
            return "str";
        case Kind::array:
            return is_tuple_ ? "tuple" : "list";
        case Kind::object:
            return is_namespace_ ? "Namespace" : "dict";
        case Kind::function:
            return "function";
    }
    return "?";
}

// ---- JSON (Python json.dumps) ----

namespace {

void json_string(std::string_view s, bool ensure_ascii, std::string& out) {
    out += '"';
    auto hex4 = [&](uint32_t u) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        out += buf;
    };
    if (!ensure_ascii) {
        for (unsigned char c : s) {
            switch (c) {
                case '"':
                    out += "\\\"";
                    break;
                case '\\':
                    out += "\\\\";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                case '\b':
                    out += "\\b";
                    break;
                case '\f':
                    out += "\\f";
                    break;
                default:
                    if (c < 0x20) hex4(c);
                    else out += static_cast<char>(c);
            }
        }
    } else {
        for (uint32_t cp : utf8_decode(s)) {
            if (cp < 0x80) {
                std::string one(1, static_cast<char>(cp));
                std::string tmp;
                json_string(one, false, tmp);
                out.append(tmp, 1, tmp.size() - 2);
            } else if (cp < 0x10000) {
                hex4(cp);
            } else {
                uint32_t v = cp - 0x10000;
                hex4(0xD800 + (v >> 10));
                hex4(0xDC00 + (v & 0x3FF));
            }
        }
    }
    out += '"';
}

bool json_value(const Value& v, const JsonOptions& opt, int depth, std::string& out, std::string& error) {
    const int indent = opt.indent;
    const bool ensure_ascii = opt.ensure_ascii;
    if (depth > 64) {
        error = "tojson: nesting too deep";
        return false;
    }
    auto newline = [&](int level) {
        out += '\n';
        out.append(static_cast<size_t>(indent) * static_cast<size_t>(level), ' ');
    };
    std::string_view item_sep = opt.custom_separators ? std::string_view(opt.item_separator)
                                : indent >= 0         ? std::string_view(",")
                                                      : std::string_view(", ");
    std::string_view key_sep = opt.custom_separators ? std::string_view(opt.key_separator) : std::string_view(": ");
    switch (v.kind()) {
        case Kind::none:
            out += "null";
            return true;
        case Kind::boolean:
            out += v.as_bool() ? "true" : "false";
            return true;
        case Kind::integer:
            out += std::to_string(v.as_int());
            return true;
        case Kind::floating: {
            double d = v.as_double();
            if (std::isnan(d)) out += "NaN";
            else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
            else out += python_float_repr(d);
            return true;
        }
        case Kind::string:
            json_string(v.as_string(), ensure_ascii, out);
            return true;
        case Kind::array: {
            const Array& a = v.as_array();
            if (a.empty()) {
                out += "[]";
                return true;
            }
            out += '[';
            for (size_t i = 0; i < a.size(); ++i) {
                if (i > 0) out += item_sep;
                if (indent >= 0) newline(depth + 1);
                if (!json_value(a[i], opt, depth + 1, out, error)) return false;
            }
            if (indent >= 0) newline(depth);
            out += ']';
            return true;
        }
        case Kind::object: {
            if (v.is_namespace()) break;
            const auto& entries = v.as_object().entries();
            if (entries.empty()) {
                out += "{}";
                return true;
            }
            std::vector<const std::pair<std::string, Value>*> order;
            for (const auto& e : entries) order.push_back(&e);
            if (opt.sort_keys)
                std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->first < b->first; });
            out += '{';
            for (size_t i = 0; i < order.size(); ++i) {
                if (i > 0) out += item_sep;
                if (indent >= 0) newline(depth + 1);
                json_string(order[i]->first, ensure_ascii, out);
                out += key_sep;
                if (!json_value(order[i]->second, opt, depth + 1, out, error)) return false;
            }
            if (indent >= 0) newline(depth);
            out += '}';
            return true;
        }
        default:
            break;
    }
    error = "tojson: object of type '" + std::string(v.type_name()) + "' is not JSON serializable";
    return false;
}

}  // namespace

bool to_json(const Value& value, const JsonOptions& options, std::string& out, std::string& error) {
    return json_value(value, options, 0, out, error);
}

// ---- UTF-8 ----
// Invalid bytes decode to 0xDC80 + byte (Python's surrogateescape), which utf8_append writes back as the byte.

std::vector<uint32_t> utf8_decode(std::string_view s) {
    std::vector<uint32_t> cps;
    cps.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        auto b0 = static_cast<unsigned char>(s[i]);
        int n = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
        bool ok = n > 0 && i + static_cast<size_t>(n) <= s.size();
        uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1Fu) : n == 3 ? (b0 & 0x0Fu) : (b0 & 0x07u);
        for (int k = 1; ok && k < n; ++k) {
            auto b = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
            if ((b & 0xC0) != 0x80) ok = false;
            cp = (cp << 6) | (b & 0x3Fu);
        }
        if (ok && n > 1) {
            static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
            if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) ok = false;
        }
        if (!ok) {
            cps.push_back(0xDC00 + b0);
            ++i;
            continue;
        }
        cps.push_back(cp);
        i += static_cast<size_t>(n);
    }
    return cps;
}

void utf8_append(std::string& out, uint32_t cp) {
    if (cp >= 0xDC80 && cp <= 0xDCFF) {
        out += static_cast<char>(cp - 0xDC00);
    } else if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::string utf8_encode(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < end && i < cps.size(); ++i) utf8_append(out, cps[i]);
    return out;
}

size_t utf8_length(std::string_view s) {
    bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    return ascii ? s.size() : utf8_decode(s).size();
}

bool is_python_space(uint32_t cp) {
    switch (cp) {
        case 0x09:
        case 0x0A:
        case 0x0B:
        case 0x0C:
        case 0x0D:
        case 0x1C:
        case 0x1D:
        case 0x1E:
        case 0x1F:
        case 0x20:
        case 0x85:
        case 0xA0:
        case 0x1680:
        case 0x2028:
        case 0x2029:
        case 0x202F:
        case 0x205F:
        case 0x3000:
            return true;
        default:
            return cp >= 0x2000 && cp <= 0x200A;
    }
}

}  // namespace duet::tok::jinja
