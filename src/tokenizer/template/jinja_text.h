// jinja_text.h: Python str algorithms on UTF-8 (strip, split, replace, case) shared by filters and methods.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "tokenizer/template/jinja_eval.h"
#include "tokenizer/template/jinja_value.h"

namespace duet::tok::jinja {

// str.strip / lstrip / rstrip: `chars` null means Python whitespace, else the set of code points in *chars.
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);
// str.split / rsplit: `sep` null splits on whitespace runs; maxsplit < 0 means no limit. Empty sep is an error.
Result<Array> py_split(std::string_view s, const std::string* sep, int64_t maxsplit, bool from_right);
// str.replace(old, new, count); count < 0 replaces all. An empty `old` inserts `new` between code points.
Result<std::string> py_replace(Runtime& rt, std::string_view s, std::string_view old_text, std::string_view new_text,
                               int64_t count);
// Case mapping for ASCII letters; other code points are left unchanged.
std::string ascii_upper(std::string_view s);
std::string ascii_lower(std::string_view s);
std::string py_title(std::string_view s);
std::string py_capitalize(std::string_view s);

}  // namespace duet::tok::jinja
