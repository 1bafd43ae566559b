// test_route_table.cpp: the route layer without sockets: patterns and path parameters, literal-over-parameter,
// 404 / 405 + Allow, default-deny auth per access kind, query decoding; static assets (ETag/304, gzip).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/route_table.h"
#include "server/static_files.h"

namespace duet::test {
namespace {

using server::Access;
using server::Router;
using server::RouteRequest;
using server::RouteTable;
using server::http::HttpRequest;
using server::http::HttpResponse;

HttpRequest make_request(std::string method, std::string path, std::string query = "",
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.query = std::move(query);
    r.headers = std::move(headers);
    return r;
}

// A handler that answers with what it saw: "name=value;..." of path params then "?" and the query.
HttpResponse echo(const RouteRequest& r, const std::string& tag) {
    HttpResponse response;
    response.content_type = "text/plain";
    response.body = tag + ":";
    for (const auto& [k, v] : r.path_params) response.body += k + "=" + v + ";";
    response.body += "?";
    for (const auto& [k, v] : r.query) response.body += k + "=" + v + ";";
    return response;
}

std::string error_type(const HttpResponse& response) {
    auto j = nlohmann::json::parse(response.body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) return "<not an error body>";
    return j["error"]["type"].get<std::string>();
}

Router make_router(const std::string& key = "") {
    Router router{server::Auth(key)};
    RouteTable conversations;
    conversations.add("GET", "/api/conversations", Access::api_key, [](auto& r) { return echo(r, "list"); })
        .add("POST", "/api/conversations", Access::api_key, [](auto& r) { return echo(r, "create"); })
        .add("GET", "/api/conversations/{id}", Access::session, [](auto& r) { return echo(r, "get"); })
        .add("DELETE", "/api/conversations/{id}", Access::api_key, [](auto& r) { return echo(r, "delete"); })
        .add("GET", "/api/conversations/search", Access::api_key, [](auto& r) { return echo(r, "search"); })
        .add("GET", "/api/conversations/{id}/messages/{n}", Access::api_key,
             [](auto& r) { return echo(r, "message"); });
    RouteTable info;
    info.add("GET", "/health", Access::anyone, [](auto& r) { return echo(r, "health"); });
    EXPECT_TRUE(router.add(conversations).ok());
    EXPECT_TRUE(router.add(info).ok());
    return router;
}

TEST(RouteTable, PathParametersAreNamedSegments) {
    Router router = make_router();
    EXPECT_EQ(router.dispatch(make_request("GET", "/api/conversations/42")).body, "get:id=42;?");
    EXPECT_EQ(router.dispatch(make_request("GET", "/api/conversations/7/messages/3")).body, "message:id=7;n=3;?");
    EXPECT_EQ(router.dispatch(make_request("DELETE", "/api/conversations/abc")).body, "delete:id=abc;?");
    // A literal segment wins over a parameter, whatever the order they were added in.
    EXPECT_EQ(router.dispatch(make_request("GET", "/api/conversations/search")).body, "search:?");
}

TEST(RouteTable, ParametersNeverMatchEmptyOrExtraSegments) {
    Router router = make_router();
    for (const char* path : {"/api/conversations/", "/api/conversations//messages/3", "/api/conversations/1/",
                             "//api/conversations", "/api/conversations/1/messages", "/API/conversations"}) {
        const HttpResponse r = router.dispatch(make_request("GET", path));
        EXPECT_EQ(r.status, 404) << path;
        EXPECT_EQ(error_type(r), "not_found_error") << path;
    }
}

TEST(RouteTable, WrongMethodIs405WithAllow) {
    Router router = make_router();
    const HttpResponse put = router.dispatch(make_request("PUT", "/api/conversations"));
    EXPECT_EQ(put.status, 405);
    EXPECT_NE(error_type(put), "<not an error body>");
    std::string allow;
    for (const auto& [k, v] : put.headers)
        if (k == "Allow") allow = v;
    EXPECT_EQ(allow, "GET, POST");
    const HttpResponse post = router.dispatch(make_request("POST", "/api/conversations/9"));
    EXPECT_EQ(post.status, 405);
    for (const auto& [k, v] : post.headers)
        if (k == "Allow") allow = v;
    EXPECT_EQ(allow, "DELETE, GET");
}

TEST(RouteTable, UnknownPathIs404InOpenAiShape) {
    Router router = make_router();
    const HttpResponse r = router.dispatch(make_request("GET", "/nope"));
    EXPECT_EQ(r.status, 404);
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    EXPECT_TRUE(j["error"].contains("message"));
    EXPECT_TRUE(j["error"].contains("param"));
    EXPECT_TRUE(j["error"].contains("code"));
}

TEST(RouteTable, AuthIsDefaultDeny) {
    Router router = make_router("k3y");
    const std::vector<std::pair<std::string, std::string>> key = {{"Authorization", "Bearer k3y"}};
    // Public route: no key needed.
    EXPECT_EQ(router.dispatch(make_request("GET", "/health")).status, 200);
    // api_key and session routes, unknown paths and wrong methods: 401 before anything else is revealed.
    for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{{"GET", "/api/conversations"},
                                                                                {"GET", "/api/conversations/1"},
                                                                                {"GET", "/nope"},
                                                                                {"PUT", "/api/conversations"},
                                                                                {"POST", "/health"}}) {
        const HttpResponse r = router.dispatch(make_request(method, path));
        EXPECT_EQ(r.status, 401) << method << " " << path;
        EXPECT_EQ(error_type(r), "authentication_error") << method << " " << path;
    }
    EXPECT_EQ(router.dispatch(make_request("GET", "/api/conversations", "", key)).status, 200);
    EXPECT_EQ(router.dispatch(make_request("GET", "/nope", "", key)).status, 404);
    EXPECT_EQ(router.dispatch(make_request("PUT", "/api/conversations", "", key)).status, 405);
    // Session routes: a session check opens them; it does not open api_key routes.
    router.auth().set_session_check([](const HttpRequest& r) { return r.header("Cookie") == "duet_session=ok"; });
    const std::vector<std::pair<std::string, std::string>> cookie = {{"Cookie", "duet_session=ok"}};
    EXPECT_EQ(router.dispatch(make_request("GET", "/api/conversations/1", "", cookie)).status, 200);
    EXPECT_EQ(router.dispatch(make_request("GET", "/api/conversations", "", cookie)).status, 401);
    EXPECT_EQ(router.dispatch(make_request("GET", "/api/conversations/1", "", key)).status, 200);
}

TEST(RouteTable, QueryIsPercentDecoded) {
    Router router = make_router();
    EXPECT_EQ(router.dispatch(make_request("GET", "/api/conversations", "q=caf%C3%A9+au+lait&limit=20&flag")).body,
              "list:?q=caf\xC3\xA9 au lait;limit=20;flag=;");
    EXPECT_EQ(router.dispatch(make_request("GET", "/api/conversations", "a=1&&a=2&%3D=%26")).body,
              "list:?a=1;a=2;==&;");
    const HttpResponse bad = router.dispatch(make_request("GET", "/api/conversations", "q=%zz"));
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("percent"), std::string::npos) << bad.body;
    EXPECT_EQ(router.dispatch(make_request("GET", "/api/conversations", "q=50%")).status, 400);
}

TEST(RouteTable, QueryIntegersAreCheckedAndNamed) {
    HttpRequest http = make_request("GET", "/x");
    RouteRequest r{http, {}, {{"limit", "20"}, {"offset", "-3"}, {"page", "x1"}}};
    EXPECT_EQ(*r.query_int("limit", 50, 1, 100), 20);
    EXPECT_EQ(*r.query_int("absent", 50, 1, 100), 50);
    auto negative = r.query_int("offset", 0, 0, 100);
    ASSERT_FALSE(negative.ok());
    EXPECT_NE(negative.status().message().find("offset"), std::string::npos);
    EXPECT_FALSE(r.query_int("page", 1, 1, 100).ok());
    EXPECT_EQ(r.query_value("page").value_or(""), "x1");
    EXPECT_FALSE(r.query_value("nope").has_value());
}

TEST(RouteTable, BadTablesAreRejected) {
    Router router{server::Auth()};
    auto handler = [](const RouteRequest& r) { return echo(r, "x"); };
    RouteTable no_slash, bad_param, twice;
    no_slash.add("GET", "health", Access::anyone, handler);
    bad_param.add("GET", "/a/{id", Access::anyone, handler);
    twice.add("GET", "/a", Access::anyone, handler).add("GET", "/a", Access::api_key, handler);
    EXPECT_FALSE(router.add(no_slash).ok());
    EXPECT_FALSE(router.add(bad_param).ok());
    const Status st = router.add(twice);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("twice"), std::string::npos);
}

// ---- static files ----------------------------------------------------------------------------------------------

const server::StaticAsset kPage{"/",  "text/html; charset=utf-8", "<html>hello</html>", "GZIPPED-BYTES", "\"abc123\"",
                                false};
const server::StaticAsset kScript{"/assets/app-abc123.js", "text/javascript", "console.log(1)", "", "\"js1\"", true};

std::string header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}

TEST(StaticFiles, IdentityWithoutAcceptEncoding) {
    const HttpResponse r = server::serve_asset(kPage, make_request("GET", "/"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "<html>hello</html>");
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(header(r, "ETag"), "\"abc123\"");
    EXPECT_EQ(header(r, "Vary"), "Accept-Encoding");
    EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
    EXPECT_EQ(header(r, "Content-Encoding"), "");
}

TEST(StaticFiles, GzipWhenAccepted) {
    const HttpResponse r =
        server::serve_asset(kPage, make_request("GET", "/", "", {{"Accept-Encoding", "br, gzip;q=0.8"}}));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "GZIPPED-BYTES");
    EXPECT_EQ(header(r, "Content-Encoding"), "gzip");
    EXPECT_EQ(header(r, "Vary"), "Accept-Encoding");
    EXPECT_NE(header(r, "ETag"), "\"abc123\"");  // another representation, another tag
}

TEST(StaticFiles, AcceptEncodingNegotiation) {
    EXPECT_TRUE(server::accepts_gzip("gzip"));
    EXPECT_TRUE(server::accepts_gzip("deflate, GZIP"));
    EXPECT_TRUE(server::accepts_gzip("*"));
    EXPECT_TRUE(server::accepts_gzip("x-gzip;q=0.5"));
    EXPECT_FALSE(server::accepts_gzip(""));
    EXPECT_FALSE(server::accepts_gzip("br, deflate"));
    EXPECT_FALSE(server::accepts_gzip("gzip;q=0"));
    EXPECT_FALSE(server::accepts_gzip("gzip;q=0.000, *"));  // refused by name: * does not bring it back
    EXPECT_FALSE(server::accepts_gzip("identity, *;q=0"));
    const HttpResponse refused =
        server::serve_asset(kPage, make_request("GET", "/", "", {{"Accept-Encoding", "gzip;q=0"}}));
    EXPECT_EQ(refused.body, "<html>hello</html>");
}

TEST(StaticFiles, IfNoneMatchGives304) {
    for (const char* inm : {"\"abc123\"", "W/\"abc123\"", "\"other\", \"abc123\"", "*", "\"abc123-gz\""}) {
        const HttpResponse r = server::serve_asset(kPage, make_request("GET", "/", "", {{"If-None-Match", inm}}));
        EXPECT_EQ(r.status, 304) << inm;
        EXPECT_TRUE(r.body.empty()) << inm;
        EXPECT_FALSE(header(r, "ETag").empty()) << inm;
        EXPECT_EQ(header(r, "Cache-Control"), "no-cache") << inm;
    }
    const HttpResponse stale =
        server::serve_asset(kPage, make_request("GET", "/", "", {{"If-None-Match", "\"abc12\""}}));
    EXPECT_EQ(stale.status, 200);
    EXPECT_EQ(stale.body, "<html>hello</html>");
}

TEST(StaticFiles, HashedAssetsAreImmutableAndHaveNoVaryWithoutGzip) {
    const HttpResponse r =
        server::serve_asset(kScript, make_request("GET", kScript.path.data(), "", {{"Accept-Encoding", "gzip"}}));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "console.log(1)");
    EXPECT_EQ(header(r, "Content-Encoding"), "");
    EXPECT_EQ(header(r, "Vary"), "");
    EXPECT_NE(header(r, "Cache-Control").find("immutable"), std::string::npos);
}

TEST(StaticFiles, RoutesServeEveryAsset) {
    RouteTable table;
    const server::StaticAsset assets[] = {kPage, kScript};
    server::add_static_routes(table, assets, Access::anyone);
    Router router{server::Auth("key")};
    ASSERT_TRUE(router.add(table).ok());
    EXPECT_EQ(router.dispatch(make_request("GET", "/")).body, "<html>hello</html>");
    EXPECT_EQ(router.dispatch(make_request("GET", "/assets/app-abc123.js")).body, "console.log(1)");
    EXPECT_EQ(router.dispatch(make_request("POST", "/")).status, 401);  // not a route: default deny
}

}  // namespace
}  // namespace duet::test
