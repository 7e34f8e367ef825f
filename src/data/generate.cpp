#include "distcf/data/generate.hpp"
#include "distcf/util/threads.hpp"


#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "distcf/data/rng.hpp"
#include "distcf/error.hpp"

namespace distcf {

namespace {

double parse_skew(const std::string& s, const std::string& kind, const char* field) {
    if (s == "uniform") return 0.0;
    const std::string prefix = kind + ":";
    if (s.rfind(prefix, 0) == 0) {
        try {
            std::size_t pos = 0;
            const double v = std::stod(s.substr(prefix.size()), &pos);
            if (pos == s.size() - prefix.size() && v > 0 && std::isfinite(v)) return v;
        } catch (...) {
        }
    }
    DISTCF_THROW(InputError, std::string(field) + ": expected 'uniform' or '" + kind + ":X' with X > 0, got '" + s + "'");
}

/// Items grouped in popularity bands (weights within a factor 2), for sampling without a dense scan.
struct Band {
    double max_weight;
    std::vector<std::int32_t> items;  // ascending
};

std::vector<Band> make_bands(const std::vector<double>& w) {
    std::vector<Band> bands;
    const double wmin = *std::min_element(w.begin(), w.end());
    const double wmax = *std::max_element(w.begin(), w.end());
    if (wmax <= wmin * (1 + 1e-12)) {
        Band b{wmax, {}};
        b.items.resize(w.size());
        std::iota(b.items.begin(), b.items.end(), 0);
        bands.push_back(std::move(b));
        return bands;
    }
    const int nb = static_cast<int>(std::floor(std::log2(wmax / wmin))) + 1;
    bands.resize(static_cast<std::size_t>(nb));
    for (int b = 0; b < nb; ++b) bands[b].max_weight = wmin * std::ldexp(1.0, b + 1);
    for (std::size_t j = 0; j < w.size(); ++j) {
        const int b = std::min(nb - 1, static_cast<int>(std::floor(std::log2(w[j] / wmin))));
        bands[b].items.push_back(static_cast<std::int32_t>(j));
    }
    return bands;
}

/// Items observed by one user: independent Bernoulli(min(1, rate * w_j)) per item, sampled by
/// geometric skips within each band and thinning, O(observed + bands).
void observe(RowRng& g, double rate, const std::vector<Band>& bands, const std::vector<double>& w,
             std::vector<std::int32_t>& out) {
    out.clear();
    for (const Band& b : bands) {
        const double pb = std::min(1.0, rate * b.max_weight);
        if (pb <= 0) continue;
        const auto n = static_cast<std::int64_t>(b.items.size());
        const bool thin = b.max_weight != w[b.items.front()] || bands.size() > 1;
        if (pb >= 1.0) {
            for (auto j : b.items)
                if (!thin || g.uniform() < std::min(1.0, rate * w[j])) out.push_back(j);
            continue;
        }
        const double log_q = std::log1p(-pb);
        std::int64_t pos = -1;
        while (true) {
            pos += 1 + static_cast<std::int64_t>(std::floor(std::log(g.uniform_open0()) / log_q));
            if (pos >= n) break;
            const auto j = b.items[static_cast<std::size_t>(pos)];
            if (!thin || g.uniform() * pb < std::min(1.0, rate * w[j])) out.push_back(j);
        }
    }
    if (bands.size() > 1) std::sort(out.begin(), out.end());
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define DISTCF_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define DISTCF_CLONES
#endif

// Widens [lo, hi] by the scores f . M_j of one user against every item (mt: genre-major item
// factors); compiled for AVX2/FMA as well as baseline x86-64. Items go in tiles whose partial
// scores stay in L1 across the genres (a whole-row pass streamed the scores through L2 G times).
DISTCF_CLONES void score_range(const double* f, const double* mt, int G, std::int64_t I, double& lo, double& hi) {
    constexpr std::int64_t kTile = 512;
    alignas(64) double dot[kTile];
    double l = lo, h = hi;
    for (std::int64_t j0 = 0; j0 < I; j0 += kTile) {
        const std::int64_t n = std::min(kTile, I - j0);
        for (std::int64_t j = 0; j < n; ++j) dot[j] = 0.0;
        for (int k = 0; k < G; ++k) {
            const double a = f[k];
            const double* col = mt + static_cast<std::size_t>(k) * static_cast<std::size_t>(I) + j0;
#pragma omp simd
            for (std::int64_t j = 0; j < n; ++j) dot[j] += a * col[j];
        }
#pragma omp simd reduction(min : l) reduction(max : h)
        for (std::int64_t j = 0; j < n; ++j) {
            l = dot[j] < l ? dot[j] : l;
            h = dot[j] > h ? dot[j] : h;
        }
    }
    lo = l;
    hi = h;
}

/// `k` distinct values in [0, n) (Floyd's algorithm), unsorted.
std::vector<std::int64_t> distinct(RowRng& g, std::int64_t k, std::int64_t n) {
    std::vector<std::int64_t> s;
    k = std::min(k, n);
    for (std::int64_t j = n - k; j < n; ++j) {
        const auto t = static_cast<std::int64_t>(g.below(static_cast<std::uint64_t>(j + 1)));
        if (std::find(s.begin(), s.end(), t) == s.end()) s.push_back(t);
        else s.push_back(j);
    }
    return s;
}

std::int64_t poisson(RowRng& g, double lambda) {
    if (lambda <= 0) return 0;
    if (lambda > 30) return std::max<std::int64_t>(0, std::llround(lambda + std::sqrt(lambda) * g.normal()));
    const double limit = std::exp(-lambda);
    std::int64_t k = 0;
    double prod = g.uniform_open0();
    while (prod > limit) {
        ++k;
        prod *= g.uniform_open0();
    }
    return k;
}

}  // namespace

void GenerateParams::validate() const {
    if (users < 1) DISTCF_THROW(ParameterError, "users: must be >= 1");
    if (items < 1) DISTCF_THROW(ParameterError, "items: must be >= 1");
    if (users > std::numeric_limits<std::int32_t>::max() || items > std::numeric_limits<std::int32_t>::max())
        DISTCF_THROW(ParameterError, "users/items: at most 2^31-1");
    if (genres < 1) DISTCF_THROW(ParameterError, "genres: must be >= 1");
    if (!(noise >= 0) || !std::isfinite(noise)) DISTCF_THROW(ParameterError, "noise: must be >= 0");
    if (!(density > 0 && density <= 1)) DISTCF_THROW(ParameterError, "density: must be in (0, 1]");
    if (min_per_user < 0 || min_per_user > items) DISTCF_THROW(ParameterError, "min-per-user: must be in [0, items]");
    if (min_per_item < 0 || min_per_item > users) DISTCF_THROW(ParameterError, "min-per-item: must be in [0, users]");
    if (!(test_fraction >= 0 && test_fraction < 1)) DISTCF_THROW(ParameterError, "test-fraction: must be in [0, 1)");
    if (!(implicit_scale > 0)) DISTCF_THROW(ParameterError, "implicit-scale: must be > 0");
    if (!(implicit_sharpness >= 0)) DISTCF_THROW(ParameterError, "implicit-sharpness: must be >= 0");
    if (profile != "notebook" && profile != "movielens")
        DISTCF_THROW(ParameterError, "profile: notebook or movielens, got '" + profile + "'");
    if (profile == "movielens" && implicit) DISTCF_THROW(ParameterError, "profile: movielens makes ratings, not --implicit counts");
    zipf_exponent();
    lognormal_sigma();
}

double GenerateParams::zipf_exponent() const { return parse_skew(item_popularity, "zipf", "item-popularity"); }
double GenerateParams::lognormal_sigma() const { return parse_skew(user_activity, "lognormal", "user-activity"); }

std::vector<std::string> genre_names(int genres) {
    static const char* seed_names[] = {"Action", "Comedy", "Drama", "SciFi", "Horror"};
    std::vector<std::string> v;
    for (int g = 0; g < genres; ++g) v.push_back(g < 5 ? seed_names[g] : "Genre" + std::to_string(g + 1));
    return v;
}

std::vector<double> make_user_factors(const GenerateParams& p, std::int64_t u0, std::int64_t u1) {
    const int G = p.genres;
    std::vector<double> f(static_cast<std::size_t>((u1 - u0) * G));
#pragma omp parallel for schedule(static) if (worth_threads(static_cast<double>(u1 - u0) * G * 30))
    for (std::int64_t u = u0; u < u1; ++u) {
        RowRng g(p.rng_seed, Stream::UserFactors, static_cast<std::uint64_t>(u));
        for (int k = 0; k < G; ++k) f[static_cast<std::size_t>((u - u0) * G + k)] = g.exponential(1.0);
    }
    return f;
}

GenreModel make_genre_model(const GenerateParams& p, const Comm& comm) {
    p.validate();
    const int G = p.genres;
    const std::int64_t I = p.items;
    GenreModel m;
    m.genre_names = genre_names(G);
    m.item_genre.resize(static_cast<std::size_t>(I));
    m.item_factors.resize(static_cast<std::size_t>(I * G));
    for (std::int64_t j = 0; j < I; ++j) {
        RowRng gg(p.rng_seed, Stream::ItemGenre, static_cast<std::uint64_t>(j));
        const int primary = static_cast<int>(gg.below(static_cast<std::uint64_t>(G)));
        m.item_genre[j] = primary;
        RowRng gf(p.rng_seed, Stream::ItemFactors, static_cast<std::uint64_t>(j));
        for (int k = 0; k < G; ++k) m.item_factors[j * G + k] = gf.exponential(0.3);
        m.item_factors[j * G + primary] += gf.uniform(1.5, 3.0);
    }
    // Popularity: Zipf over a random ranking of the items, normalised to mean 1.
    m.item_weight.assign(static_cast<std::size_t>(I), 1.0);
    if (const double s = p.zipf_exponent(); s > 0) {
        std::vector<std::int64_t> order(static_cast<std::size_t>(I));
        std::iota(order.begin(), order.end(), 0);
        std::vector<std::uint64_t> key(static_cast<std::size_t>(I));
        for (std::int64_t j = 0; j < I; ++j) key[j] = random_word(p.rng_seed, Stream::Popularity, static_cast<std::uint64_t>(j), 0);
        std::sort(order.begin(), order.end(), [&](auto a, auto b) { return key[a] < key[b]; });
        double sum = 0;
        for (std::int64_t r = 0; r < I; ++r) sum += m.item_weight[order[r]] = std::pow(static_cast<double>(r + 1), -s);
        for (auto& w : m.item_weight) w *= static_cast<double>(I) / sum;
    }

    // Min and max of U M^T over the reference block: the original study's 80 users x 50 items
    // (all pairs of a smaller set). Every rank computes the same 4,000 products.
    constexpr std::int64_t kRefUsers = 80, kRefItems = 50;
    const std::int64_t ru = std::min(p.users, kRefUsers), ri = std::min(I, kRefItems);
    m.exact_minmax = p.users <= kRefUsers && I <= kRefItems;
    std::vector<double> mt(static_cast<std::size_t>(G * ri));
    for (std::int64_t j = 0; j < ri; ++j)
        for (int k = 0; k < G; ++k) mt[static_cast<std::size_t>(k * ri + j)] = m.item_factors[static_cast<std::size_t>(j * G + k)];
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    const auto f = make_user_factors(p, 0, ru);
    for (std::int64_t u = 0; u < ru; ++u) score_range(f.data() + u * G, mt.data(), G, ri, lo, hi);
    m.true_min = lo;
    m.true_max = hi;
    (void)comm;
    if (p.profile == "movielens") {
        // The model's distribution of R + noise, from pairs drawn afresh (users and items from the
        // model's own distributions, on a stream of their own): the same at any size.
        constexpr int kReference = 65536;
        m.reference_values.resize(kReference);
        std::vector<double> uf(static_cast<std::size_t>(G)), mf(static_cast<std::size_t>(G));
        for (int q = 0; q < kReference; ++q) {
            RowRng g(p.rng_seed, Stream::Reference, static_cast<std::uint64_t>(q));
            for (int k = 0; k < G; ++k) uf[k] = g.exponential(1.0);
            const int primary = static_cast<int>(g.below(static_cast<std::uint64_t>(G)));
            for (int k = 0; k < G; ++k) mf[k] = g.exponential(0.3);
            mf[primary] += g.uniform(1.5, 3.0);
            m.reference_values[q] = true_rating(m, uf.data(), mf.data(), G) + p.noise * g.normal();
        }
        std::sort(m.reference_values.begin(), m.reference_values.end());
    }
    return m;
}

double movielens_stars(const GenreModel& m, double value) {
    // MovieLens 100K's star histogram, cumulative: 1 6.11 %, 2 11.37 %, 3 27.15 %, 4 34.17 %, 5 21.20 %.
    static constexpr double kCumulative[] = {0.0611, 0.1748, 0.4463, 0.7880};
    const auto& ref = m.reference_values;
    const double F = static_cast<double>(std::upper_bound(ref.begin(), ref.end(), value) - ref.begin()) /
                     static_cast<double>(ref.size());
    int star = 1;
    while (star < 5 && F > kCumulative[star - 1]) ++star;
    return star;
}

ObservedBlock observe_block(const GenerateParams& p, const GenreModel& m, const Comm& comm) {
    const std::int64_t I = p.items;
    ObservedBlock out;
    out.users = BlockPartition::uniform(p.users, comm.size());
    const std::int64_t u0 = out.users.begin(comm.rank()), u1 = out.users.end(comm.rank());
    out.row0 = u0;
    out.user_factors = make_user_factors(p, u0, u1);
    const auto bands = make_bands(m.item_weight);
    const double sigma = p.lognormal_sigma();

    // 1. Observed items per user (sorted), user top-ups.
    auto& obs = out.items;
    obs.resize(static_cast<std::size_t>(u1 - u0));
#pragma omp parallel
    {
        std::vector<std::int32_t> tmp;
#pragma omp for schedule(dynamic, 256)
        for (std::int64_t u = u0; u < u1; ++u) {
            double activity = 1.0;
            if (sigma > 0) {
                RowRng ga(p.rng_seed, Stream::Activity, static_cast<std::uint64_t>(u));
                activity = std::exp(sigma * ga.normal() - 0.5 * sigma * sigma);
            }
            RowRng g(p.rng_seed, Stream::Observe, static_cast<std::uint64_t>(u));
            observe(g, p.density * activity, bands, m.item_weight, tmp);
            if (static_cast<std::int64_t>(tmp.size()) < p.min_per_user) {
                RowRng gt(p.rng_seed, Stream::TopUp, static_cast<std::uint64_t>(u));
                for (auto j : distinct(gt, p.min_per_user, I)) tmp.push_back(static_cast<std::int32_t>(j));
                std::sort(tmp.begin(), tmp.end());
                tmp.erase(std::unique(tmp.begin(), tmp.end()), tmp.end());
            }
            obs[static_cast<std::size_t>(u - u0)].assign(tmp.begin(), tmp.end());
        }
    }
    // 2. Item top-ups: global counts, then each deficient item draws its users; owners add them.
    std::vector<std::int64_t> item_count(static_cast<std::size_t>(I), 0);
    for (const auto& v : obs)
        for (auto j : v) ++item_count[static_cast<std::size_t>(j)];
    comm.sum_in_place(item_count);
    for (std::int64_t j = 0; j < I; ++j) {
        if (item_count[j] >= p.min_per_item) continue;
        RowRng gt(p.rng_seed, Stream::TopUp, static_cast<std::uint64_t>(p.users + j));
        for (auto u : distinct(gt, p.min_per_item, p.users)) {
            if (u < u0 || u >= u1) continue;
            auto& v = obs[static_cast<std::size_t>(u - u0)];
            auto it = std::lower_bound(v.begin(), v.end(), static_cast<std::int32_t>(j));
            if (it == v.end() || *it != j) v.insert(it, static_cast<std::int32_t>(j));
        }
    }
    return out;
}

double true_rating(const GenreModel& m, const double* uf, const double* mf, int genres) {
    double dot = 0;
    for (int f = 0; f < genres; ++f) dot += uf[f] * mf[f];
    const double t = 1.0 + 4.0 / (m.true_max - m.true_min) * (dot - m.true_min);
    return m.exact_minmax ? t : std::clamp(t, 1.0, 5.0);
}

namespace {

// One user's ratings into u/i/v/t (cleared first): truth, then noise from the user's stream in item
// order, clipped to [1, 5]; with --implicit, counts, the count-0 candidates left out.
void user_ratings(const GenerateParams& p, const GenreModel& m, const ObservedBlock& b, std::int64_t r,
                  std::vector<std::int32_t>& items, std::vector<double>& value, std::vector<double>& truth) {
    const int G = p.genres;
    const double* uf = b.user_factors.data() + r * G;
    items.clear();
    value.clear();
    truth.clear();
    RowRng gn(p.rng_seed, p.implicit ? Stream::Implicit : Stream::Noise, static_cast<std::uint64_t>(b.row0 + r));
    for (auto j : b.items[static_cast<std::size_t>(r)]) {
        const double t = true_rating(m, uf, m.item_factors.data() + static_cast<std::int64_t>(j) * G, G);
        double v = 0;
        if (p.implicit) {
            v = static_cast<double>(poisson(gn, p.implicit_scale * std::exp(p.implicit_sharpness * (t - 1.0))));
        } else {
            const double raw = t + p.noise * gn.normal();
            // Stars from the unclipped value: clipping would tie a seventh of them at 1.
            v = m.reference_values.empty() ? std::clamp(raw, 1.0, 5.0) : movielens_stars(m, raw);
        }
        // A candidate whose count is 0 is not an interaction: what remains leans towards what each
        // user likes, as clicks and plays do.
        if (p.implicit && !(v > 0)) continue;
        items.push_back(j);
        value.push_back(v);
        truth.push_back(t);
    }
}

}  // namespace

namespace {

// Ratings of local users [r0, r1); with --implicit the counts must be drawn, and `largest` (when
// given) gets the largest drawn count in the same pass.
std::vector<std::int64_t> count_range(const GenerateParams& p, const GenreModel& m, const ObservedBlock& b,
                                      std::int64_t r0, std::int64_t r1, double* largest = nullptr) {
    std::vector<std::int64_t> n(static_cast<std::size_t>(r1 - r0));
    if (largest) *largest = 5.0;
    if (!p.implicit) {
        for (std::int64_t r = r0; r < r1; ++r) n[r - r0] = static_cast<std::int64_t>(b.items[r].size());
        return n;
    }
    double mx = 1.0;
#pragma omp parallel reduction(max : mx)
    {
        std::vector<std::int32_t> items;
        std::vector<double> value, truth;
#pragma omp for schedule(dynamic, 256)
        for (std::int64_t r = r0; r < r1; ++r) {
            user_ratings(p, m, b, r, items, value, truth);
            n[r - r0] = static_cast<std::int64_t>(items.size());
            for (double v : value) mx = std::max(mx, v);
        }
    }
    if (largest) *largest = mx;
    return n;
}

}  // namespace

std::vector<std::int64_t> ratings_per_user(const GenerateParams& p, const GenreModel& m, const ObservedBlock& b,
                                           double* largest) {
    return count_range(p, m, b, 0, static_cast<std::int64_t>(b.items.size()), largest);
}

void fill_ratings(const GenerateParams& p, const GenreModel& m, const ObservedBlock& b, std::int64_t r0,
                  std::int64_t r1, RatingSlice& out, std::vector<double>& truth, const std::vector<std::int64_t>* per_user) {
    if (per_user && per_user->size() != b.items.size())
        DISTCF_THROW(InputError, "fill_ratings: one count per local user is needed");
    // Counts first, so that threads fill disjoint ranges of the output in user order.
    const std::vector<std::int64_t> count =
        per_user ? std::vector<std::int64_t>(per_user->begin() + r0, per_user->begin() + r1) : count_range(p, m, b, r0, r1);
    std::vector<std::int64_t> start(count.size() + 1, 0);
    for (std::size_t r = 0; r < count.size(); ++r) start[r + 1] = start[r] + count[r];
    const auto base = static_cast<std::size_t>(out.size());
    const auto n = static_cast<std::size_t>(start.back());
    out.user.resize(base + n);
    out.item.resize(base + n);
    out.value.resize(base + n);
    truth.resize(base + n);
#pragma omp parallel
    {
        std::vector<std::int32_t> items;
        std::vector<double> value, t;
#pragma omp for schedule(dynamic, 64)
        for (std::int64_t r = r0; r < r1; ++r) {
            user_ratings(p, m, b, r, items, value, t);
            const auto k = base + static_cast<std::size_t>(start[r - r0]);
            std::fill_n(out.user.begin() + k, items.size(), static_cast<std::int32_t>(b.row0 + r));
            std::copy(items.begin(), items.end(), out.item.begin() + k);
            std::copy(value.begin(), value.end(), out.value.begin() + k);
            std::copy(t.begin(), t.end(), truth.begin() + k);
        }
    }
}

void rating_pairs(const GenerateParams& p, const GenreModel& m, const ObservedBlock& b,
                  const std::vector<std::int64_t>& per_user, std::vector<std::int32_t>& user,
                  std::vector<std::int32_t>& item) {
    const auto rows = static_cast<std::int64_t>(b.items.size());
    if (per_user.size() != b.items.size()) DISTCF_THROW(InputError, "rating_pairs: one count per local user is needed");
    std::vector<std::int64_t> start(per_user.size() + 1, 0);
    for (std::size_t r = 0; r < per_user.size(); ++r) start[r + 1] = start[r] + per_user[r];
    user.resize(static_cast<std::size_t>(start.back()));
    item.resize(user.size());
#pragma omp parallel
    {
        std::vector<std::int32_t> items;
        std::vector<double> value, truth;
#pragma omp for schedule(dynamic, 64)
        for (std::int64_t r = 0; r < rows; ++r) {
            const std::vector<std::int32_t>* kept = &b.items[static_cast<std::size_t>(r)];
            if (p.implicit) {  // which candidates survive depends on their drawn counts
                user_ratings(p, m, b, r, items, value, truth);
                kept = &items;
            }
            const auto k = static_cast<std::size_t>(start[r]);
            std::fill_n(user.begin() + k, kept->size(), static_cast<std::int32_t>(b.row0 + r));
            std::copy(kept->begin(), kept->end(), item.begin() + k);
        }
    }
}

GeneratedBlock generate_block(const GenerateParams& p, const GenreModel& m, const Comm& comm) {
    ObservedBlock b = observe_block(p, m, comm);
    GeneratedBlock out;
    fill_ratings(p, m, b, 0, static_cast<std::int64_t>(b.items.size()), out.ratings, out.truth);
    out.users = b.users;
    out.user_factors = std::move(b.user_factors);
    return out;
}

}  // namespace distcf
