// static_files.h: serving embedded files (the chat page's HTML/JS/CSS) from a table built at compile time.
//
//   GET path --> If-None-Match has the ETag?            --> 304 (ETag, Cache-Control, Vary; no body)
//            --> Accept-Encoding takes gzip and the asset has precomputed gzip bytes
//                                                        --> 200 gzip bytes, Content-Encoding: gzip, ETag "...-gz"
//            --> otherwise                               --> 200 identity bytes
//   Cache-Control: hashed names (immutable) a year; everything else `no-cache` (revalidate with the ETag).
//   Every answer says Vary: Accept-Encoding when a gzip variant exists.
// Nothing is compressed at run time: the build precomputes gzip bytes and ETags.
#pragma once

#include <span>
#include <string_view>

#include "server/route_table.h"

namespace duet::server {

// One embedded file. The views point at static data (they must outlive the server).
struct StaticAsset {
    std::string_view path;          // "/", "/assets/app-3f2a1c9e.js"
    std::string_view content_type;  // "text/html; charset=utf-8"
    std::string_view bytes;         // the file
    std::string_view gzip_bytes;    // the file gzipped at build time; empty: no gzip variant
    std::string_view etag;          // a quoted strong ETag of `bytes`, e.g. "\"3f2a1c9e\""
    bool immutable = false;         // content-hashed name: cacheable for a year
};

// The response for one asset and one request (see the picture above).
http::HttpResponse serve_asset(const StaticAsset& asset, const http::HttpRequest& request);
// Adds a GET route for every asset (all with the same access).
void add_static_routes(RouteTable& table, std::span<const StaticAsset> assets, Access access);

// Accept-Encoding takes gzip ("gzip", "x-gzip" or "*", with q > 0).
bool accepts_gzip(std::string_view accept_encoding);
// If-None-Match lists this ETag ("*", or any listed tag equal under weak comparison: W/ is ignored).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace duet::server
