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
};
/// Top `top` for every user (each rank its balanced block of users) into the recommendations
/// file `out` (docs/FORMAT.md). Collective.
AllUsersReport recommend_all_users(const LoadedModel& m, const std::string& out, int top, const ColdStart& cold,
                                   const Comm& comm, const RankBy& by = {});

}  // namespace distcf
