#pragma once
/// @file generate.hpp
/// @brief The notebook's genre-structured low-rank rating model, generated in parallel at any scale.
///
/// Model (defaults are the notebook's): user factors U ~ Exponential(1); each item has a primary
/// genre (uniform) and loadings Exponential(0.3) plus Uniform(1.5, 3) on its primary genre; true
/// rating R = U M^T min-max normalised to [1, 5]; observed value = R + Normal(0, noise), clipped to
/// [1, 5]; each (user, item) observed with probability `density` (optionally skewed by item
/// popularity and user activity); users topped up to >= min_per_user and items to >= min_per_item.
///
/// With skew, item j is observed by user u with probability min(1, density * a_u * w_j), where the
/// item weights w (Zipf over a random ranking of the items) and the user activities a (lognormal)
/// have mean 1: the expected density is `density` unless very active users meet very popular items
/// and the cap at 1 bites.
///
/// The min-max range is that of the original study's size: users 0-79 x items 0-49 (all pairs of
/// a smaller set). Every user's and item's factors come from their own index, so a larger set
/// shares that block and its map, and its true ratings (clipped to [1, 5]) have the same
/// distribution at any size: the range over all pairs would widen with the set (its extremes grow)
/// and crowd the ratings towards 1.
///
/// Profiles: `notebook` (the above); `movielens`: ratings in whole stars 1-5 with MovieLens 100K's
/// histogram (6.1, 11.4, 27.1, 34.2, 21.2 %: mean 3.53, sd 1.13), long-tailed activity and
/// popularity (lognormal:1 and zipf:0.9 unless given), keeping the low-rank structure: each value
/// R + noise goes through the model's own distribution function (from a fixed reference sample
/// of 65,536 pairs: the same map at any size) and the histogram's quantiles.
///
/// Every draw comes from a counter-based stream keyed by (seed, purpose, row), so the output is
/// identical for any number of ranks or threads. No rank ever holds users x items of anything.

#include <cstdint>
#include <string>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct GenerateParams {
    std::int64_t users = 80;
    std::int64_t items = 50;
    int genres = 5;
    std::uint64_t rng_seed = 42;
    double noise = 0.3;
    double density = 0.25;
    std::int64_t min_per_user = 3;
    std::int64_t min_per_item = 2;
    double test_fraction = 0.0;             ///< > 0: store a split (/split/is_test)
    std::string item_popularity = "uniform";  ///< uniform | zipf:S
    std::string user_activity = "uniform";    ///< uniform | lognormal:SIGMA
    /// Values are counts Poisson(implicit_scale * exp(implicit_sharpness * (R - 1))); candidates
    /// with count 0 are dropped, so what remains leans towards each user's tastes.
    bool implicit = false;
    double implicit_scale = 0.1;
    double implicit_sharpness = 4.0;
    /// notebook: the continuous 1-5 ratings of the original study; movielens: whole stars with
    /// MovieLens's histogram and skew.
    std::string profile = "notebook";

    /// Throws InputError naming the bad field.
    void validate() const;
    /// Skew parameters parsed from item_popularity / user_activity (0 = uniform).
    double zipf_exponent() const;
    double lognormal_sigma() const;
};

/// The ground truth every rank knows (items and genres are small).
struct GenreModel {
    std::vector<std::string> genre_names;
    std::vector<std::int32_t> item_genre;    ///< primary genre per item
    std::vector<double> item_factors;        ///< items x genres, row-major
    std::vector<double> item_weight;         ///< relative popularity per item (mean 1)
    double true_min = 0.0;                   ///< min / max of U M^T used for normalisation
    double true_max = 1.0;
    bool exact_minmax = true;                ///< the range covers every pair (no larger than 80 x 50)
    /// --profile movielens: the sorted values (R + noise) of the reference sample: their
    /// distribution function maps a value to a star.
    std::vector<double> reference_values;
};

/// --profile movielens: the whole star (1-5) of a value R + noise.
double movielens_stars(const GenreModel& m, double value);

/// This rank's block of generated data.
struct GeneratedBlock {
    BlockPartition users;                    ///< uniform user blocks
    std::vector<double> user_factors;        ///< my users x genres, row-major
    RatingSlice ratings;                     ///< my users' ratings in (user, item) order
    std::vector<double> truth;               ///< noise-free rating of each of my ratings
};

/// This rank's users' observed items, before any value is drawn: what the values and the split
/// are made from, at 4 bytes per rating.
struct ObservedBlock {
    BlockPartition users;                             ///< uniform user blocks
    std::int64_t row0 = 0;                            ///< my first user
    std::vector<double> user_factors;                 ///< my users x genres, row-major
    std::vector<std::vector<std::int32_t>> items;     ///< per local user: observed items, ascending
};

/// The noise-free rating of a user (genre factors `uf`) for an item (`mf`) under `m`: the dot
/// product mapped linearly from [true_min, true_max] onto [1, 5], clipped unless the min-max is
/// exact (then it is within [1, 5] already). The one copy of this formula.
double true_rating(const GenreModel& m, const double* uf, const double* mf, int genres);

/// Genre names: the notebook's five, then "Genre6", "Genre7", ...
std::vector<std::string> genre_names(int genres);

/// Item side of the model and the normalisation range. Collective (the range is reduced).
GenreModel make_genre_model(const GenerateParams& p, const Comm& comm);

/// User factors of users [u0, u1), row-major.
std::vector<double> make_user_factors(const GenerateParams& p, std::int64_t u0, std::int64_t u1);

/// Draws which items this rank's users rate, with both top-ups. Collective (per-item top-ups need
/// global item counts).
ObservedBlock observe_block(const GenerateParams& p, const GenreModel& model, const Comm& comm);

/// Appends the ratings of local users [r0, r1) of `b` to `out` (user, item, value) and their
/// noise-free values to `truth`. Each user's values come from that user's own stream, so any
/// batching gives the same ratings. With --implicit, count-0 candidates are left out. `per_user`
/// (ratings_per_user's counts for every local user) saves drawing the implicit counts twice.
void fill_ratings(const GenerateParams& p, const GenreModel& model, const ObservedBlock& b, std::int64_t r0,
                  std::int64_t r1, RatingSlice& out, std::vector<double>& truth,
                  const std::vector<std::int64_t>* per_user = nullptr);

/// The (user, item) pairs that fill_ratings gives for every local user, in the same order, without
/// keeping values (8 bytes a rating instead of 24): enough to choose a split. `per_user` is
/// ratings_per_user's result.
void rating_pairs(const GenerateParams& p, const GenreModel& model, const ObservedBlock& b,
                  const std::vector<std::int64_t>& per_user, std::vector<std::int32_t>& user,
                  std::vector<std::int32_t>& item);

/// Ratings per local user that fill_ratings gives (fewer than the observed items with --implicit).
/// `largest`, when given, gets the largest rating value on this rank: the largest drawn count with
/// --implicit (from the same draws), 5 otherwise.
std::vector<std::int64_t> ratings_per_user(const GenerateParams& p, const GenreModel& model, const ObservedBlock& b,
                                           double* largest = nullptr);

/// Generates this rank's users' ratings at once: observe_block, then fill_ratings over every user.
/// Collective.
GeneratedBlock generate_block(const GenerateParams& p, const GenreModel& model, const Comm& comm);

}  // namespace distcf
