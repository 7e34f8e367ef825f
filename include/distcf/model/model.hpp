#pragma once
/// @file model.hpp
/// @brief A trained factor model (baseline, ALS): mean, biases, factors, history; predicts and saves.
///
/// Every rank holds the whole model after training (the factors are allgathered every half-step).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/io/store.hpp"
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

/// prediction(u, i) = clip(mu + user_bias[u] + item_bias[i] + U[u] . V[i], rating_min, rating_max)
/// (terms a method does not learn are zero).
struct FactorModel {
    std::string method = "baseline";   ///< baseline | als
    std::string formulation;           ///< baseline: seed | regularized; als: seed | biased
    int rank = 0;                      ///< k (0 for the baseline)
    double lambda = 0.0;
    std::int64_t n_users = 0, n_items = 0;
    double mu = 0.0;                   ///< offset inside the score (0 for the seed formulation)
    double global_mean = 0.0;          ///< mean training rating: the fallback for unknown rows
    double rating_min = 1.0, rating_max = 5.0;
    std::vector<double> user_bias, item_bias;  ///< n_users / n_items (may be all zero)
    std::vector<double> U, V;                  ///< n_users x rank, n_items x rank, row-major
    std::vector<std::int64_t> user_counts, item_counts;  ///< training ratings per row
    std::int64_t iterations_done = 0;
    History history;
    std::vector<std::pair<std::string, double>> params;  ///< hyperparameters, saved as attributes

    /// A model of `method` / `formulation` for this training data: shape, scale, row counts and
    /// mean taken from it; no biases or factors yet.
    static FactorModel for_data(const RatingBlocks& train, std::string method, std::string formulation);

    /// Unclipped score.
    double score(std::int64_t u, std::int64_t i) const;
    /// Clipped prediction.
    double predict(std::int64_t u, std::int64_t i) const;
    /// Fallback for an unknown user and/or item: the baseline part that is known.
    double fallback(std::int64_t u, std::int64_t i) const;
};

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
/// its columns are ordered by singular value). k = 0 means the model's own choice: the stored
/// k_selected parameter when there is one, else all factors.
FactorModel with_rank(const FactorModel& m, int k);

/// Squared-error sum and count of predictions on the CSR rows (rows = users), clipped.
struct ErrorSums {
    double sse = 0.0, sae = 0.0;
    std::int64_t n = 0;
};
/// RMSE/MAE sums over this rank's rows, added in user order across ranks (rank-count invariant).
ErrorSums error_sums(const FactorModel& m, const Csr& by_user, const BlockPartition& users, const Comm& comm);
double rmse(const ErrorSums& e);

/// A block of users' training items (what recommendation excludes): rows [row0, row0 + rows()).
struct SeenItems {
    std::int64_t row0 = 0;
    std::vector<std::int64_t> ptr{0};
    std::vector<std::int32_t> items;  ///< ascending within each row
    std::int64_t rows() const { return static_cast<std::int64_t>(ptr.size()) - 1; }
};

/// Writes every rank's training rows (CSR by user, rows contiguous and in rank order) into the
/// model file as /seen/{ptr, items}. Collective.
void write_seen(const h5::File& f, const Csr& by_user, std::int64_t n_users, const Comm& comm);
/// Reads users [u0, u1) of /seen (each rank its own range). Collective. Empty when the file has none.
SeenItems read_seen(const h5::File& f, std::int64_t u0, std::int64_t u1);

/// Writes the model (and the ID maps) atomically. `extra` may add groups of its own (a sweep's
/// table, an SVD's spectrum) before the file is committed; `seen_by_user` (this rank's training
/// rows) is kept as /seen so that recommendations can exclude what users rated. Collective.
void save_model(const std::string& path, const FactorModel& m, const IdMap& users, const IdMap& items,
                const Provenance& prov, const Comm& comm, const std::function<void(h5::File&)>& extra = {},
                const Csr* seen_by_user = nullptr);
/// Reads a model written by save_model (every rank gets all of it). Collective.
FactorModel load_model(const std::string& path, const Comm& comm, IdMap* users = nullptr, IdMap* items = nullptr);

}  // namespace distcf
