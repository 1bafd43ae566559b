// test_template_json.h: JSON (ordered, so dict key order survives) -> jinja::Value for the chat-template tests.
#pragma once

#include <nlohmann/json.hpp>

#include "tokenizer/template/jinja_value.h"

namespace duet::test {

inline tok::jinja::Value json_to_value(const nlohmann::ordered_json& j) {
    using tok::jinja::Value;
    switch (j.type()) {
        case nlohmann::ordered_json::value_t::null:
            return Value::none();
        case nlohmann::ordered_json::value_t::boolean:
            return Value(j.get<bool>());
        case nlohmann::ordered_json::value_t::number_integer:
            return Value(j.get<int64_t>());
        case nlohmann::ordered_json::value_t::number_unsigned:
            return Value(static_cast<int64_t>(j.get<uint64_t>()));
        case nlohmann::ordered_json::value_t::number_float:
            return Value(j.get<double>());
        case nlohmann::ordered_json::value_t::string:
            return Value(j.get<std::string>());
        case nlohmann::ordered_json::value_t::array: {
            Value out = Value::array();
            for (const auto& item : j) out.push_back(json_to_value(item));
            return out;
        }
        case nlohmann::ordered_json::value_t::object: {
            Value out = Value::object();
            for (const auto& [k, v] : j.items()) out.set(k, json_to_value(v));
            return out;
        }
        default:
            return Value::none();
    }
}

}  // namespace duet::test
