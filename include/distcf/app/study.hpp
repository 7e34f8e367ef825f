#pragma once
/// @file study.hpp
/// @brief The notebook's whole study as one pipeline: the bias baseline, SVD over k, the
/// notebook's ALS, distcf's validated ALS, the latent space and top-N -- everything
/// scripts/report.py draws. The command prints it (cli/cmd_study.cpp); results_file.hpp writes it.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "distcf/app/oracle.hpp"
#include "distcf/data/ratings.hpp"
#include "distcf/model/model.hpp"
#include "distcf/model/svd.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct StudyOptions {
    std::string data;              ///< a rating store; empty: built-in data with the notebook's parameters
    std::string out = "results/study.h5";  ///< the results file (built-in data go beside it)
    double test_fraction = 0.2;    ///< hold-out fraction when the data have no stored split
    int top = 8;                   ///< N of the recommendations
    std::string command_line;      ///< provenance of generated data
};

/// One row of the comparison table.
struct StudyRow {
    std::string method;
    int factors = 0;
    double lambda = 0, train = 0, test = 0;
};

struct StudyResult {
    std::string data_path;
    IdMap users, items;
    std::int64_t n_users = 0, n_items = 0, nnz_train = 0, nnz_test = 0;
    std::vector<StudyRow> table;
    OracleRmse oracle;
    int sweep_folds = 0;  ///< 0: one hold-out
    // SVD over k, and the baseline it starts from.
    SvdFit svd;
    SvdSolver svd_solver = SvdSolver::Dense;
    SelectK svd_select_k = SelectK::Test;
    double baseline_train = 0, baseline_test = 0;
    // The two ALS models (their histories are plotted).
    FactorModel als_notebook, als_biased;
    // The latent space of `latent_model` (k = latent_k).
    std::string latent_model;
    int latent_k = 0;
    std::vector<double> similarity, item_xy, user_xy;  ///< similarity empty above 5000 items
    std::vector<std::int32_t> item_genre;               ///< empty without generated truth
    std::vector<std::string> genre_names;
    std::vector<std::int64_t> alignment;
    // Top-N for the most active user, from distcf's ALS.
    std::int64_t active_user = 0, active_user_ratings = 0;
    std::vector<std::int32_t> rec_items;
    std::vector<double> rec_predicted, genre_mean;  ///< genre_mean: NaN for unrated genres
    // Test ratings and predictions; the rating matrices when small (NaN = unobserved).
    std::vector<double> test_observed, test_predicted, observed, truth;
    double seconds = 0.0;
};

/// Runs the study. `note` receives a line per stage (e.g. that built-in data were generated).
/// Collective; the figures do not depend on the rank count.
StudyResult run_study(const StudyOptions& options, const Comm& comm,
                      const std::function<void(const std::string&)>& note = {});

}  // namespace distcf
