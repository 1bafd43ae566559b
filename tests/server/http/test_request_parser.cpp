// test_request_parser.cpp: the front door's request parser on hostile bytes: every limit and framing error gives
// its status while reading (413 before any body byte for a claimed length), chunked and gzip bodies are decoded
// under the limits, bombs stop at the limit, and a request split at every byte parses the same as whole.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "server/http/request_parser.h"

namespace duet::server::http {
namespace {

ParserLimits small_limits() {
    ParserLimits limits;
    limits.max_body_bytes = 4096;
    limits.max_header_bytes = 1024;
    limits.max_request_line_bytes = 256;
    limits.max_header_count = 8;
    return limits;
}

struct Parsed {
    RequestParser::State state;
    int status;
    size_t used;
    std::string body;
    RequestHead head;
};

Parsed parse(const std::string& bytes, ParserLimits limits = small_limits()) {
    RequestParser p(limits);
    const size_t used = p.feed(bytes);
    Parsed out{p.state(), p.error_status(), used, {}, p.head()};
    out.body = p.take_body();
    return out;
}

std::string post(const std::string& headers, const std::string& body) {
    return "POST /v1/x HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n" + body;
}

std::string gzip(const std::string& data, int window_bits = 16 + MAX_WBITS) {
    z_stream z{};
    deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::string chunked(const std::string& body, size_t piece) {
    std::string out;
    char size[32];
    for (size_t at = 0; at < body.size(); at += piece) {
        const std::string part = body.substr(at, piece);
        std::snprintf(size, sizeof(size), "%zx\r\n", part.size());
        out += size + part + "\r\n";
    }
    return out + "0\r\n\r\n";
}

TEST(RequestParser, ASimpleGetWithQueryAndPercentEncodedPath) {
    const Parsed p = parse("GET /v1/mod%65ls?x=1&y=%20 HTTP/1.1\r\nHost: h\r\nX-A:  v  \r\n\r\n");
    ASSERT_EQ(p.state, RequestParser::State::done);
    EXPECT_EQ(p.head.method, "GET");
    EXPECT_EQ(p.head.path, "/v1/models");
    EXPECT_EQ(p.head.query, "x=1&y=%20");
    ASSERT_EQ(p.head.headers.size(), 2u);
    EXPECT_EQ(p.head.headers[1].second, "v");
    EXPECT_TRUE(p.head.keep_alive);
}

TEST(RequestParser, KeepAliveFollowsVersionAndConnection) {
    EXPECT_FALSE(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").head.keep_alive);
    EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
    EXPECT_TRUE(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").head.keep_alive);
}

TEST(RequestParser, StopsAtTheEndOfOneRequest) {
    const std::string first = post("Content-Length: 3\r\n", "abc");
    const Parsed p = parse(first + "GET / HTTP/1.1\r\n\r\n");
    ASSERT_EQ(p.state, RequestParser::State::done);
    EXPECT_EQ(p.used, first.size());
    EXPECT_EQ(p.body, "abc");
}

TEST(RequestParser, BadContentLengthsAre400AtOnce) {
    for (const char* value :
         {"-1", "9223372036854775808", "100000000000000000000", "12abc", "", "0x10", "1 2", "+5", "3, 4"}) {
        const Parsed p = parse(post(std::string("Content-Length: ") + value + "\r\n", ""));
        EXPECT_EQ(p.state, RequestParser::State::failed) << value;
        EXPECT_EQ(p.status, 400) << value;
    }
    // Two fields that differ; two that agree are one length.
    EXPECT_EQ(parse(post("Content-Length: 3\r\nContent-Length: 4\r\n", "abcd")).status, 400);
    const Parsed same = parse(post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"));
    EXPECT_EQ(same.state, RequestParser::State::done);
    EXPECT_EQ(same.body, "abc");
}

TEST(RequestParser, AClaimedLengthOverTheLimitIs413BeforeAnyBodyByte) {
    const std::string head = post("Content-Length: 99999999999\r\n", "");
    const Parsed p = parse(head + "{}");
    EXPECT_EQ(p.state, RequestParser::State::failed);
    EXPECT_EQ(p.status, 413);
    EXPECT_EQ(p.used, head.size());  // the body was never read
    EXPECT_EQ(parse(post("Content-Length: 4097\r\n", "")).status, 413);
    EXPECT_EQ(parse(post("Content-Length: 4096\r\n", std::string(4096, 'x'))).state, RequestParser::State::done);
}

TEST(RequestParser, TransferEncodingOtherThanChunkedIs501AndWithALengthIs400) {
    EXPECT_EQ(parse(post("Transfer-Encoding: gzip\r\n", "")).status, 501);
    EXPECT_EQ(parse(post("Transfer-Encoding: gzip, chunked\r\n", "")).status, 501);
    EXPECT_EQ(parse(post("Transfer-Encoding: chunked, chunked\r\n", "")).status, 501);
    EXPECT_EQ(parse(post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "")).status, 400);
    EXPECT_EQ(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").status, 400);
    EXPECT_EQ(parse(post("Content-Encoding: br\r\nContent-Length: 1\r\n", "x")).status, 415);
}

TEST(RequestParser, HeadLimitsAre431AndALongRequestLine414) {
    EXPECT_EQ(parse("GET /" + std::string(300, 'a') + " HTTP/1.1\r\n\r\n").status, 414);
    EXPECT_EQ(parse("GET /" + std::string(300, 'a')).status, 414);  // detected before the line ends
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n").status, 431);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nX: " + std::string(2000, 'a')).status, 431);  // before the head ends
    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 9; ++i) many += "X-" + std::to_string(i) + ": 1\r\n";
    EXPECT_EQ(parse(many + "\r\n").status, 431);
}

TEST(RequestParser, MalformedHeadsAre400And505ForOtherVersions) {
    for (const char* head :
         {"GARBAGE\r\n\r\n", "GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "GET x HTTP/1.1\r\n\r\n",
          "G(T / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nNoColon\r\n\r\n", "GET / HTTP/1.1\r\nBad Name: v\r\n\r\n",
          "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nX: a\x01 b\r\n\r\n",
          "GET /%zz HTTP/1.1\r\n\r\n", "GET /%00 HTTP/1.1\r\n\r\n", "GET / HTTX/1.1\r\n\r\n"}) {
        const Parsed p = parse(head);
        EXPECT_EQ(p.state, RequestParser::State::failed) << head;
        EXPECT_EQ(p.status, 400) << head;
    }
    EXPECT_EQ(parse("GET / HTTP/2.0\r\n\r\n").status, 505);
    EXPECT_EQ(parse(post("Expect: 200-ok\r\n", "")).status, 417);
}

TEST(RequestParser, ChunkedBodiesDecodeAndStopAtTheLimit) {
    const std::string body(3000, 'c');
    const Parsed p = parse(post("Transfer-Encoding: chunked\r\n", chunked(body, 700)));
    ASSERT_EQ(p.state, RequestParser::State::done);
    EXPECT_EQ(p.body, body);
    // Over the limit: 413 as soon as a chunk size says so, before its data.
    RequestParser parser(small_limits());
    parser.feed(post("Transfer-Encoding: chunked\r\n", "fa0\r\n" + std::string(4000, 'c') + "\r\n200\r\n"));
    EXPECT_EQ(parser.state(), RequestParser::State::failed);
    EXPECT_EQ(parser.error_status(), 413);
    EXPECT_EQ(parse(post("Transfer-Encoding: chunked\r\n", "ffffffffffffffffffffff\r\n")).status, 413);
    // Malformed chunking.
    for (const char* bad : {"ZZZ\r\nabc\r\n0\r\n\r\n", "3\r\nabcX\r\n0\r\n\r\n", "3\nabc\r\n0\r\n\r\n", "\r\n"}) {
        const Parsed b = parse(post("Transfer-Encoding: chunked\r\n", bad));
        EXPECT_EQ(b.status, 400) << bad;
    }
    // Extensions and trailers are accepted (and ignored).
    const Parsed t = parse(post("Transfer-Encoding: chunked\r\n", "3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"));
    ASSERT_EQ(t.state, RequestParser::State::done);
    EXPECT_EQ(t.body, "abc");
}

TEST(RequestParser, GzipAndDeflateBodiesInflateUnderTheLimits) {
    const std::string json = "{\"messages\": [{\"role\": \"user\", \"content\": \"hello there\"}]}";
    for (const char* coding : {"gzip", "x-gzip"}) {
        const std::string z = gzip(json);
        const Parsed p = parse(post(std::string("Content-Encoding: ") + coding +
                                        "\r\nContent-Length: " + std::to_string(z.size()) + "\r\n",
                                    z));
        ASSERT_EQ(p.state, RequestParser::State::done) << coding;
        EXPECT_EQ(p.body, json);
    }
    const std::string zlib_stream = gzip(json, MAX_WBITS);
    const Parsed d =
        parse(post("Content-Encoding: deflate\r\nContent-Length: " + std::to_string(zlib_stream.size()) + "\r\n",
                   zlib_stream));
    ASSERT_EQ(d.state, RequestParser::State::done);
    EXPECT_EQ(d.body, json);
    // Chunked and gzip together.
    const Parsed c = parse(post("Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", chunked(gzip(json), 7)));
    ASSERT_EQ(c.state, RequestParser::State::done);
    EXPECT_EQ(c.body, json);
    // Inflated over the limit (4 KiB here): 413 and no more than the limit is ever held.
    const std::string big = gzip(std::string(5000, 'a'));
    const Parsed over =
        parse(post("Content-Encoding: gzip\r\nContent-Length: " + std::to_string(big.size()) + "\r\n", big));
    EXPECT_EQ(over.status, 413);
    // Corrupt and truncated streams: 400.
    std::string corrupt = gzip(json);
    corrupt[12] ^= 0x55;
    corrupt[13] ^= 0x55;
    EXPECT_EQ(parse(
                  post("Content-Encoding: gzip\r\nContent-Length: " + std::to_string(corrupt.size()) + "\r\n", corrupt))
                  .status,
              400);
    const std::string cut = gzip(json).substr(0, 20);
    EXPECT_EQ(parse(post("Content-Encoding: gzip\r\nContent-Length: 20\r\n", cut)).status, 400);
}

TEST(RequestParser, AGzipBombIsRefusedByRatioLongBeforeItIsInflated) {
    ParserLimits limits;                                                 // the server's defaults: 8 MiB body, ratio 100
    const std::string bomb = gzip(std::string(size_t{16} << 20, '\0'));  // 16 MiB in ~16 KB
    ASSERT_LT(bomb.size(), size_t{32} << 10);
    RequestParser p(limits);
    p.feed(post("Content-Encoding: gzip\r\nContent-Length: " + std::to_string(bomb.size()) + "\r\n", bomb));
    EXPECT_EQ(p.state(), RequestParser::State::failed);
    EXPECT_EQ(p.error_status(), 413);
    EXPECT_NE(p.error_reason().find("inflates"), std::string::npos) << p.error_reason();
    EXPECT_EQ(p.body_bytes_buffered(), 0u);  // freed on failure
}

TEST(RequestParser, ARequestSplitAtEveryByteParsesTheSame) {
    const std::string json = "{\"a\": \"" + std::string(300, 'z') + "\"}";
    const std::vector<std::string> requests = {
        post("Content-Length: " + std::to_string(json.size()) + "\r\n", json),
        post("Transfer-Encoding: chunked\r\n", chunked(json, 37)),
        post("Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", chunked(gzip(json), 5)),
    };
    for (const std::string& request : requests) {
        for (size_t step : {size_t{1}, size_t{2}, size_t{3}, size_t{17}}) {
            RequestParser p(small_limits());
            size_t at = 0;
            while (at < request.size() && p.state() != RequestParser::State::failed &&
                   p.state() != RequestParser::State::done) {
                const std::string piece = request.substr(at, step);
                const size_t used = p.feed(piece);
                ASSERT_EQ(used, piece.size());
                at += used;
            }
            ASSERT_EQ(p.state(), RequestParser::State::done) << "step " << step << ": " << p.error_reason();
            EXPECT_EQ(at, request.size());
            EXPECT_EQ(p.take_body(), json);
        }
    }
}

TEST(RequestParser, ACutShortRequestFailsOnFinishAndResetStartsOver) {
    RequestParser p(small_limits());
    p.feed(post("Content-Length: 10\r\n", "abc"));
    EXPECT_EQ(p.state(), RequestParser::State::body);
    p.finish_input();
    EXPECT_EQ(p.state(), RequestParser::State::failed);
    EXPECT_EQ(p.error_status(), 400);
    p.reset();
    EXPECT_FALSE(p.started());
    p.feed("\r\nGET /again HTTP/1.1\r\n\r\n");  // a stray CRLF before the next request is ignored
    ASSERT_EQ(p.state(), RequestParser::State::done);
    EXPECT_EQ(p.head().path, "/again");
}

TEST(ContentLength, ParsesListsAndRejectsTheRest) {
    uint64_t n = 0;
    EXPECT_TRUE(parse_content_length("0", &n));
    EXPECT_EQ(n, 0u);
    EXPECT_TRUE(parse_content_length("9223372036854775807", &n));
    EXPECT_EQ(n, 9223372036854775807ull);
    EXPECT_TRUE(parse_content_length("5, 5,5", &n));
    EXPECT_EQ(n, 5u);
    EXPECT_FALSE(parse_content_length("9223372036854775808", &n));
    EXPECT_FALSE(parse_content_length("5,", &n));
    EXPECT_FALSE(parse_content_length("5,6", &n));
}

}  // namespace
}  // namespace duet::server::http
