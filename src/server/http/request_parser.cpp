// request_parser.cpp: RequestParser: head syntax and framing checks, Content-Length and chunked bodies, inflation.
#include "server/http/request_parser.h"

#include <algorithm>
#include <limits>

#include "common/ascii.h"
#include "common/strformat.h"
#include "server/http/body_inflater.h"

namespace duet::server::http {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr size_t kMaxChunkLineBytes = 1024;  // "1a2b;ext=..." lines

// RFC 9110 tchar: the characters of a method or header name.
bool is_tchar(char c) {
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
    switch (c) {
        case '!':
        case '#':
        case '$':
        case '%':
        case '&':
        case '\'':
        case '*':
        case '+':
        case '-':
        case '.':
        case '^':
        case '_':
        case '`':
        case '|':
        case '~':
            return true;
        default:
            return false;
    }
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Calls fn(element) for each trimmed element of a comma-separated header value (empty elements included).
template <typename F>
void for_each_element(std::string_view value, F&& fn) {
    while (true) {
        const size_t comma = value.find(',');
        fn(trim_ows(value.substr(0, comma)));
        if (comma == std::string_view::npos) return;
        value.remove_prefix(comma + 1);
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

bool percent_decode_path(std::string_view in, std::string* out) {
    out->clear();
    out->reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out->push_back(in[i]);
            continue;
        }
        if (i + 2 >= in.size()) return false;
        const int hi = hex_value(in[i + 1]);
        const int lo = hex_value(in[i + 2]);
        if (hi < 0 || lo < 0) return false;
        const char c = static_cast<char>(hi * 16 + lo);
        if (c == '\0') return false;
        out->push_back(c);
        i += 2;
    }
    return true;
}

bool parse_content_length(std::string_view value, uint64_t* out) {
    bool ok = true, have = false;
    uint64_t result = 0;
    for_each_element(value, [&](std::string_view element) {
        if (!ok) return;
        if (element.empty() || element.size() > 19) {
            ok = false;
            return;
        }
        uint64_t n = 0;
        for (char c : element) {
            if (c < '0' || c > '9') {
                ok = false;
                return;
            }
            n = n * 10 + static_cast<uint64_t>(c - '0');  // 19 digits fit in 64 bits
        }
        if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || (have && n != result)) {
            ok = false;
            return;
        }
        result = n;
        have = true;
    });
    if (!ok || !have) return false;
    *out = result;
    return true;
}

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

RequestParser::~RequestParser() = default;

void RequestParser::reset() {
    state_ = State::head;
    error_status_ = 0;
    error_reason_.clear();
    head_ = RequestHead{};
    std::string().swap(head_buf_);
    std::string().swap(body_);
    raw_remaining_ = raw_received_ = 0;
    chunk_state_ = ChunkState::size_line;
    std::string().swap(chunk_line_);
    trailer_bytes_ = 0;
    inflater_.reset();
}

bool RequestParser::fail(int status, std::string reason) {
    state_ = State::failed;
    error_status_ = status;
    error_reason_ = std::move(reason);
    std::string().swap(body_);
    inflater_.reset();
    return false;
}

size_t RequestParser::feed(std::string_view bytes) {
    size_t used = 0;
    while (used < bytes.size() && (state_ == State::head || state_ == State::body)) {
        const std::string_view rest = bytes.substr(used);
        used += state_ == State::head ? feed_head(rest) : feed_body(rest);
    }
    return used;
}

void RequestParser::finish_input() {
    if (state_ == State::body || (state_ == State::head && !head_buf_.empty()))
        fail(400, "the connection closed before the request was complete");
}

size_t RequestParser::feed_head(std::string_view bytes) {
    size_t used = 0;
    // Empty lines before a request line are ignored (RFC 9112 2.2).
    if (head_buf_.empty()) {
        while (used < bytes.size() && (bytes[used] == '\r' || bytes[used] == '\n')) ++used;
        if (used == bytes.size()) return used;
    }
    const size_t old_size = head_buf_.size();
    const size_t room = limits_.max_header_bytes + 4 - std::min(old_size, limits_.max_header_bytes + 4);
    const std::string_view take = bytes.substr(used, room);
    head_buf_.append(take);
    const size_t search_from = old_size >= 3 ? old_size - 3 : 0;
    const size_t end = head_buf_.find("\r\n\r\n", search_from);
    if (end == std::string::npos) {
        const size_t line_end = head_buf_.find(kCrlf);
        if ((line_end == std::string::npos ? head_buf_.size() : line_end) > limits_.max_request_line_bytes) {
            fail(414, strformat("request line longer than %zu bytes", limits_.max_request_line_bytes));
        } else if (head_buf_.size() > limits_.max_header_bytes) {
            fail(431, strformat("request head longer than %zu bytes", limits_.max_header_bytes));
        }
        return used + take.size();
    }
    // The head ends inside what was just appended: give the rest back.
    const size_t head_len = end + 4;
    const size_t consumed_here = head_len - old_size;
    head_buf_.resize(head_len);
    if (head_len > limits_.max_header_bytes + 2) {  // +2: the final empty line is not part of a field
        fail(431, strformat("request head longer than %zu bytes", limits_.max_header_bytes));
        return used + consumed_here;
    }
    if (parse_head()) {
        std::string().swap(head_buf_);
        if (head_.framing == BodyFraming::none) state_ = State::done;
        else state_ = State::body;
        if (state_ == State::body && head_.coding != ContentCoding::identity)
            inflater_ = std::make_unique<BodyInflater>(head_.coding == ContentCoding::gzip, limits_.max_body_bytes,
                                                       limits_.max_inflate_ratio);
    }
    return used + consumed_here;
}

bool RequestParser::parse_head() {
    std::string_view head(head_buf_);
    head.remove_suffix(4);  // "\r\n\r\n"
    size_t line_end = head.find(kCrlf);
    const std::string_view request_line = head.substr(0, line_end);
    if (request_line.size() > limits_.max_request_line_bytes)
        return fail(414, strformat("request line longer than %zu bytes", limits_.max_request_line_bytes));

    // METHOD SP request-target SP HTTP/1.x
    const size_t sp1 = request_line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || request_line.find(' ', sp2 + 1) != std::string_view::npos)
        return fail(400, "malformed request line");
    const std::string_view method = request_line.substr(0, sp1);
    const std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = request_line.substr(sp2 + 1);
    if (!is_token(method)) return fail(400, "malformed method");
    if (version.size() != 8 || version.compare(0, 5, "HTTP/") != 0 || version[6] != '.' ||
        !std::isdigit(static_cast<unsigned char>(version[5])) || !std::isdigit(static_cast<unsigned char>(version[7])))
        return fail(400, "malformed HTTP version");
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
        return fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
    head_.version_minor = version[7] - '0';
    if (target.empty() || (target[0] != '/' && target != "*")) return fail(400, "malformed request target");
    for (char c : target)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return fail(400, "malformed request target");
    const size_t q = target.find('?');
    if (!percent_decode_path(target.substr(0, q), &head_.path)) return fail(400, "malformed percent-encoding in path");
    if (q != std::string_view::npos) head_.query = std::string(target.substr(q + 1));
    head_.method = std::string(method);

    // Fields.
    bool have_length = false, have_transfer_encoding = false, connection_close = false, connection_keep_alive = false;
    std::vector<std::string> transfer_codings, content_codings;
    std::string length_values;  // every Content-Length field, joined by commas
    while (line_end != std::string_view::npos) {
        head.remove_prefix(line_end + 2);
        line_end = head.find(kCrlf);
        const std::string_view line = head.substr(0, line_end);
        if (line.empty()) return fail(400, "empty header line");
        if (line[0] == ' ' || line[0] == '\t') return fail(400, "obsolete header line folding");
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
            return fail(400, "malformed header field");
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = trim_ows(line.substr(colon + 1));
        for (char c : value)
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
                return fail(400, "control character in header value");
        if (head_.headers.size() >= limits_.max_header_count)
            return fail(431, strformat("more than %zu header fields", limits_.max_header_count));
        head_.headers.emplace_back(std::string(name), std::string(value));
        if (iequals(name, "Content-Length")) {
            if (have_length) length_values += ',';
            length_values += value;
            have_length = true;
        } else if (iequals(name, "Transfer-Encoding")) {
            have_transfer_encoding = true;
            for_each_element(value, [&](std::string_view e) { transfer_codings.emplace_back(e); });
        } else if (iequals(name, "Content-Encoding")) {
            for_each_element(value, [&](std::string_view e) { content_codings.emplace_back(e); });
        } else if (iequals(name, "Connection")) {
            for_each_element(value, [&](std::string_view e) {
                if (iequals(e, "close")) connection_close = true;
                if (iequals(e, "keep-alive")) connection_keep_alive = true;
            });
        } else if (iequals(name, "Expect")) {
            if (!iequals(value, "100-continue")) return fail(417, "only 'Expect: 100-continue' is supported");
            head_.expect_continue = head_.version_minor >= 1;
        }
    }
    head_.keep_alive = !connection_close && (head_.version_minor >= 1 || connection_keep_alive);

    // Framing (RFC 9112 6): Transfer-Encoding chunked, else Content-Length, else no body.
    if (have_transfer_encoding) {
        if (have_length) return fail(400, "both Transfer-Encoding and Content-Length");
        if (head_.version_minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
        if (transfer_codings.size() != 1 || !iequals(transfer_codings[0], "chunked"))
            return fail(501, "unsupported Transfer-Encoding (only 'chunked' is)");
        head_.framing = BodyFraming::chunked;
    } else if (have_length) {
        if (!parse_content_length(length_values, &head_.content_length)) return fail(400, "invalid Content-Length");
        if (head_.content_length > limits_.max_body_bytes)
            return fail(413, strformat("Content-Length %llu is over the %zu-byte limit",
                                       static_cast<unsigned long long>(head_.content_length), limits_.max_body_bytes));
        head_.framing = head_.content_length > 0 ? BodyFraming::length : BodyFraming::none;
        raw_remaining_ = head_.content_length;
    }
    for (const auto& coding : content_codings) {
        if (coding.empty() || iequals(coding, "identity")) continue;
        const ContentCoding c = iequals(coding, "gzip") || iequals(coding, "x-gzip") ? ContentCoding::gzip
                                : iequals(coding, "deflate")                         ? ContentCoding::deflate
                                                                                     : ContentCoding::identity;
        if (c == ContentCoding::identity || head_.coding != ContentCoding::identity)
            return fail(415, "unsupported Content-Encoding (gzip or deflate, once)");
        head_.coding = c;
    }
    if (head_.framing == BodyFraming::chunked) raw_remaining_ = 0;
    return true;
}

size_t RequestParser::feed_body(std::string_view bytes) {
    if (head_.framing == BodyFraming::chunked) return feed_chunked(bytes);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(raw_remaining_, bytes.size()));
    if (!on_decoded(bytes.substr(0, n))) return n;
    raw_remaining_ -= n;
    if (raw_remaining_ == 0) end_body();
    return n;
}

size_t RequestParser::feed_chunked(std::string_view bytes) {
    size_t used = 0;
    while (used < bytes.size() && state_ == State::body) {
        const std::string_view rest = bytes.substr(used);
        switch (chunk_state_) {
            case ChunkState::size_line:
            case ChunkState::trailers: {
                const size_t nl = rest.find('\n');
                const size_t take = nl == std::string_view::npos ? rest.size() : nl + 1;
                chunk_line_.append(rest.substr(0, take));
                used += take;
                const bool trailer = chunk_state_ == ChunkState::trailers;
                if (trailer) trailer_bytes_ += take;
                if (trailer ? trailer_bytes_ > limits_.max_header_bytes : chunk_line_.size() > kMaxChunkLineBytes) {
                    fail(trailer ? 431 : 400, trailer ? "chunked trailers too large" : "chunk size line too long");
                    return used;
                }
                if (nl == std::string_view::npos) break;
                if (chunk_line_.size() < 2 || chunk_line_[chunk_line_.size() - 2] != '\r') {
                    fail(400, "chunk line not ended by CRLF");
                    return used;
                }
                std::string_view line(chunk_line_);
                line.remove_suffix(2);
                if (trailer) {
                    if (line.empty()) {
                        end_body();
                        return used;
                    }
                    chunk_line_.clear();
                    break;
                }
                // chunk-size [; extensions]
                uint64_t size = 0;
                size_t i = 0;
                for (; i < line.size() && hex_value(line[i]) >= 0; ++i) {
                    if (size > (uint64_t{1} << 59)) {  // far over any limit: stop before overflowing
                        fail(413, "chunk size over the body limit");
                        return used;
                    }
                    size = size * 16 + static_cast<uint64_t>(hex_value(line[i]));
                }
                const std::string_view after = trim_ows(line.substr(i));
                if (i == 0 || (!after.empty() && after[0] != ';')) {
                    fail(400, "malformed chunk size");
                    return used;
                }
                chunk_line_.clear();
                if (size == 0) {
                    chunk_state_ = ChunkState::trailers;
                    break;
                }
                // The de-chunked total may not pass the limit (inflated output is checked again as it grows).
                if (size > limits_.max_body_bytes - std::min<uint64_t>(raw_received_, limits_.max_body_bytes)) {
                    fail(413, strformat("chunked body over the %zu-byte limit", limits_.max_body_bytes));
                    return used;
                }
                raw_remaining_ = size;
                chunk_state_ = ChunkState::data;
                break;
            }
            case ChunkState::data: {
                const size_t n = static_cast<size_t>(std::min<uint64_t>(raw_remaining_, rest.size()));
                used += n;
                if (!on_decoded(rest.substr(0, n))) return used;
                raw_remaining_ -= n;
                if (raw_remaining_ == 0) chunk_state_ = ChunkState::data_crlf;
                break;
            }
            case ChunkState::data_crlf: {
                chunk_line_.push_back(rest[0]);
                used += 1;
                if (chunk_line_.size() < 2) break;
                if (chunk_line_ != kCrlf) {
                    fail(400, "chunk data not followed by CRLF");
                    return used;
                }
                chunk_line_.clear();
                chunk_state_ = ChunkState::size_line;
                break;
            }
        }
    }
    return used;
}

bool RequestParser::on_decoded(std::string_view data) {
    raw_received_ += data.size();
    if (raw_received_ > limits_.max_body_bytes)
        return fail(413, strformat("body over the %zu-byte limit", limits_.max_body_bytes));
    if (!inflater_) {
        body_.append(data);
        return true;
    }
    switch (inflater_->feed(data, &body_)) {
        case BodyInflater::Result::ok:
            return true;
        case BodyInflater::Result::too_large:
            return fail(413, strformat("inflated body over the %zu-byte limit", limits_.max_body_bytes));
        case BodyInflater::Result::bomb:
            return fail(413, strformat("compressed body inflates more than %.0f times", limits_.max_inflate_ratio));
        case BodyInflater::Result::corrupt:
            return fail(400, "corrupt compressed body");
    }
    return true;
}

bool RequestParser::end_body() {
    if (inflater_ && !inflater_->finished()) return fail(400, "truncated compressed body");
    inflater_.reset();
    state_ = State::done;
    return true;
}

}  // namespace duet::server::http
