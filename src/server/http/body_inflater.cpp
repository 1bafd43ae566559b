// body_inflater.cpp: BodyInflater over zlib's inflate(), 16 KiB of output at a time, limits checked per step.
#include "server/http/body_inflater.h"

namespace duet::server::http {

namespace {
constexpr int kGzipWindowBits = 16 + MAX_WBITS;  // gzip wrapper only
constexpr int kAutoWindowBits = 32 + MAX_WBITS;  // zlib or gzip header, detected
constexpr size_t kStepBytes = size_t{16} << 10;
}  // namespace

BodyInflater::BodyInflater(bool gzip, size_t max_output_bytes, double max_ratio)
    : gzip_(gzip), max_output_bytes_(max_output_bytes), max_ratio_(max_ratio) {
    ready_ = inflateInit2(&stream_, gzip ? kGzipWindowBits : kAutoWindowBits) == Z_OK;
}

BodyInflater::~BodyInflater() {
    if (ready_) inflateEnd(&stream_);
}

BodyInflater::Result BodyInflater::feed(std::string_view compressed, std::string* out) {
    if (!ready_) return Result::corrupt;
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    stream_.avail_in = static_cast<uInt>(compressed.size());
    unsigned char step[kStepBytes];
    bool output_full = false;
    while (stream_.avail_in > 0 || output_full) {
        if (!in_member_) {
            if (ended_) {
                // Bytes after the end: the next gzip member; a zlib stream has nothing after its end.
                if (!gzip_ || stream_.avail_in == 0) return stream_.avail_in == 0 ? Result::ok : Result::corrupt;
                if (inflateReset(&stream_) != Z_OK) return Result::corrupt;
            }
            in_member_ = true;
        }
        stream_.next_out = step;
        stream_.avail_out = sizeof(step);
        const uInt avail_before = stream_.avail_in;
        const int rc = inflate(&stream_, Z_NO_FLUSH);
        n_in_ += avail_before - stream_.avail_in;  // compressed bytes consumed so far
        const size_t produced = sizeof(step) - stream_.avail_out;
        output_full = stream_.avail_out == 0;
        if (produced > max_output_bytes_ - out->size()) return Result::too_large;
        out->append(reinterpret_cast<const char*>(step), produced);
        if (out->size() > kRatioCheckFromBytes && static_cast<double>(out->size()) > max_ratio_ * n_in_)
            return Result::bomb;
        if (rc == Z_STREAM_END) {
            ended_ = true;
            in_member_ = false;
            output_full = false;
            continue;
        }
        if (rc == Z_BUF_ERROR) {  // no progress possible: needs more input
            if (produced == 0) break;
            continue;
        }
        if (rc != Z_OK) return Result::corrupt;
    }
    return Result::ok;
}

}  // namespace duet::server::http
