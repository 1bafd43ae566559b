// router_model.h: the fitted parameters of the router (n-gram classifier, fusion weights, threshold) and their
// file format, read as untrusted input (errors name the file and byte offset).
//
//   offset  size         field
//   0       8            magic "DUETRTR1"
//   8       4            u32 version (1)
//   12      4            u32 feature bits (kFeatureBits)
//   16      4            u32 number of fusion features F (kNumFusionFeatures)
//   20      8            u64 fingerprint of the keyword list it was fitted with
//   28      4            f32 classifier bias
//   32      4            f32 fusion bias
//   36      4*F          f32 fusion weights, in FusionFeature order
//   ..      4            f32 threshold (route expert when P(expert) >= threshold)
//   ..      4            u32 N, the number of non-zero classifier weights
//   ..      8*N          (u32 bucket, f32 weight), buckets strictly increasing
//
// All little-endian. May include common/ and router/ headers.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "router/classifier.h"

namespace duet::router {

enum FusionFeature : int {
    kFeatClassifier,      // classifier logit, clamped to [-12, 12]
    kFeatKeywordsExpert,  // log(1 + expert keyword score)
    kFeatKeywordsDaily,   // log(1 + daily keyword score)
    kFeatHanRatio,
    kFeatLatinRatio,
    kFeatCodeRatio,
    kFeatOtherScriptRatio,
    kFeatEmbedCentroid,  // 0 without an encoder
    kFeatEmbedKnn,       // 0 without an encoder
    kNumFusionFeatures
};

std::string_view fusion_feature_name(int feature);

using FusionVector = std::array<float, kNumFusionFeatures>;

struct RouterModel {
    NgramClassifier classifier;
    float fusion_bias = 0.0f;
    FusionVector fusion_weights{};
    float threshold = 0.5f;
    uint64_t keywords_fingerprint = 0;

    // P(expert) from fusion features.
    float probability(const FusionVector& features) const;
};

std::string serialize_router_model(const RouterModel& model);
// `source` names the data in errors.
Result<RouterModel> parse_router_model(std::string_view bytes, std::string_view source);
Result<RouterModel> load_router_model(const std::string& path);

}  // namespace duet::router
