// router_model.cpp: the router model file, written and read byte by byte (little-endian).
#include "router/router_model.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace duet::router {

namespace {

constexpr char kMagic[8] = {'D', 'U', 'E', 'T', 'R', 'T', 'R', '1'};
constexpr uint32_t kVersion = 1;

void put_u32(std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_u64(std::string& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_f32(std::string& out, float f) {
    uint32_t v;
    std::memcpy(&v, &f, 4);
    put_u32(out, v);
}

class Reader {
public:
    Reader(std::string_view bytes, std::string source) : bytes_(bytes), source_(std::move(source)) {}
    Status need(size_t n, const char* what) const {
        if (bytes_.size() - pos_ < n)
            return Status::invalid_data("router model '%s': truncated at offset %zu reading %s (file has %zu bytes)",
                                        source_.c_str(), pos_, what, bytes_.size());
        return {};
    }
    uint32_t u32() {
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
        pos_ += 4;
        return v;
    }
    uint64_t u64() {
        const uint64_t lo = u32();
        return lo | (static_cast<uint64_t>(u32()) << 32);
    }
    float f32() {
        const uint32_t v = u32();
        float f;
        std::memcpy(&f, &v, 4);
        return f;
    }
    Status error(const std::string& what, size_t at) const {
        return Status::invalid_data("router model '%s': offset %zu: %s", source_.c_str(), at, what.c_str());
    }
    size_t pos() const { return pos_; }
    size_t remaining() const { return bytes_.size() - pos_; }
    std::string_view bytes() const { return bytes_; }

private:
    std::string_view bytes_;
    std::string source_;
    size_t pos_ = 0;
};

}  // namespace

std::string_view fusion_feature_name(int feature) {
    static constexpr std::string_view kNames[kNumFusionFeatures] = {"classifier",         "keywords_expert",
                                                                    "keywords_daily",     "han_ratio",
                                                                    "latin_ratio",        "code_ratio",
                                                                    "other_script_ratio", "embedding_centroid",
                                                                    "embedding_knn"};
    return feature >= 0 && feature < kNumFusionFeatures ? kNames[feature] : "?";
}

float RouterModel::probability(const FusionVector& features) const {
    float z = fusion_bias;
    for (int i = 0; i < kNumFusionFeatures; ++i) z += fusion_weights[i] * features[i];
    return sigmoid(z);
}

std::string serialize_router_model(const RouterModel& m) {
    std::string out(kMagic, sizeof kMagic);
    put_u32(out, kVersion);
    put_u32(out, kFeatureBits);
    put_u32(out, kNumFusionFeatures);
    put_u64(out, m.keywords_fingerprint);
    put_f32(out, m.classifier.bias);
    put_f32(out, m.fusion_bias);
    for (float w : m.fusion_weights) put_f32(out, w);
    put_f32(out, m.threshold);
    uint32_t n = 0;
    for (float w : m.classifier.weights) n += (w != 0.0f);
    put_u32(out, n);
    for (uint32_t b = 0; b < m.classifier.weights.size(); ++b) {
        if (m.classifier.weights[b] == 0.0f) continue;
        put_u32(out, b);
        put_f32(out, m.classifier.weights[b]);
    }
    return out;
}

Result<RouterModel> parse_router_model(std::string_view bytes, std::string_view source) {
    Reader r(bytes, std::string(source));
    RouterModel m;
    DUET_RETURN_IF_ERROR(r.need(28, "the header"));
    if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
        return r.error("bad magic (expected 'DUETRTR1'; not a router model file)", 0);
    r.u64();  // magic
    const uint32_t version = r.u32();
    if (version != kVersion) return r.error(strformat("unsupported version %u (expected %u)", version, kVersion), 8);
    const uint32_t bits = r.u32();
    if (bits != kFeatureBits) return r.error(strformat("feature bits %u, this duet uses %u", bits, kFeatureBits), 12);
    const uint32_t n_fusion = r.u32();
    if (n_fusion != kNumFusionFeatures)
        return r.error(strformat("%u fusion features, this duet uses %d", n_fusion, kNumFusionFeatures), 16);
    m.keywords_fingerprint = r.u64();
    DUET_RETURN_IF_ERROR(r.need(4 * (3 + kNumFusionFeatures) + 4, "the fusion weights"));
    auto finite = [&](float v, const char* what) -> Status {
        if (!std::isfinite(v)) return r.error(std::string(what) + " is not finite", r.pos() - 4);
        return {};
    };
    m.classifier.bias = r.f32();
    DUET_RETURN_IF_ERROR(finite(m.classifier.bias, "classifier bias"));
    m.fusion_bias = r.f32();
    DUET_RETURN_IF_ERROR(finite(m.fusion_bias, "fusion bias"));
    for (float& w : m.fusion_weights) {
        w = r.f32();
        DUET_RETURN_IF_ERROR(finite(w, "a fusion weight"));
    }
    m.threshold = r.f32();
    if (!(m.threshold > 0.0f && m.threshold < 1.0f)) return r.error("threshold not in (0, 1)", r.pos() - 4);
    const uint32_t n = r.u32();
    if (n > kFeatureBuckets || static_cast<uint64_t>(n) * 8 != r.remaining())
        return r.error(strformat("%u classifier weights do not fit the %zu bytes left", n, r.remaining()), r.pos() - 4);
    int64_t last = -1;
    for (uint32_t i = 0; i < n; ++i) {
        const size_t at = r.pos();
        const uint32_t b = r.u32();
        const float w = r.f32();
        if (b >= kFeatureBuckets || static_cast<int64_t>(b) <= last)
            return r.error(strformat("bucket %u out of range or not increasing", b), at);
        if (!std::isfinite(w)) return r.error("a classifier weight is not finite", at + 4);
        m.classifier.weights[b] = w;
        last = b;
    }
    return m;
}

Result<RouterModel> load_router_model(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::io_error("router model: cannot read '%s'", path.c_str());
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_router_model(ss.str(), path);
}

}  // namespace duet::router
