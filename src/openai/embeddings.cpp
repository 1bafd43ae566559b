// embeddings.cpp: parse and render /v1/embeddings (see embeddings.h).
#include "openai/embeddings.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "openai/parse.h"
#include "openai/types.h"

namespace duet::openai {

namespace {

using nlohmann::json;

struct Invalid {
    ApiError error;
};

[[noreturn]] void fail(const std::string& param, const std::string& message) {
    throw Invalid{ApiError::invalid(message, param)};
}

// A token id: a non-negative integer that fits int32.
int32_t token_id(const json& v, const std::string& where) {
    if (!v.is_number_integer()) fail("input", where + " must be an integer token id");
    if (v.is_number_unsigned() ? v.get<uint64_t>() > 0x7fffffffu
                               : (v.get<int64_t>() < 0 || v.get<int64_t>() > 0x7fffffff))
        fail("input", where + " is not a valid token id");
    return static_cast<int32_t>(v.get<int64_t>());
}

std::vector<int32_t> id_array(const json& arr, const std::string& where) {
    std::vector<int32_t> ids;
    ids.reserve(arr.size());
    for (size_t j = 0; j < arr.size(); ++j) ids.push_back(token_id(arr[j], where + "[" + std::to_string(j) + "]"));
    return ids;
}

void parse_input(const json& input, EmbeddingsRequest* req) {
    if (input.is_string()) {
        if (input.get_ref<const std::string&>().empty()) fail("input", "'input' is an empty string");
        req->texts.push_back(input.get<std::string>());
        return;
    }
    if (!input.is_array()) fail("input", "'input' must be a string, an array of strings or an array of token ids");
    if (input.empty()) fail("input", "'input' is an empty array");
    if (input[0].is_number()) {  // one input given as token ids
        req->is_tokens = true;
        req->token_ids.push_back(id_array(input, "input"));
        return;
    }
    req->is_tokens = input[0].is_array();
    for (size_t i = 0; i < input.size(); ++i) {
        const json& item = input[i];
        const std::string where = "input[" + std::to_string(i) + "]";
        if (req->is_tokens) {
            if (!item.is_array()) fail("input", where + " must be an array of token ids like input[0]");
            if (item.empty()) fail("input", where + " is an empty array of token ids");
            req->token_ids.push_back(id_array(item, where));
        } else {
            if (!item.is_string()) fail("input", where + " must be a string like input[0]");
            if (item.get_ref<const std::string&>().empty()) fail("input", where + " is an empty string");
            req->texts.push_back(item.get<std::string>());
        }
    }
}

const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

bool parse_embeddings_request(std::string_view body, EmbeddingsRequest* out, ApiError* error) {
    try {
        if (body.empty()) fail("", "request body is empty; expected a JSON object");
        if (json_nesting_depth(body) > kMaxJsonDepth) fail("", "JSON nested too deeply");
        const json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
        if (doc.is_discarded()) fail("", "request body is not valid JSON (or not valid UTF-8)");
        if (!doc.is_object()) fail("", "request body must be a JSON object");
        EmbeddingsRequest req;
        auto model = doc.find("model");
        if (model == doc.end() || model->is_null()) fail("model", "'model' is required");
        if (!model->is_string()) fail("model", "'model' must be a string");
        req.model = model->get<std::string>();
        auto input = doc.find("input");
        if (input == doc.end() || input->is_null()) fail("input", "'input' is required");
        parse_input(*input, &req);
        if (auto f = doc.find("encoding_format"); f != doc.end() && !f->is_null()) {
            if (!f->is_string() || (*f != "float" && *f != "base64"))
                fail("encoding_format", "'encoding_format' must be \"float\" or \"base64\"");
            req.base64 = *f == "base64";
        }
        if (auto d = doc.find("dimensions"); d != doc.end() && !d->is_null()) {
            if (!d->is_number_integer()) fail("dimensions", "'dimensions' must be an integer");
            req.dimensions = d->get<int64_t>();
        }
        *out = std::move(req);
        return true;
    } catch (const Invalid& e) {
        *error = e.error;
        return false;
    }
}

std::string floats_to_base64(const std::vector<float>& values) {
    std::vector<unsigned char> bytes(values.size() * 4);
    for (size_t i = 0; i < values.size(); ++i) {
        uint32_t u;
        std::memcpy(&u, &values[i], 4);
        for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<unsigned char>(u >> (8 * b));  // little-endian
    }
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (size_t i = 0; i < bytes.size(); i += 3) {
        const uint32_t n = (uint32_t{bytes[i]} << 16) | (i + 1 < bytes.size() ? uint32_t{bytes[i + 1]} << 8 : 0) |
                           (i + 2 < bytes.size() ? uint32_t{bytes[i + 2]} : 0);
        out += kBase64[(n >> 18) & 63];
        out += kBase64[(n >> 12) & 63];
        out += i + 1 < bytes.size() ? kBase64[(n >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? kBase64[n & 63] : '=';
    }
    return out;
}

std::string embeddings_json(const std::string& model, const std::vector<std::vector<float>>& vectors, bool base64,
                            int64_t prompt_tokens) {
    json data = json::array();
    for (size_t i = 0; i < vectors.size(); ++i) {
        json item = {{"object", "embedding"}, {"index", i}};
        if (base64) item["embedding"] = floats_to_base64(vectors[i]);
        else item["embedding"] = vectors[i];
        data.push_back(std::move(item));
    }
    json doc = {{"object", "list"},
                {"data", std::move(data)},
                {"model", model},
                {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}};
    return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace duet::openai
