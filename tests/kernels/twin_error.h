// twin_error.h: how far a kernel's outputs are from its twin's, for the kernel tests: the RMS of the twin's outputs
// (the scale the tolerances are relative to) and the largest absolute difference.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>

namespace duet::test {

// sqrt(mean(v^2)), never 0 (a tolerance is divided by it)
inline double rms(std::span<const float> v) {
    double s = 0;
    for (float x : v) s += static_cast<double>(x) * x;
    return std::sqrt(s / static_cast<double>(v.size())) + 1e-30;
}

// max |a[i] - b[i]| over a's length (b at least as long)
inline double max_abs_diff(std::span<const float> a, std::span<const float> b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
    return m;
}

}  // namespace duet::test
