// static_files.cpp: serve_asset: ETag / If-None-Match (304), gzip negotiation over precomputed bytes, caching.
#include "server/static_files.h"

#include <string>

#include "common/ascii.h"

namespace duet::server {

namespace {

constexpr const char* kImmutableCache = "public, max-age=31536000, immutable";
constexpr const char* kRevalidateCache = "no-cache";

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Calls f(item) for each comma-separated item, trimmed.
template <typename F>
void for_each_item(std::string_view list, F f) {
    while (!list.empty()) {
        const size_t comma = list.find(',');
        const std::string_view item = trim(list.substr(0, comma));
        if (!item.empty()) f(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

std::string_view strip_weak(std::string_view tag) {
    if (tag.size() >= 2 && (tag[0] == 'W' || tag[0] == 'w') && tag[1] == '/') tag.remove_prefix(2);
    return tag;
}

// The gzip variant's tag: "abc" -> "abc-gz" (a different representation gets a different strong ETag).
std::string gzip_etag(std::string_view etag) {
    if (etag.size() >= 2 && etag.back() == '"') return std::string(etag.substr(0, etag.size() - 1)) + "-gz\"";
    return std::string(etag) + "-gz";
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
    bool gzip = false, star = false, gzip_listed = false;
    for_each_item(accept_encoding, [&](std::string_view item) {
        const size_t semi = item.find(';');
        const std::string_view coding = trim(item.substr(0, semi));
        bool allowed = true;
        if (semi != std::string_view::npos) {
            std::string_view params = trim(item.substr(semi + 1));
            if (params.size() >= 2 && (params[0] == 'q' || params[0] == 'Q') && params[1] == '=') {
                const std::string_view q = trim(params.substr(2));
                // q=0, q=0.0, q=0.000: refused; anything else is some preference > 0.
                allowed = q.find_first_not_of("0.") != std::string_view::npos;
            }
        }
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
            gzip_listed = true;
            gzip = gzip || allowed;
        } else if (coding == "*") {
            star = allowed;
        }
    });
    return gzip || (!gzip_listed && star);
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
    bool match = false;
    const std::string_view want = strip_weak(etag);
    for_each_item(if_none_match, [&](std::string_view item) {
        if (item == "*" || strip_weak(item) == want) match = true;
    });
    return match;
}

http::HttpResponse serve_asset(const StaticAsset& asset, const http::HttpRequest& request) {
    const bool has_gzip = !asset.gzip_bytes.empty();
    const bool use_gzip = has_gzip && accepts_gzip(request.header("Accept-Encoding"));
    const std::string etag = use_gzip ? gzip_etag(asset.etag) : std::string(asset.etag);

    http::HttpResponse response;
    response.content_type = std::string(asset.content_type);
    response.headers.emplace_back("Cache-Control", asset.immutable ? kImmutableCache : kRevalidateCache);
    if (has_gzip) response.headers.emplace_back("Vary", "Accept-Encoding");
    if (!etag.empty()) response.headers.emplace_back("ETag", etag);

    const std::string if_none_match = request.header("If-None-Match");
    if (!etag.empty() && !if_none_match.empty() &&
        (etag_matches(if_none_match, asset.etag) || etag_matches(if_none_match, gzip_etag(asset.etag)))) {
        response.status = 304;
        return response;
    }
    if (use_gzip) {
        response.headers.emplace_back("Content-Encoding", "gzip");
        response.body = std::string(asset.gzip_bytes);
    } else {
        response.body = std::string(asset.bytes);
    }
    return response;
}

void add_static_routes(RouteTable& table, std::span<const StaticAsset> assets, Access access) {
    for (const StaticAsset& asset : assets)
        table.add("GET", std::string(asset.path), access,
                  [asset](const RouteRequest& request) { return serve_asset(asset, request.http); });
}

}  // namespace duet::server
