// ngram_features.h: the classifier's input: hashed n-grams of a scan window.
//
//   Han and other non-Latin letters   character 1-, 2- and 3-grams within a run ("咋整啊" -> 咋 整 啊 咋整 整啊 咋整啊)
//   ASCII words (letters, digits, _)   lower-cased word, word bigram, and character 3-grams of " word "
//   ASCII symbols                      each symbol and each pair of adjacent symbols ("=>", "::", "{}")
//   emoji                              one shared feature
//   script mix                         one feature per (has Han, has Latin, has code symbols) combination
//
// Every n-gram is hashed (FNV-1a, 64 bit) into kFeatureBuckets buckets. May include router/ headers only.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace duet::router {

constexpr uint32_t kFeatureBits = 18;
constexpr uint32_t kFeatureBuckets = 1u << kFeatureBits;

// Appends the bucket of every n-gram of `window` to `out` (duplicates kept: counts matter).
void extract_ngram_features(std::string_view window, std::vector<uint32_t>& out);

}  // namespace duet::router
