#pragma once
/// @file bpmf.hpp
/// @brief Bayesian probabilistic matrix factorisation by Gibbs sampling (Salakhutdinov and Mnih,
/// ICML 2008; distributed as in Vander Aa et al. 2017): an ALS sweep whose row solve also draws.
///
/// Model: r_ui ~ N(mu + u_u . v_i, 1 / alpha); u_u ~ N(mu_U, Lambda_U^{-1}), v_i ~ N(mu_V,
/// Lambda_V^{-1}); (mu_U, Lambda_U) and (mu_V, Lambda_V) have Gaussian-Wishart hyperpriors
/// (mu_0 = 0, beta_0, W_0 = I, nu_0 = k). Each half-step draws a side's hyperparameters from their
/// conditional given its factors (sums reduced in a fixed order), then every row of the side from
/// its Gaussian conditional (la/row_solve.hpp, a Philox stream per (sweep, side, row)): the chain
/// is bit-identical for any number of ranks or threads. The regularisation is learned, not tuned.
///
/// The posterior predictive mean averages the kept samples: the model stores them side by side
/// (k factors each) with factor_scale = 1 / S, so every command predicts with it unchanged.

#include <cstdint>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/data/rng.hpp"
#include "distcf/model/alternating.hpp"
#include "distcf/model/model.hpp"
#include "distcf/model/params.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

struct BpmfParams {
    /// Defaults chosen by validation inside MovieLens u1.base for time to accuracy (docs/TUNING.md):
    /// the noise precision is what matters (1.5 against the paper's 2: 0.9109 against 0.9203);
    /// from N(0, 0.3) factors the chain is past its burn-in in 5 sweeps (from 0.1 it needs 15),
    /// and k = 12 with 60 samples is the fastest setting within 0.001 of the best validation RMSE
    /// (k = 20, 100 samples), at a third of its time.
    int factors = 12;
    int burnin = 5;             ///< sweeps before samples are kept
    int samples = 60;           ///< sweeps after the burn-in
    int thin = 1;               ///< keep every thin-th of them
    int keep_samples = 0;       ///< at most this many kept (the latest); 0: every thinned sample
    double noise_precision = 1.5;  ///< alpha, fixed unless sample_noise
    bool sample_noise = false;  ///< draw alpha from its Gamma(1 + N/2, 1 + SSE/2) conditional each sweep
    double beta0 = 2.0;         ///< hyperprior: precision scale of the factor means
    std::uint64_t rng_seed = 42;
    double init_sd = 0.3;       ///< initial factors N(0, init_sd)
    int eval_every = 5;         ///< figures (objective, RMSEs) every this many sweeps and at the last

    int iters() const { return burnin + samples; }
    /// Samples the model keeps after `sweeps` sweeps in all.
    int kept_after(std::int64_t sweeps) const;

    template <class V>
    void fields(V&& v) {
        v("factors", factors);
        v("burnin", burnin);
        v("samples", samples);
        v("thin", thin);
        v("keep_samples", keep_samples);
        v("noise_precision", noise_precision);
        v("sample_noise", sample_noise);
        v("beta0", beta0);
        v("rng_seed", rng_seed);
        v("init_sd", init_sd);
        v("eval_every", eval_every);
    }
    void validate() const;
};

/// A Wishart(W, nu) draw (Bartlett decomposition): k x k column-major. E = nu W.
std::vector<double> draw_wishart(const std::vector<double>& W, int k, double nu, RowRng& g);

/// One side's hyperparameters: mean (k) and precision (k x k column-major).
struct GaussianWishart {
    std::vector<double> mu, precision;
};
/// A draw of (mu, Lambda) from their conditional given n rows of factors with sum `sum` (k) and
/// Gram `gram` = sum x x^T (k x k).
GaussianWishart draw_hyperparameters(const std::vector<double>& sum, const std::vector<double>& gram, std::int64_t n,
                                     int k, double beta0, RowRng& g);

/// The chain's start: mean, counts, factors N(0, init_sd) from the ALS streams, no samples yet.
FactorModel init_bpmf(const RatingBlocks& train, const BpmfParams& p);

/// Runs the chain (`chain` from init_bpmf, a warm start, or bpmf_chain of a saved model) until
/// chain.iterations_done == p.iters(). Per sweep: objective = training SSE of the current sample,
/// train RMSE of that sample, test RMSE of the average of the samples kept so far (of the current
/// sample during the burn-in). `on_iteration` gets the chain. Collective.
void run_bpmf(FactorModel& chain, const RatingBlocks& train, const Csr& test, const BpmfParams& p, const Comm& comm,
              const IterationCallback& on_iteration = {}, const ExchangeRequest& exchange = {});

/// The model that predicts: the kept samples side by side, factor_scale = 1 / S, and in `state`
/// what resuming needs (the chain's current sample, the kept users' hyperparameters, alpha).
FactorModel bpmf_posterior(FactorModel chain, const BpmfParams& p);
/// The chain a posterior model was made from (for --resume): bit-identical to the one it left.
/// Built in the posterior's storage (callers that keep it pass a copy).
FactorModel bpmf_chain(FactorModel posterior, const BpmfParams& p);

/// A row-major rows x cols matrix of blocks of k values transposed in place (block (a, b) moves to
/// (b, a)), with one block of extra memory and a bit per block: how the kept samples go from the
/// chain's sample-major layout to the model's side-by-side one and back without a second copy.
void transpose_blocks(std::vector<double>& v, std::int64_t rows, std::int64_t cols, int k);

/// Bytes the kept samples take on every rank by the end of a run of p.iters() sweeps (S k
/// factors a row of each side, the user hyperparameters of each sample), with the chain's own
/// sample that the posterior model keeps beside them.
std::int64_t bpmf_kept_bytes(const BpmfParams& p, std::int64_t users, std::int64_t items);

/// Samples kept in a posterior model.
int bpmf_samples(const FactorModel& posterior, int factors);
/// Posterior standard deviation of the score of (u, i) over the kept samples; with the noise
/// (1 / alpha) added, the predictive sd of a rating.
double bpmf_predictive_sd(const FactorModel& posterior, int factors, std::int64_t u, std::int64_t i,
                          bool with_noise);
/// Every item's lower confidence bound for user u: posterior mean score - z sd.
void bpmf_lcb_scores(const FactorModel& posterior, int factors, std::int64_t u, double z,
                     std::vector<double>& scores);
/// Fold-in: for each kept sample, the new users' factors drawn given that sample's item factors
/// and user hyperparameters; rows x (S k), side by side as in the model. Local.
void bpmf_fold_in(const FactorModel& posterior, const BpmfParams& p, const Csr& rows, std::vector<double>& factors,
                  std::vector<double>& bias);

}  // namespace distcf
