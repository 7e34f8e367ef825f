#pragma once
/// @file model.hpp
/// @brief A trained factor model (any registered method): mean, biases, factors, history; predicts.
///
/// Every rank holds the whole model, except where a training run under a targeted exchange was
/// asked to leave each rank its own rows (FactorModel::rows): save_model then writes each rank's
/// block, and the file is the same. Saving and loading are the app floor's
/// (distcf/app/model_file.hpp): this floor has no I/O.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/model/params.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// Per-iteration record of a training run.
struct History {
    std::vector<double> objective, train_rmse, test_rmse, seconds, gflops;
    void push(double obj, double tr, double te, double sec, double gf) {
        objective.push_back(obj);
        train_rmse.push_back(tr);
        test_rmse.push_back(te);
        seconds.push_back(sec);
        gflops.push_back(gf);
    }
    std::size_t size() const { return objective.size(); }
};

/// Which factor rows a model holds: U (and user_bias) hold users [user_begin, user_begin +
/// U.size() / k), V (and item_bias) items from item_begin. A model with every row has both at 0
/// and whole arrays; a targeted run's result holds each rank's own blocks, and a model read for
/// recommending to this rank's users holds their rows and every item.
struct HeldRows {
    std::int64_t user_begin = 0, item_begin = 0;
};

/// prediction(u, i) = clip(mu + user_bias[u] + item_bias[i] + factor_scale U[u] . V[i],
/// rating_min, rating_max) (terms a method does not learn are zero). A Bayesian model stores its S
/// kept samples side by side (k factors each) with factor_scale = 1 / S: the score is then the
/// posterior mean of the sampled scores.
struct FactorModel {
    std::string method = "baseline";   ///< the registered method's name (distcf/app/method.hpp)
    ParamRecord params;                ///< the method's parameters, typed (formulation among them)
    int n_factors = 0;                 ///< k: factors per row (0 for the baseline)
    int k_selected = 0;                ///< methods that choose k among their factors (SVD); 0: all
    double factor_scale = 1.0;         ///< multiplies U[u] . V[i] (1 / samples for a Bayesian model)
    std::int64_t n_users = 0, n_items = 0;
    double mu = 0.0;                   ///< offset inside the score (0 for the notebook formulation)
    double global_mean = 0.0;          ///< mean training rating: the fallback for unknown rows
    double rating_min = 1.0, rating_max = 5.0;
    std::vector<double> user_bias, item_bias;  ///< n_users / n_items (may be all zero)
    std::vector<double> U, V;                  ///< n_users x n_factors, n_items x n_factors, row-major
    std::vector<std::int64_t> user_counts, item_counts;  ///< training ratings per row
    std::int64_t iterations_done = 0;
    /// Early stopping: the iteration whose factors the model holds (0: the last one).
    std::int64_t best_iteration = 0;
    /// false: a checkpoint of a run still under way, or killed (--resume continues it).
    bool complete = true;
    History history;
    /// A method's own arrays beyond the above (a Gibbs chain's current sample and hyperparameters),
    /// kept in the model file under /state so that training can resume.
    std::map<std::string, std::vector<double>> state;
    /// The rows held (score() and predict() take global indices of held rows).
    HeldRows rows;

    /// A model of `method` for this training data: shape, scale, row counts and mean taken from
    /// it; no parameters, biases or factors yet.
    static FactorModel for_data(const RatingBlocks& train, std::string method);

    /// Unclipped score.
    double score(std::int64_t u, std::int64_t i) const;
    /// Clipped prediction.
    double predict(std::int64_t u, std::int64_t i) const;
    /// Fallback for an unknown user and/or item: the baseline part that is known.
    double fallback(std::int64_t u, std::int64_t i) const;
};

/// True when `m` holds every user and item row (HeldRows).
bool holds_every_row(const FactorModel& m);

/// What predict, evaluate and recommend do for users and items with few training ratings.
struct ColdStart {
    /// fallback: a pair whose user or item has fewer than `threshold` training ratings (or is
    /// unknown) gets no factors: a cold user gets the item's regularised mean mu + b_i (its own
    /// bias rests on a rating or two), a cold item with a warm user the baseline mu + b_u + b_i.
    /// model: the model's own prediction whenever both are known (unknown ones always fall back).
    std::string policy = "model";
    std::int64_t threshold = 3;
    void validate() const;
};

/// True when u or i (-1: unknown) is cold under `c`.
bool is_cold(const FactorModel& m, std::int64_t u, std::int64_t i, const ColdStart& c);
/// The prediction under the cold-start policy (clipped).
double predict(const FactorModel& m, std::int64_t u, std::int64_t i, const ColdStart& c);

/// The model restricted to its first k factors (an SVD model stores the largest k of its sweep;
/// its columns are ordered by singular value). k = 0 means the model's own choice: k_selected
/// when the method chose one, else all factors.
FactorModel with_factors(FactorModel m, int k);

/// Squared-error sum and count of predictions on the CSR rows (rows = users), clipped.
struct ErrorSums {
    double sse = 0.0, sae = 0.0;
    std::int64_t n = 0;
};
/// RMSE/MAE sums over this rank's rows, added in user order across ranks (rank-count invariant).
ErrorSums error_sums(const FactorModel& m, const Csr& by_user, const BlockPartition& users, const Comm& comm);
double rmse(const ErrorSums& e);

/// factor_scale x (RMS norm of the user factor rows) x (RMS norm of the item factor rows): a bound
/// on the RMS of the factor part of the scores, near 0 when regularisation has driven the factors
/// to zero and the model is its biases alone. Works on a whole model and on one holding each
/// rank's own rows. Collective.
double factor_norm_rms(const FactorModel& m, const Comm& comm);

/// A block of users' training items (what recommendation excludes): rows [row0, row0 + rows()).
struct SeenItems {
    std::int64_t row0 = 0;
    std::vector<std::int64_t> ptr{0};
    std::vector<std::int32_t> items;  ///< ascending within each row
    std::int64_t rows() const { return static_cast<std::int64_t>(ptr.size()) - 1; }
};

}  // namespace distcf
