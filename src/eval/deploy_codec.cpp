// deploy_codec.cpp: the two calls of duet's page API that `duet eval deploy` makes to time a new session (create a
// conversation, delete it). JSON stays here.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "eval/deploy.h"

namespace duet::eval {

namespace {

httplib::Headers auth_headers(const std::string& api_key) {
    httplib::Headers headers;
    if (!api_key.empty()) headers.emplace("Authorization", "Bearer " + api_key);
    return headers;
}

}  // namespace

Result<std::string> create_conversation(const std::string& origin, const std::string& api_key) {
    httplib::Client http(origin);
    http.set_connection_timeout(std::chrono::seconds(5));
    http.set_read_timeout(std::chrono::seconds(30));
    http.set_tcp_nodelay(true);  // head and body are two writes: no Nagle wait in the new-session time
    const auto r =
        http.Post("/api/conversations", auth_headers(api_key), R"({"title":"duet eval deploy"})", "application/json");
    if (!r)
        return Status::unavailable("POST %s/api/conversations: %s", origin.c_str(),
                                   httplib::to_string(r.error()).c_str());
    if (r->status == 404) return Status::not_found("%s has no /api/conversations", origin.c_str());
    if (r->status != 200 && r->status != 201)
        return Status::unavailable("POST %s/api/conversations: HTTP %d", origin.c_str(), r->status);
    const nlohmann::json body = nlohmann::json::parse(r->body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("id") || !body["id"].is_string())
        return Status::invalid_data("POST %s/api/conversations: no conversation id in the reply", origin.c_str());
    return body["id"].get<std::string>();
}

void delete_conversation(const std::string& origin, const std::string& api_key, const std::string& id) {
    httplib::Client http(origin);
    http.set_connection_timeout(std::chrono::seconds(5));
    http.set_read_timeout(std::chrono::seconds(30));
    (void)http.Delete("/api/conversations/" + id, auth_headers(api_key));
}

}  // namespace duet::eval
