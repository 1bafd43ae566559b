// request_parser.h: an incremental HTTP/1.1 request parser for untrusted bytes, with every limit applied to what is
// actually read (no socket code here; the front door in http_server.cpp feeds it whatever recv() returned).
//
//   feed(bytes) ──► head: request line + headers, up to "\r\n\r\n"
//                     request line > max_request_line_bytes ....................... 414
//                     head > max_header_bytes, more than max_header_count headers .. 431
//                     bad request line / header syntax, bad or conflicting
//                     Content-Length (negative, >= 2^63, not digits, duplicates
//                     that differ), Transfer-Encoding together with Content-Length . 400
//                     Transfer-Encoding other than exactly "chunked" ............... 501
//                     Content-Encoding other than identity / gzip / deflate ........ 415
//                     HTTP version other than 1.0 / 1.1 ............................ 505
//                     Content-Length > max_body_bytes: 413 at once, before any body byte is read
//               ──► body: Content-Length bytes, or chunks (size lines, data, CRLF, trailers)
//                     decoded (de-chunked, inflated) bytes > max_body_bytes ......... 413 as soon as it happens
//                     inflated > max_inflate_ratio x compressed (past 1 MiB) ........ 413 (decompression bomb)
//               ──► done: head() and take_body(); bytes after the request are left unconsumed (pipelining)
//
// Memory per parser: the head buffer (<= max_header_bytes), the body as received (grows with what arrives, never
// reserved from a claimed length) and, for compressed bodies, one zlib stream (~45 KB).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duet::server::http {

struct ParserLimits {
    size_t max_request_line_bytes = size_t{8} << 10;
    size_t max_header_bytes = size_t{16} << 10;  // request line + headers; chunked trailers count here too
    size_t max_header_count = 100;
    size_t max_body_bytes = size_t{8} << 20;  // the decoded body: after de-chunking and inflation
    double max_inflate_ratio = 100;           // inflated / compressed bytes, checked past 1 MiB inflated
};

enum class BodyFraming { none, length, chunked };
enum class ContentCoding { identity, gzip, deflate };

struct RequestHead {
    std::string method;                                        // as sent ("GET", "POST", ...)
    std::string path;                                          // percent-decoded, without the query
    std::string query;                                         // raw, after '?' (may be empty)
    int version_minor = 1;                                     // HTTP/1.<version_minor>
    std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values trimmed
    bool keep_alive = true;
    bool expect_continue = false;
    BodyFraming framing = BodyFraming::none;
    uint64_t content_length = 0;
    ContentCoding coding = ContentCoding::identity;
};

class BodyInflater;

class RequestParser {
public:
    enum class State { head, body, done, failed };

    explicit RequestParser(ParserLimits limits);
    ~RequestParser();
    RequestParser(const RequestParser&) = delete;
    RequestParser& operator=(const RequestParser&) = delete;

    // Consumes a prefix of `bytes` and returns its length; stops at the end of the request (done) or at the first
    // error (failed). Bytes past the end of the request are not consumed.
    size_t feed(std::string_view bytes);
    // Call when the peer closed its side: a request cut short fails with 400 (no-op in head state before any byte).
    void finish_input();

    State state() const { return state_; }
    bool started() const { return state_ != State::head || !head_buf_.empty(); }
    bool head_complete() const { return state_ == State::body || state_ == State::done; }
    int error_status() const { return error_status_; }  // 400, 413, 414, 415, 431, 501 or 505 once failed
    const std::string& error_reason() const { return error_reason_; }
    const RequestHead& head() const { return head_; }
    std::string take_body() { return std::move(body_); }
    size_t body_bytes_buffered() const { return body_.size(); }

    // Back to an empty head state for the next request on the connection; frees the buffers.
    void reset();

private:
    size_t feed_head(std::string_view bytes);
    size_t feed_body(std::string_view bytes);
    size_t feed_chunked(std::string_view bytes);
    bool parse_head();                       // head_buf_ -> head_, framing checks; false: failed
    bool on_decoded(std::string_view data);  // de-chunked body bytes -> body_ (inflated when encoded)
    bool end_body();
    bool fail(int status, std::string reason);

    enum class ChunkState { size_line, data, data_crlf, trailers };

    ParserLimits limits_;
    State state_ = State::head;
    int error_status_ = 0;
    std::string error_reason_;
    RequestHead head_;
    std::string head_buf_;
    std::string body_;
    uint64_t raw_remaining_ = 0;  // length framing: bytes still to come; chunked: bytes left in this chunk
    uint64_t raw_received_ = 0;   // de-chunked bytes received (compressed bytes when encoded)
    ChunkState chunk_state_ = ChunkState::size_line;
    std::string chunk_line_;  // the current chunk-size or trailer line
    size_t trailer_bytes_ = 0;
    std::unique_ptr<BodyInflater> inflater_;
};

// Percent-decodes a URL path ("%2F" -> "/"); false on a malformed escape or a decoded NUL.
bool percent_decode_path(std::string_view in, std::string* out);

// Parses a Content-Length value list ("12", "12, 12"); false when not all digits, >= 2^63, or values that differ.
bool parse_content_length(std::string_view value, uint64_t* out);

}  // namespace duet::server::http
