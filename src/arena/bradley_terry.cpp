// bradley_terry.cpp: Newton's method for the Bradley-Terry log-likelihood with a prior (see the header).
#include "arena/bradley_terry.h"

#include <algorithm>
#include <cmath>

#include "common/assert.h"

namespace duet::arena {

PairCounts::PairCounts(int k)
    : num_models(k),
      left_wins(static_cast<size_t>(k) * k, 0),
      right_wins(static_cast<size_t>(k) * k, 0),
      ties(static_cast<size_t>(k) * k, 0) {}

void PairCounts::add(int left, int right, Outcome outcome, int64_t count) {
    DUET_ASSERT(left >= 0 && left < num_models && right >= 0 && right < num_models && left != right);
    const size_t at = static_cast<size_t>(left) * num_models + right;
    switch (outcome) {
        case Outcome::left_wins:
            left_wins[at] += count;
            break;
        case Outcome::right_wins:
            right_wins[at] += count;
            break;
        case Outcome::tie:
        case Outcome::both_bad:
            ties[at] += count;
            break;
    }
}

int64_t PairCounts::games(int left, int right) const {
    const size_t at = static_cast<size_t>(left) * num_models + right;
    return left_wins[at] + right_wins[at] + ties[at];
}

int64_t PairCounts::total_games() const {
    int64_t total = 0;
    for (size_t i = 0; i < left_wins.size(); ++i) total += left_wins[i] + right_wins[i] + ties[i];
    return total;
}

namespace {

// Keeps exp() finite when the prior is 0 and the maximum lies at infinity.
constexpr double kMaxLogStrength = 30.0;

double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

// log(1 + exp(x)) without overflow.
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// Parameters: x[0..K) = b, x[K] = a (only when the position term is fitted).
struct Problem {
    const PairCounts& counts;
    const FitOptions& options;
    int k;
    int dim;

    double advantage(const std::vector<double>& x) const { return options.position_term ? x[k] : 0.0; }

    double log_likelihood(const std::vector<double>& x) const {
        const double a = advantage(x);
        const double prior = options.prior_games;
        double sum = 0;
        for (int i = 0; i < k; ++i) {
            for (int j = 0; j < k; ++j) {
                if (i == j) continue;
                const size_t at = static_cast<size_t>(i) * k + j;
                const double n = static_cast<double>(counts.left_wins[at] + counts.right_wins[at] + counts.ties[at]);
                if (n == 0) continue;
                const double w = counts.left_wins[at] + 0.5 * counts.ties[at];
                const double d = a + x[i] - x[j];
                sum += w * d - n * softplus(d);
            }
            sum += prior * (0.5 * x[i] - softplus(x[i]));
        }
        if (options.position_term) sum += prior * (0.5 * a - softplus(a));
        return sum;
    }

    // Gradient g and the negated Hessian h (dim x dim, positive semi-definite).
    void derivatives(const std::vector<double>& x, std::vector<double>& g, std::vector<double>& h) const {
        std::fill(g.begin(), g.end(), 0.0);
        std::fill(h.begin(), h.end(), 0.0);
        const double a = advantage(x);
        const double prior = options.prior_games;
        auto add_h = [&](int r, int c, double v) { h[static_cast<size_t>(r) * dim + c] += v; };
        for (int i = 0; i < k; ++i) {
            for (int j = 0; j < k; ++j) {
                if (i == j) continue;
                const size_t at = static_cast<size_t>(i) * k + j;
                const double n = static_cast<double>(counts.left_wins[at] + counts.right_wins[at] + counts.ties[at]);
                if (n == 0) continue;
                const double w = counts.left_wins[at] + 0.5 * counts.ties[at];
                const double p = sigmoid(a + x[i] - x[j]);
                const double r = w - n * p;
                const double v = n * p * (1.0 - p);
                g[i] += r;
                g[j] -= r;
                add_h(i, i, v);
                add_h(j, j, v);
                add_h(i, j, -v);
                add_h(j, i, -v);
                if (options.position_term) {
                    g[k] += r;
                    add_h(k, k, v);
                    add_h(k, i, v);
                    add_h(i, k, v);
                    add_h(k, j, -v);
                    add_h(j, k, -v);
                }
            }
            const double p = sigmoid(x[i]);
            g[i] += prior * (0.5 - p);
            add_h(i, i, prior * p * (1.0 - p));
        }
        if (options.position_term) {
            const double p = sigmoid(a);
            g[k] += prior * (0.5 - p);
            add_h(k, k, prior * p * (1.0 - p));
        }
    }
};

// Solves h * step = g in place (h symmetric positive definite; a tiny ridge is added when it is only
// semi-definite, e.g. prior 0 and a model without games). Returns false when it still fails.
bool solve_spd(std::vector<double> h, std::vector<double>& g, int dim) {
    auto at = [dim](int r, int c) { return static_cast<size_t>(r) * dim + c; };
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (attempt == 1)
            for (int i = 0; i < dim; ++i) h[at(i, i)] += 1e-9 + 1e-12 * h[at(i, i)];
        std::vector<double> l(h);  // Cholesky factor in the lower triangle
        bool ok = true;
        for (int c = 0; c < dim && ok; ++c) {
            double diag = l[at(c, c)];
            for (int m = 0; m < c; ++m) diag -= l[at(c, m)] * l[at(c, m)];
            if (!(diag > 0)) {
                ok = false;
                break;
            }
            const double root = std::sqrt(diag);
            l[at(c, c)] = root;
            for (int r = c + 1; r < dim; ++r) {
                double v = l[at(r, c)];
                for (int m = 0; m < c; ++m) v -= l[at(r, m)] * l[at(c, m)];
                l[at(r, c)] = v / root;
            }
        }
        if (!ok) continue;
        for (int r = 0; r < dim; ++r) {  // L y = g
            double v = g[r];
            for (int m = 0; m < r; ++m) v -= l[at(r, m)] * g[m];
            g[r] = v / l[at(r, r)];
        }
        for (int r = dim - 1; r >= 0; --r) {  // L^T step = y
            double v = g[r];
            for (int m = r + 1; m < dim; ++m) v -= l[at(m, r)] * g[m];
            g[r] = v / l[at(r, r)];
        }
        return true;
    }
    return false;
}

}  // namespace

FitResult fit_bradley_terry(const PairCounts& counts, const FitOptions& options, const FitResult* start) {
    DUET_ASSERT(options.prior_games >= 0 && options.tolerance > 0 && options.max_iterations >= 0);
    const int k = counts.num_models;
    FitResult result;
    result.log_strength.assign(k, 0.0);
    if (k == 0) {
        result.converged = true;
        return result;
    }
    const Problem problem{counts, options, k, k + (options.position_term ? 1 : 0)};
    const int dim = problem.dim;
    std::vector<double> x(dim, 0.0), g(dim), h(static_cast<size_t>(dim) * dim), trial(dim);
    if (start != nullptr && static_cast<int>(start->log_strength.size()) == k) {
        std::copy(start->log_strength.begin(), start->log_strength.end(), x.begin());
        if (options.position_term) x[k] = start->log_left_advantage;
    }
    double current = problem.log_likelihood(x);
    for (int iter = 0; iter < options.max_iterations; ++iter) {
        problem.derivatives(x, g, h);
        if (!solve_spd(h, g, dim)) break;  // g now holds the Newton step
        double step_scale = 1.0;
        double next = current;
        for (int halving = 0; halving < 40; ++halving, step_scale *= 0.5) {
            for (int i = 0; i < dim; ++i)
                trial[i] = std::clamp(x[i] + step_scale * g[i], -kMaxLogStrength, kMaxLogStrength);
            next = problem.log_likelihood(trial);
            if (next >= current - 1e-12 * std::abs(current)) break;
        }
        double largest = 0;
        for (int i = 0; i < dim; ++i) largest = std::max(largest, std::abs(trial[i] - x[i]));
        x.swap(trial);
        current = next;
        result.iterations = iter + 1;
        if (largest < options.tolerance) {
            // A parameter pinned at the clamp is a maximum at infinity (prior 0), not a converged fit.
            result.converged =
                std::none_of(x.begin(), x.end(), [](double v) { return std::abs(v) >= kMaxLogStrength; });
            break;
        }
    }
    double mean = 0;
    for (int i = 0; i < k; ++i) mean += x[i];
    mean /= k;
    for (int i = 0; i < k; ++i) result.log_strength[i] = x[i] - mean;
    result.log_left_advantage = options.position_term ? x[k] : 0.0;
    return result;
}

}  // namespace duet::arena
