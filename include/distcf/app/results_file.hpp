#pragma once
/// @file results_file.hpp
/// @brief Every results layout of docs/FORMAT.md beside the model file, written here and nowhere
/// else: the SVD's /svd table, a sweep's /sweep table, density sweeps, recommendations for all
/// users, and the study's results file.

#include <cstdint>
#include <string>
#include <vector>

#include "distcf/app/study.hpp"
#include "distcf/data/ratings.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/model/svd.hpp"
#include "distcf/model/sweep.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// /svd in a model or results file: singular values, and per k the train, test and validation
/// RMSE, with the solver and the chosen k as attributes. Collective.
void write_svd_table(h5::File& f, const SvdFit& fit, SvdSolver solver, SelectK select_k);

/// A sweep's table under `at` (default /sweep): per grid point its k, lambda (alpha), mean and
/// sd of the validation score, seconds, and every fold's score. Collective.
void write_sweep_table(h5::File& f, const SweepResult& r, const std::string& at = "/sweep");

/// One density sweep: per density the best k, lambda and validation RMSE, and each sweep's table.
struct DensitySweep {
    std::vector<double> density, best_lambda, best_rmse;
    std::vector<std::int64_t> ratings, best_factors;
    std::vector<SweepResult> sweeps;
};
/// Writes `d` atomically to `path`. Collective.
void write_density_sweep(const std::string& path, const DensitySweep& d, const std::string& command_line, const Comm& comm);

/// Top-N lists of this rank's users [u0, u1): `items` (-1 past a short list) and `predicted`,
/// (u1 - u0) x top each, row-major.
struct RecommendationBlock {
    std::int64_t u0 = 0, u1 = 0;
    int top = 0;
    std::vector<std::int32_t> items;
    std::vector<double> predicted;
};
/// Writes every rank's block into one recommendations file (atomically; docs/FORMAT.md). Collective.
void write_recommendations(const std::string& path, const std::string& model_path, std::int64_t n_users,
                           const RecommendationBlock& mine, const IdMap& users, const IdMap& items,
                           const std::string& command_line, const Comm& comm);
/// The same as text: a header `user rank item predicted`, then one line per listed item with the
/// data's external IDs, users in model order; tab- or comma-separated. The ranks append their
/// blocks in turn (no rank holds another's). Collective.
void write_recommendations_text(const std::string& path, const RecommendationBlock& mine, const IdMap& users,
                                const IdMap& items, bool csv, const Comm& comm);

/// Writes the study's results file (atomically) for scripts/report.py. Collective.
void write_study(const std::string& path, const StudyResult& s, const std::string& command_line, const Comm& comm);

}  // namespace distcf
