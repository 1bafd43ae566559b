// assets_unbuilt.cpp: the asset table when the page could not be built (no node or no web/node_modules when duet
// was configured): one placeholder page that says how to get the real one. Not gzipped (empty gzip_body).
#include "web/assets.h"

namespace duet::web {
namespace {

constexpr std::string_view kPlaceholder =
    "<!doctype html><meta charset=\"utf-8\"><title>duet</title>"
    "<h1>duet: the chat page was not built</h1>"
    "<p>This binary was built without Node.js or without web/node_modules, so the page could not be embedded. "
    "Run <code>./duet.sh setup</code> (it installs node and runs npm ci in web/), then rebuild. The OpenAI API "
    "under /v1/ works as usual.</p>\n";

const Asset kAssets[] = {{"/index.html", "text/html; charset=utf-8", "\"unbuilt-page-0001\"", kPlaceholder, {}}};

}  // namespace

std::span<const Asset> all_assets() { return kAssets; }
bool page_built() { return false; }

}  // namespace duet::web
