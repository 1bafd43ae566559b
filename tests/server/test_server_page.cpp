// test_server_page.cpp: the chat page's assets at / : public even with an API key, gzip when accepted (sent once,
// not compressed again by the HTTP library), ETag revalidation (304), and the CSP / hardening headers.
#include <zlib.h>

#include "server_harness.h"
#include "web/assets.h"

namespace duet::test {
namespace {

std::string gunzip(const std::string& in) {
    z_stream z{};
    EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
    std::string out(in.size() * 8 + 1024, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z, Z_FINISH);
    EXPECT_EQ(rc, Z_STREAM_END);
    out.resize(z.total_out);
    inflateEnd(&z);
    return out;
}

TEST(ServerPage, IndexIsPublicWithSecurityHeaders) {
    ServerHarness h("secret-key");
    auto c = h.client();  // no key
    auto r = c->Get("/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
    const std::string csp = r->get_header_value("Content-Security-Policy");
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(r->body, std::string(web::find_asset("/index.html")->body));
    // The API stays closed.
    EXPECT_EQ(c->Get("/v1/models")->status, 401);
}

TEST(ServerPage, EveryAssetIsServedGzippedOnceWithItsEtag) {
    ServerHarness h;
    auto c = h.client();
    c->set_decompress(false);
    for (const web::Asset& asset : web::all_assets()) {
        SCOPED_TRACE(std::string(asset.path));
        auto r = c->Get(std::string(asset.path), {{"Accept-Encoding", "gzip, deflate, br"}});
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200);
        // The gzip variant has its own strong tag ("...-gz"), derived from the asset's.
        const std::string_view tag = asset.etag.substr(0, asset.etag.size() - 1);
        EXPECT_EQ(r->get_header_value("ETag").rfind(tag, 0), 0u) << r->get_header_value("ETag");
        EXPECT_EQ(r->get_header_value("Content-Type"), asset.content_type);
        if (asset.gzip_body.empty()) continue;
        EXPECT_EQ(r->get_header_value_count("Content-Encoding"), 1u);
        EXPECT_EQ(r->get_header_value("Content-Encoding"), "gzip");
        EXPECT_EQ(gunzip(r->body), std::string(asset.body));
        auto plain = c->Get(std::string(asset.path), {{"Accept-Encoding", "identity"}});
        EXPECT_EQ(plain->body, std::string(asset.body));
        auto again = c->Get(std::string(asset.path), {{"If-None-Match", std::string(asset.etag)}});
        EXPECT_EQ(again->status, 304);
        EXPECT_TRUE(again->body.empty());
    }
}

TEST(ServerPage, UnknownPathsAndOtherMethodsAreNotAssets) {
    ServerHarness h;
    auto c = h.client();
    EXPECT_EQ(c->Get("/nope.js")->status, 404);
    EXPECT_EQ(c->Post("/index.html", "", "text/plain")->status, 405);  // a known path: 405 + Allow
    EXPECT_EQ(web::find_asset("/"), web::find_asset("/index.html"));
}

TEST(ServerPage, TheKeyIsTradedOnceForAnHttpOnlySessionCookie) {
    ServerHarness h("secret-key");
    auto c = h.client();
    auto state = c->Get("/api/session");
    ASSERT_TRUE(state);
    EXPECT_EQ(state->status, 200);
    EXPECT_EQ(json::parse(state->body), json::parse(R"({"auth_required":true,"authenticated":false})"));
    auto wrong = c->Post("/api/session", R"({"api_key":"nope"})", "application/json");
    EXPECT_EQ(wrong->status, 401);
    EXPECT_TRUE(wrong->get_header_value("Set-Cookie").empty());
    EXPECT_EQ(c->Post("/api/session", R"({"key":"secret-key"})", "application/json")->status, 400);
    auto right = c->Post("/api/session", R"({"api_key":"secret-key"})", "application/json");
    ASSERT_EQ(right->status, 204);
    const std::string set_cookie = right->get_header_value("Set-Cookie");
    EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
    const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));

    EXPECT_EQ(c->Get("/v1/models")->status, 401);
    EXPECT_EQ(c->Get("/v1/models", {{"Cookie", cookie}})->status, 200);
    EXPECT_EQ(c->Get("/v1/models", {{"Cookie", cookie + "x"}})->status, 401);
    auto now = c->Get("/api/session", {{"Cookie", cookie}});
    EXPECT_EQ(json::parse(now->body)["authenticated"], true);

    // A state-changing call whose Origin is another site is refused, cookie or not.
    const std::string chat = R"({"model":"alpha","messages":[{"role":"user","content":"hi"}],"max_tokens":2})";
    auto cross = c->Post("/v1/chat/completions", {{"Cookie", cookie}, {"Origin", "http://evil.example"}}, chat,
                         "application/json");
    EXPECT_EQ(cross->status, 403);
    EXPECT_TRUE(is_error_body(cross->body));
    const std::string self = "http://127.0.0.1:" + std::to_string(h.port());
    EXPECT_EQ(c->Post("/v1/chat/completions", {{"Cookie", cookie}, {"Origin", self}}, chat, "application/json")->status,
              200);

    auto out = c->Delete("/api/session", {{"Cookie", cookie}});
    EXPECT_EQ(out->status, 204);
    EXPECT_EQ(c->Get("/v1/models", {{"Cookie", cookie}})->status, 401);
}

TEST(ServerPage, WithoutAKeyTheSessionSaysSo) {
    ServerHarness h;
    auto r = h.client()->Get("/api/session");
    EXPECT_EQ(json::parse(r->body), json::parse(R"({"auth_required":false,"authenticated":true})"));
}

}  // namespace
}  // namespace duet::test
