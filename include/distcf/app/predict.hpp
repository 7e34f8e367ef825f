#pragma once
/// @file predict.hpp
/// @brief Using a trained model file: predictions for pairs, evaluation on test ratings (errors
/// and rankings), and fold-in of new users -- what the predict, evaluate and foldin commands do.

#include <cstdint>
#include <optional>
#include <string>

#include "distcf/data/ratings.hpp"
#include "distcf/model/model.hpp"
#include "distcf/model/recommend.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// A model file loaded for use: the model as its method predicts with it (an SVD model at k, or
/// its chosen k for k = 0) and the ID maps. Collective.
struct LoadedModel {
    std::string path;
    FactorModel model;
    IdMap users, items;
    /// `own_users`: only the rows of this rank's users -- the block of
    /// BlockPartition::balanced(user_counts, ranks) that recommend_all_users and evaluate_ranking
    /// score -- and every item, so that a model larger than one rank's memory can be served.
    static LoadedModel load(const std::string& path, int k, const Comm& comm, bool own_users = false);
};

/// How items are ranked: by the model's score, or -- for a model with uncertainty (Bayesian) -- by
/// the lower confidence bound mean - z sd, so that items few people rated stop crowding the top.
struct RankBy {
    bool lower_bound = false;
    double z = 1.0;
};
/// The scorer for `by` (none when ranking by the score); lcb for a model without uncertainty is
/// refused naming its method.
std::optional<UserScorer> ranking_scorer(const LoadedModel& m, const RankBy& by);

/// Delimited text output: tab- or comma-separated (CSV quoting where needed), with a header line.
enum class TableFormat { Tsv, Csv };
/// "tsv", "csv", or "auto"/"" (by the path: .csv is CSV, anything else TSV).
TableFormat table_format_for(const std::string& format, const std::string& path);

struct PredictReport {
    std::int64_t pairs = 0, unknown_users = 0, unknown_items = 0;
};
/// Predictions for the 'user item' lines of `pairs` into `out` ('-': standard output): a header
/// `user item prediction [sd]`, then one line per pair with its external IDs (with `with_sd` a
/// fourth column, the posterior predictive standard deviation of the rating, nan where the model
/// has none). Rank 0 streams the file (memory independent of its size) and writes atomically.
/// Collective.
PredictReport predict_file(const LoadedModel& m, const std::string& pairs, const std::string& out, const ColdStart& cold,
                           const Comm& comm, bool with_sd = false, TableFormat format = TableFormat::Tsv);

/// Test ratings of a store (.h5: its test side when it has a split) or a 'user item rating' text
/// file, as indices of the model's ID maps (unknown IDs: -1). Each rank holds some of them.
RatingSlice read_test_ratings(const LoadedModel& m, const std::string& test, const Comm& comm);

struct RatingEvaluation {
    double rmse = 0, mae = 0;
    std::int64_t n = 0, cold = 0;
    double cold_rmse = -1, warm_rmse = -1;  ///< -1: no such pairs
    /// Models with uncertainty: the fraction of warm test ratings within prediction +- 1.96 sd
    /// (a calibrated 95% interval covers 0.95 of them); -1: the model has none.
    double coverage95 = -1;
    /// Test ratings that are training ratings of the model (its /seen): many mean that this
    /// measures the fit, not predictions.
    std::int64_t training_pairs = 0;
};
/// RMSE and MAE of the model (under the cold-start policy) on the test ratings. Collective.
RatingEvaluation evaluate_ratings(const LoadedModel& m, const RatingSlice& test, const ColdStart& cold, const Comm& comm);

struct RankingEvaluation {
    RankingMetrics model, popularity;
    bool excluded_seen = true;  ///< false: the model file keeps no training items to exclude
};
/// What a ranking evaluation ranks and counts.
struct RankingOptions {
    int top = 10;             ///< N of precision@N etc.
    double relevant = 4.0;    ///< a test rating at least this is relevant
    /// The share of users ranked, chosen by a keyed hash of (seed, user): the same users on any
    /// number of ranks. 1 ranks every user with a relevant test item; below 1 the metrics are
    /// means over a uniform sample of them (at 10^7 users x 10^6 items ranking everyone is
    /// hours of scoring; a 1% sample is 100,000 users).
    double sample_users = 1.0;
    std::uint64_t sample_seed = 42;
    void validate() const;
};

/// Ranking quality of the model beside a popularity ranking, each user's training items
/// excluded, over the users with a relevant test item (a sample of them, `sample_users` < 1).
/// Collective.
RankingEvaluation evaluate_ranking(const LoadedModel& m, const RatingSlice& test, const RankingOptions& options,
                                   const Comm& comm, const RankBy& by = {});

struct FoldInReport {
    std::int64_t users = 0, added = 0, ratings = 0, unknown_items = 0;
};
/// New users' ratings ('user item rating' lines, external IDs) folded into the model of
/// `model_path`, written to `out_path`: one exact row solve each against the fixed item factors
/// (the method's own fold-in; methods that cannot are refused). Users already in the model are
/// re-solved from the given ratings (their /seen row replaced); ratings of unknown items are
/// skipped and counted. Collective.
FoldInReport fold_in_file(const std::string& model_path, const std::string& ratings, const std::string& out_path,
                          const std::string& command_line, const Comm& comm);

}  // namespace distcf
