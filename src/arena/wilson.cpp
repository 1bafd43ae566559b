// wilson.cpp: the Wilson score interval.
#include "arena/wilson.h"

#include <algorithm>
#include <cmath>

namespace duet::arena {

Proportion wilson_interval(double successes, double trials, double z) {
    Proportion out;
    if (!(trials > 0)) return out;  // also catches NaN
    const double n = trials;
    const double k = std::clamp(successes, 0.0, n);
    const double p = k / n;
    const double z2 = z * z;
    const double denom = 1.0 + z2 / n;
    const double center = (p + z2 / (2.0 * n)) / denom;
    const double half = z / denom * std::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n));
    out.successes = k;
    out.trials = n;
    out.estimate = p;
    out.low = k == 0 ? 0.0 : std::max(0.0, center - half);  // exact at the ends (no rounding residue)
    out.high = k == n ? 1.0 : std::min(1.0, center + half);
    return out;
}

}  // namespace duet::arena
