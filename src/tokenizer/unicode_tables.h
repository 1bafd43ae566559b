// unicode_tables.h: generated Unicode data (unicode_tables_categories.cpp, _decompositions.cpp, _combining.cpp, written
// by gen_unicode_tables.py) used by unicode.cpp; not for direct use elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>

namespace duet::tok::tables {

struct CodepointPair {
    uint32_t from;
    uint32_t to;
};

struct Decomposition {
    uint32_t cp;
    uint32_t first;
    uint32_t second;      // 0 for a singleton decomposition
    uint32_t composable;  // 1 when NFC recomposes first+second into cp (a primary composite)
};

extern const uint32_t kCategoryRuns[];
extern const size_t kNumCategoryRuns;
extern const CodepointPair kLowercase[];
extern const size_t kNumLowercase;
extern const Decomposition kDecompositions[];
extern const size_t kNumDecompositions;
extern const uint32_t kCccRuns[];
extern const size_t kNumCccRuns;

}  // namespace duet::tok::tables
