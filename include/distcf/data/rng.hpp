#pragma once
/// @file rng.hpp
/// @brief Counter-based random numbers (Philox4x64 from Random123): every draw is a pure function of
/// (seed, stream, row, index), so results never depend on the number of ranks or threads.

#include <Random123/philox.h>

#include <cmath>
#include <cstdint>

namespace distcf {

/// Stream tags: independent purposes draw from independent streams of the same seed.
enum class Stream : std::uint64_t {
    Split = 1,
    UserFactors = 2,
    ItemFactors = 3,
    ItemGenre = 4,
    Observe = 5,
    Noise = 6,
    TopUp = 7,
    InitUser = 8,
    InitItem = 9,
    Popularity = 10,
    Activity = 11,
    Implicit = 12,
    Fold = 13,
    Sketch = 14,
    Gibbs = 15,   ///< row draws of Bayesian MF, epoch = 2 sweep + side
    Hyper = 16,   ///< hyperparameter draws of Bayesian MF, row = side (2: noise precision), epoch = sweep
    Reference = 17,  ///< the generator's reference sample of (user, item) pairs (--profile movielens)
    RankingSample = 18,  ///< the users evaluate --ranking --sample-users ranks, row = user
    ValidationSample = 19,  ///< the users implicit ALS ranks for its validation measure, row = user
};

/// One 64-bit random word for (seed, stream, a, b): a keyed hash, used for ordering and selection.
inline std::uint64_t random_word(std::uint64_t seed, Stream s, std::uint64_t a, std::uint64_t b) {
    r123::Philox4x64 g;
    r123::Philox4x64::key_type k = {{seed, static_cast<std::uint64_t>(s)}};
    r123::Philox4x64::ctr_type c = {{a, b, 0, 0}};
    return g(c, k)[0];
}

/// A sequence of draws for one row of one stream: draw j of row r is the same wherever it is made.
class RowRng {
public:
    RowRng(std::uint64_t seed, Stream s, std::uint64_t row) : key_{{seed, static_cast<std::uint64_t>(s)}}, row_(row) {}
    /// Draws of `row` at `epoch` (a sweep, say): another epoch is another independent sequence.
    RowRng(std::uint64_t seed, Stream s, std::uint64_t row, std::uint64_t epoch)
        : key_{{seed, static_cast<std::uint64_t>(s)}}, row_(row), epoch_(epoch) {}

    std::uint64_t next_u64() {
        if (used_ == 4) refill();
        return buf_[used_++];
    }
    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
    /// Uniform in (0, 1].
    double uniform_open0() { return (static_cast<double>(next_u64() >> 11) + 1.0) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    /// Exponential with the given scale (mean).
    double exponential(double scale) { return -scale * std::log(uniform_open0()); }
    /// Standard normal (Box-Muller; the second value is kept for the next call).
    double normal() {
        if (have_spare_) {
            have_spare_ = false;
            return spare_;
        }
        const double u1 = uniform_open0(), u2 = uniform();
        const double rad = std::sqrt(-2.0 * std::log(u1));
        spare_ = rad * std::sin(2.0 * M_PI * u2);
        have_spare_ = true;
        return rad * std::cos(2.0 * M_PI * u2);
    }
    double normal(double mean, double sd) { return mean + sd * normal(); }
    /// Gamma(shape, scale) (Marsaglia and Tsang 2000; shape < 1 through the boost
    /// Gamma(shape + 1) U^(1 / shape)).
    double gamma(double shape, double scale = 1.0) {
        if (shape < 1.0) return gamma(shape + 1.0, scale) * std::pow(uniform_open0(), 1.0 / shape);
        const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
        while (true) {
            double x, v;
            do {
                x = normal();
                v = 1.0 + c * x;
            } while (v <= 0.0);
            v = v * v * v;
            const double u = uniform_open0();
            if (u < 1.0 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return scale * d * v;
        }
    }
    /// Chi-square with `dof` degrees of freedom.
    double chi_square(double dof) { return gamma(0.5 * dof, 2.0); }
    /// Uniform integer in [0, n) (Lemire's multiply-shift with rejection: unbiased).
    std::uint64_t below(std::uint64_t n) {
        if (n == 0) return 0;
        while (true) {
            const unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * n;
            const auto low = static_cast<std::uint64_t>(m);
            if (low >= n || low >= (-n) % n) return static_cast<std::uint64_t>(m >> 64);
        }
    }

private:
    void refill() {
        r123::Philox4x64 g;
        r123::Philox4x64::ctr_type c = {{row_, counter_++, epoch_, 0}};
        const auto r = g(c, key_);
        for (int i = 0; i < 4; ++i) buf_[i] = r[i];
        used_ = 0;
    }
    r123::Philox4x64::key_type key_;
    std::uint64_t row_;
    std::uint64_t epoch_ = 0;
    std::uint64_t counter_ = 0;
    std::uint64_t buf_[4] = {0, 0, 0, 0};
    int used_ = 4;
    bool have_spare_ = false;
    double spare_ = 0.0;
};

}  // namespace distcf
