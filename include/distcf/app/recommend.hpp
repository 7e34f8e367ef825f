#pragma once
/// @file recommend.hpp
/// @brief Top-N lists from a model file: for one user (with the cold-start rules) or for every
/// user in parallel into a recommendations file.

#include <cstdint>
#include <string>
#include <vector>

#include "distcf/app/predict.hpp"
#include "distcf/model/recommend.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// What a listed value is: the model's clipped prediction, the baseline's fallback for a cold
/// user, or (similar items) a cosine.
enum class Shown { Prediction, Fallback, Cosine };

struct UserRecommendation {
    bool known = true;            ///< false: the user is not in the model (popular items)
    bool cold = false;            ///< under --cold-start fallback: fewer training ratings than the threshold
    std::int64_t ratings = 0;     ///< the user's training ratings
    std::int64_t excluded = 0;    ///< rated items left out
    bool has_seen = true;         ///< the model file keeps training items to exclude
    std::vector<Scored> list;
    Shown shown = Shown::Prediction;
};
/// The top `top` for the user with external ID `user`. Collective.
UserRecommendation recommend_user(const LoadedModel& m, const std::string& user, int top, const ColdStart& cold,
                                  const Comm& comm, const RankBy& by = {});

/// The value shown for an entry of a list.
double shown_value(const FactorModel& m, const Scored& s, Shown shown);

struct AllUsersReport {
    int top = 0;
    double seconds = 0.0;
    bool has_seen = true;
    /// User-item pairs scored over all pairs: what the item index's bound left to score (1 when
    /// a Bayesian lower bound ranks, which scores every item).
    double scored_fraction = 1.0;
};
/// What recommend --all-users writes: the HDF5 recommendations file (docs/FORMAT.md), or a
/// table of the data's IDs as TSV or CSV.
struct RecommendationsOutput {
    enum class Format { Hdf5, Tsv, Csv };
    Format format = Format::Hdf5;
    std::string command_line;  ///< provenance of the HDF5 file
    /// "hdf5", "tsv", "csv", or "auto"/"" (by the extension of `path`: .tsv, .csv, else HDF5).
    static Format parse(const std::string& format, const std::string& path);
};
/// Top `top` for every user (each rank its balanced block of users, scored a block at a time:
/// memory O(block + users x top)) into `out`. Collective.
AllUsersReport recommend_all_users(const LoadedModel& m, const std::string& out, int top, const ColdStart& cold,
                                   const Comm& comm, const RankBy& by = {}, const RecommendationsOutput& output = {});

}  // namespace distcf
