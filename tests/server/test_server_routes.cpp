// test_server_routes.cpp: the route layer through the real transport: raw query strings reach the route layer,
// precomputed gzip assets go out byte for byte (never compressed twice), 304s, 405 + Allow on the wire.
#include "server/static_files.h"
#include "server_harness.h"

namespace duet::test {
namespace {

const server::StaticAsset kPage{"/ui", "text/html; charset=utf-8", "<html>hello</html>", "PRE-GZIPPED", "\"page1\"",
                                false};

void add_test_routes(ServerHarness& h) {
    server::RouteTable table;
    table.add("GET", "/echo/{id}", server::Access::api_key, [](const server::RouteRequest& r) {
        server::http::HttpResponse response;
        response.content_type = "text/plain";
        response.body = std::string(r.param("id")) + "|" + r.query_value("q").value_or("<none>") + "|" + r.http.query;
        return response;
    });
    const server::StaticAsset assets[] = {kPage};
    server::add_static_routes(table, assets, server::Access::anyone);
    ASSERT_TRUE(h.server->add_routes(table).ok());
}

TEST(ServerRoutes, QueryReachesTheRouteLayerRawAndDecoded) {
    ServerHarness h;
    add_test_routes(h);
    // Raw bytes: an HTTP client library would re-encode the '+'.
    const std::string raw = raw_exchange(h.port(),
                                         "GET /echo/42?q=caf%C3%A9+au%20lait&x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                         "Connection: close\r\n\r\n");
    EXPECT_EQ(status_of_raw(raw), 200) << raw;
    EXPECT_EQ(body_of_raw(raw), "42|caf\xC3\xA9 au lait|q=caf%C3%A9+au%20lait&x=1");
    auto c = h.client();
    auto none = c->Get("/echo/7");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->body, "7|<none>|");
}

TEST(ServerRoutes, PrecomputedGzipIsSentAsIs) {
    ServerHarness h;
    add_test_routes(h);
    auto c = h.client();
    c->set_decompress(false);
    auto gz = c->Get("/ui", {{"Accept-Encoding", "gzip"}});
    ASSERT_TRUE(gz);
    EXPECT_EQ(gz->status, 200);
    EXPECT_EQ(gz->body, "PRE-GZIPPED");
    EXPECT_EQ(gz->get_header_value("Content-Encoding"), "gzip");
    EXPECT_EQ(gz->get_header_value("Vary"), "Accept-Encoding");
    auto plain = c->Get("/ui", {{"Accept-Encoding", "identity"}});
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->body, "<html>hello</html>");
    auto cached = c->Get("/ui", {{"If-None-Match", "\"page1\""}});
    ASSERT_TRUE(cached);
    EXPECT_EQ(cached->status, 304);
    EXPECT_TRUE(cached->body.empty());
}

TEST(ServerRoutes, WrongMethodIs405WithAllowOnTheWire) {
    ServerHarness h;
    auto c = h.client();
    auto r = c->Get("/v1/chat/completions");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->get_header_value("Allow"), "POST");
    EXPECT_TRUE(is_error_body(r->body));
}

}  // namespace
}  // namespace duet::test
