// body_inflater.h: incremental inflation of a `Content-Encoding: gzip | deflate` request body (zlib), with the size
// and ratio limits applied to the output as it is produced: a decompression bomb stops at the limit, it is never
// inflated in full. Used by request_parser.cpp only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <zlib.h>

namespace duet::server::http {

class BodyInflater {
public:
    enum class Result { ok, too_large, bomb, corrupt };
    // Past this many inflated bytes, the inflated / compressed ratio must stay <= max_ratio.
    static constexpr size_t kRatioCheckFromBytes = size_t{1} << 20;

    // gzip: a gzip member (several members in a row are accepted); else a zlib (RFC 1950) stream, as HTTP's
    // "deflate" means.
    BodyInflater(bool gzip, size_t max_output_bytes, double max_ratio);
    ~BodyInflater();
    BodyInflater(const BodyInflater&) = delete;
    BodyInflater& operator=(const BodyInflater&) = delete;

    // Inflates `compressed` and appends the output to *out (which holds only this inflater's output).
    Result feed(std::string_view compressed, std::string* out);
    // True when the stream ended cleanly (the compressed body was complete).
    bool finished() const { return ended_ && !in_member_; }

private:
    z_stream stream_{};
    bool gzip_;
    bool ready_ = false;
    bool ended_ = false;      // at least one stream/member ended
    bool in_member_ = false;  // inside a stream/member that has not ended
    size_t max_output_bytes_;
    double max_ratio_;
    uint64_t n_in_ = 0;  // compressed bytes consumed
};

}  // namespace duet::server::http
