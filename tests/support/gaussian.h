// gaussian.h: seeded normally distributed test vectors for kernel tests.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace duet::test {

// n floats drawn from N(0, std^2) with a fixed seed (same seed, same vector).
inline std::vector<float> gaussian(int64_t n, uint32_t seed, float std = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, std);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = dist(rng);
    return v;
}

}  // namespace duet::test
