// wilson.h: Wilson score intervals for a binomial proportion (k successes out of n).
//
// Used for every percentage the arena reports (study answers, router agreement, left-side win rate) because it
// stays inside [0, 1] and behaves at k = 0, k = n and small n, where the normal ("Wald") interval does not.
#pragma once

namespace duet::arena {

// z for a two-sided 95% interval (the 97.5% quantile of the standard normal).
inline constexpr double kZ95 = 1.959963984540054;

struct Proportion {
    double successes = 0;  // may be fractional (ties counted as half wins)
    double trials = 0;
    double estimate = 0;  // successes / trials; 0 when trials == 0
    double low = 0;       // Wilson interval; [0, 1] when trials == 0 (nothing is known)
    double high = 1;
};

// Wilson score interval:
//   center = (p + z^2 / 2n) / (1 + z^2 / n)
//   half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2)
// n <= 0 gives estimate 0 and the uninformative [0, 1]. successes is clamped to [0, n].
Proportion wilson_interval(double successes, double trials, double z = kZ95);

}  // namespace duet::arena
