// assets.h: the chat page's files (web/), built by web/build.mjs at build time and embedded in the binary.
//
// Each asset has its bytes, a gzip variant made at build time, its content type and a strong ETag (the first 16
// hex digits of the SHA-256 of the bytes, quoted). The server answers GET /PATH from this table. When the build
// machine had no node (or no web/node_modules), page_built() is false and "/index.html" is a placeholder page
// that says so. May include: the standard library only.
#pragma once

#include <span>
#include <string_view>

namespace duet::web {

struct Asset {
    std::string_view path;          // "/index.html", "/app.js", ...
    std::string_view content_type;  // "text/javascript; charset=utf-8"
    std::string_view etag;          // "\"0123456789abcdef\""
    std::string_view body;
    std::string_view gzip_body;  // gzip (level 9) of body
    bool immutable = false;      // a content-hashed name (code-split chunks): cacheable for a year
};

std::span<const Asset> all_assets();
// The asset served at `path`; "/" is "/index.html". nullptr when there is none.
const Asset* find_asset(std::string_view path);
// False when the page could not be built (no node at build time): the binary serves a placeholder.
bool page_built();

}  // namespace duet::web
