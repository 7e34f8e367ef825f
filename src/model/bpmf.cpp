#include "distcf/model/bpmf.hpp"
#include "distcf/util/threads.hpp"

#include <armadillo>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>

#include "distcf/error.hpp"
#include "distcf/la/row_solve.hpp"

namespace distcf {

void BpmfParams::validate() const {
    if (factors < 1 || factors > 1024) DISTCF_THROW(ParameterError, "factors: must be in [1, 1024]");
    if (burnin < 0) DISTCF_THROW(ParameterError, "burnin: must be >= 0");
    if (samples < 0) DISTCF_THROW(ParameterError, "samples: must be >= 0");
    if (thin < 1) DISTCF_THROW(ParameterError, "thin: must be >= 1");
    if (keep_samples < 0) DISTCF_THROW(ParameterError, "keep_samples: must be >= 0 (0: every thinned sample)");
    if (burnin + samples < 1) DISTCF_THROW(ParameterError, "samples: burnin + samples must be >= 1");
    if (!(noise_precision > 0) || !std::isfinite(noise_precision)) DISTCF_THROW(ParameterError, "noise_precision: must be > 0");
    if (!(beta0 > 0) || !std::isfinite(beta0)) DISTCF_THROW(ParameterError, "beta0: must be > 0");
    if (!(init_sd > 0)) DISTCF_THROW(ParameterError, "init_sd: must be > 0");
    if (eval_every < 1) DISTCF_THROW(ParameterError, "eval_every: must be >= 1");
}

std::int64_t bpmf_kept_bytes(const BpmfParams& p, std::int64_t users, std::int64_t items) {
    const std::int64_t S = p.kept_after(p.iters()), k = p.factors;
    return 8 * ((S + 1) * k * (users + items) + S * (k + k * k));
}

int BpmfParams::kept_after(std::int64_t sweeps) const {
    const std::int64_t thinned = sweeps > burnin ? (sweeps - burnin) / thin : 0;
    return static_cast<int>(keep_samples > 0 ? std::min<std::int64_t>(thinned, keep_samples) : thinned);
}

namespace {

arma::mat as_mat(const std::vector<double>& v, int k) { return arma::mat(v.data(), k, k); }
std::vector<double> as_vector(const arma::mat& m) { return {m.memptr(), m.memptr() + m.n_elem}; }

// The lower Cholesky factor of a symmetric positive definite k x k matrix.
arma::mat lower_cholesky(arma::mat a, const char* what) {
    a = 0.5 * (a + a.t());
    arma::mat l;
    if (!arma::chol(l, a, "lower")) DISTCF_THROW(LinalgError, std::string("bpmf: ") + what + " is not positive definite");
    return l;
}

}  // namespace

std::vector<double> draw_wishart(const std::vector<double>& W, int k, double nu, RowRng& g) {
    SingleThreadedBlas one_thread;  // replicated small work: the same bits on every rank
    const arma::mat L = lower_cholesky(as_mat(W, k), "the Wishart scale");
    arma::mat A(k, k, arma::fill::zeros);
    for (int i = 0; i < k; ++i) {
        A(i, i) = std::sqrt(g.chi_square(nu - i));
        for (int j = 0; j < i; ++j) A(i, j) = g.normal();
    }
    const arma::mat LA = L * A;
    arma::mat out = LA * LA.t();
    return as_vector(0.5 * (out + out.t()));
}

GaussianWishart draw_hyperparameters(const std::vector<double>& sum, const std::vector<double>& gram, std::int64_t n,
                                     int k, double beta0, RowRng& g) {
    SingleThreadedBlas one_thread;
    const double N = static_cast<double>(n);
    const arma::vec xbar = arma::vec(sum.data(), k) / N;
    const arma::mat S = as_mat(gram, k) / N - xbar * xbar.t();  // the sample covariance
    const double beta = beta0 + N, nu = k + N;                  // mu_0 = 0, W_0 = I, nu_0 = k
    const arma::vec mu_star = (N / beta) * xbar;
    arma::mat w_inv = arma::eye(k, k) + N * S + (beta0 * N / beta) * (xbar * xbar.t());
    w_inv = 0.5 * (w_inv + w_inv.t());
    arma::mat W;
    if (!arma::inv_sympd(W, w_inv)) DISTCF_THROW(LinalgError, "bpmf: the Wishart posterior scale is singular");
    GaussianWishart h;
    h.precision = draw_wishart(as_vector(0.5 * (W + W.t())), k, nu, g);
    // mu ~ N(mu*, (beta Lambda)^{-1}) = mu* + L^{-T} z with beta Lambda = L L^T.
    const arma::mat L = lower_cholesky(beta * as_mat(h.precision, k), "the hyperparameter precision");
    arma::vec z(k);
    for (int i = 0; i < k; ++i) z(i) = g.normal();
    const arma::vec mu = mu_star + arma::solve(arma::trimatu(L.t()), z);
    h.mu.assign(mu.begin(), mu.end());
    return h;
}

FactorModel init_bpmf(const RatingBlocks& train, const BpmfParams& p) {
    p.validate();
    FactorModel m = FactorModel::for_data(train, "bpmf");  // centred on the training mean
    m.params = to_record(p);
    m.n_factors = p.factors;
    m.U = initial_factors(p.rng_seed, Side::Users, train.n_users, p.factors, p.init_sd);
    m.V = initial_factors(p.rng_seed, Side::Items, train.n_items, p.factors, p.init_sd);
    m.state["noise_precision"] = {p.noise_precision};
    return m;
}

namespace {

// Chain state in the model while it runs (sample-major blocks: appending a sample is one copy).
constexpr const char* kKeptUser = "kept_user_factors";
constexpr const char* kKeptItem = "kept_item_factors";
constexpr const char* kKeptMu = "kept_user_mu";
constexpr const char* kKeptPrecision = "kept_user_precision";
constexpr const char* kAlpha = "noise_precision";
// In the posterior model: the chain's current sample.
constexpr const char* kChainUser = "chain_user_factors";
constexpr const char* kChainItem = "chain_item_factors";

double alpha_of(const FactorModel& m) {
    const auto it = m.state.find(kAlpha);
    return it == m.state.end() || it->second.empty() ? 2.0 : it->second.front();
}

// Appends a sample's factors rounded to floats' values. The posterior mean they estimate is off
// by its Monte Carlo error, about a posterior standard deviation over sqrt(samples) -- some 10^5
// times a float's rounding -- and the model file then stores them as float32 (half the bytes to
// write and read back, nothing more lost). The chain itself goes on in double.
void keep_as_floats(std::vector<double>& kept, const std::vector<double>& sample) {
    const std::size_t at = kept.size();
    kept.resize(at + sample.size());
    std::transform(sample.begin(), sample.end(), kept.begin() + static_cast<std::ptrdiff_t>(at),
                   [](double x) { return static_cast<double>(static_cast<float>(x)); });
}

// Sum of the rows of a matrix every rank holds, in row order: the same bits anywhere.
std::vector<double> column_sums(const std::vector<double>& X, std::int64_t rows, int k) {
    std::vector<double> s(static_cast<std::size_t>(k), 0.0);
    for (std::int64_t r = 0; r < rows; ++r)
        for (int c = 0; c < k; ++c) s[static_cast<std::size_t>(c)] += X[static_cast<std::size_t>(r * k + c)];
    return s;
}

// The Gibbs sampler for the shared loop.
class GibbsSampler final : public AlternatingProblem {
public:
    GibbsSampler(const BpmfParams& p, const Csr& test, const Comm& comm)
        : p_(p), have_test_(comm.sum<std::int64_t>(test.nnz()) > 0) {}

    // The hyperparameter draws and the kept samples read every row of a side: allgather only.
    bool supports_local_layout() const override { return false; }

    NormalEquations equations(Side side, const FactorModel& m, const RatingBlocks&, const Comm& comm) override {
        const int k = p_.factors;
        const std::vector<double>& X = side == Side::Users ? m.U : m.V;
        const std::int64_t n = side == Side::Users ? m.n_users : m.n_items;
        // The side's sums, added in a fixed order: every rank draws the same hyperparameters.
        const std::vector<double> gram = replicated_gram(X, n, k, comm);
        const std::vector<double> sum = column_sums(X, n, k);
        RowRng g(p_.rng_seed, Stream::Hyper, side == Side::Users ? 0 : 1, static_cast<std::uint64_t>(m.iterations_done));
        hyper_[side == Side::Users ? 0 : 1] = draw_hyperparameters(sum, gram, n, k, p_.beta0, g);
        const GaussianWishart& h = hyper_[side == Side::Users ? 0 : 1];
        shift_.assign(static_cast<std::size_t>(k), 0.0);
        for (int c = 0; c < k; ++c)
            for (int q = 0; q < k; ++q) shift_[static_cast<std::size_t>(q)] += h.precision[static_cast<std::size_t>(c) * k + q] * h.mu[c];
        NormalEquations eq;
        eq.factors = k;
        eq.weighted_lambda = false;
        eq.lambda = 0.0;
        eq.offset = m.mu;
        eq.prior = GaussianPrior{&h.precision, &shift_, alpha_of(m)};
        return eq;
    }

    RowSolver solver(Side side, const FactorModel& m) const override {
        RowSolver how;
        how.form = RowForm::Primal;
        how.draw = RowDraw{p_.rng_seed, 2 * static_cast<std::uint64_t>(m.iterations_done) + (side == Side::Users ? 0 : 1)};
        return how;
    }

    void record_sweep(FactorModel& m, const RatingBlocks& t, const Comm& comm) override {
        const std::int64_t sweep = m.iterations_done;  // 0-based, not yet counted
        fit_.reset();
        if (p_.sample_noise) {  // alpha | ... ~ Gamma(1 + N / 2, rate 1 + SSE / 2)
            RowRng g(p_.rng_seed, Stream::Hyper, 2, static_cast<std::uint64_t>(sweep));
            fit_ = training_errors(m, t, comm);  // the sweep's figures, if they are due, reuse it
            m.state[kAlpha] = {g.gamma(1.0 + 0.5 * static_cast<double>(t.nnz), 1.0 / (1.0 + 0.5 * fit_->objective))};
        }
        // Keep the sample (and the user hyperparameters it was drawn under).
        const std::int64_t after = sweep + 1;
        if (after <= p_.burnin || (after - p_.burnin) % p_.thin != 0) return;
        auto& ku = m.state[kKeptUser];
        auto& ki = m.state[kKeptItem];
        auto& kmu = m.state[kKeptMu];
        auto& kpr = m.state[kKeptPrecision];
        // Room for every sample this run keeps, once: a growing vector would copy them all.
        const auto total = static_cast<std::size_t>(p_.kept_after(p_.iters()) + 1);
        if (ku.capacity() < total * m.U.size()) {
            ku.reserve(total * m.U.size());
            ki.reserve(total * m.V.size());
        }
        keep_as_floats(ku, m.U);
        keep_as_floats(ki, m.V);
        kmu.insert(kmu.end(), hyper_[0].mu.begin(), hyper_[0].mu.end());
        kpr.insert(kpr.end(), hyper_[0].precision.begin(), hyper_[0].precision.end());
        if (p_.keep_samples > 0 && static_cast<int>(kmu.size() / p_.factors) > p_.keep_samples) {  // drop the oldest
            const auto k = static_cast<std::size_t>(p_.factors);
            ku.erase(ku.begin(), ku.begin() + static_cast<std::ptrdiff_t>(m.U.size()));
            ki.erase(ki.begin(), ki.begin() + static_cast<std::ptrdiff_t>(m.V.size()));
            kmu.erase(kmu.begin(), kmu.begin() + static_cast<std::ptrdiff_t>(k));
            kpr.erase(kpr.begin(), kpr.begin() + static_cast<std::ptrdiff_t>(k * k));
            window_moved_ = true;
        }
    }

    SweepFigures after_sweep(FactorModel& m, const RatingBlocks& t, const Csr& test, const Comm& comm) override {
        SweepFigures f = fit_ ? *fit_ : training_errors(m, t, comm);  // the training fit of the current sample
        // Test RMSE of the posterior mean so far (of the current sample during the burn-in). The
        // test scores of the kept samples are summed in sample order -- the order a resumed run
        // re-adds them in, so its sums have the same bits; once a window has dropped old samples
        // the ones it keeps are re-added.
        if (have_test_) {
            const auto it = m.state.find(kKeptUser);
            const int S = it == m.state.end() ? 0 : static_cast<int>(it->second.size() / m.U.size());
            if (window_moved_) {
                test_sum_.assign(static_cast<std::size_t>(test.nnz()), 0.0);
                summed_ = 0;
                window_moved_ = false;
            }
            for (int s = summed_; s < S; ++s) add_sample_scores(m, it->second, m.state.at(kKeptItem), s, test);
            summed_ = S;
            std::vector<double> e(static_cast<std::size_t>(test.rows()), 0.0);
#pragma omp parallel for schedule(dynamic, 64) if (worth_threads(static_cast<double>(test.nnz()) * 8))
            for (std::int64_t r = 0; r < test.rows(); ++r)
                for (auto q = test.ptr[r]; q < test.ptr[r + 1]; ++q) {
                    const std::int64_t u = test.row0 + r, i = test.col[q];
                    const double pred = S > 0 ? std::clamp(m.mu + test_sum_[static_cast<std::size_t>(q)] / S, m.rating_min, m.rating_max)
                                              : m.predict(u, i);
                    e[r] += (pred - test.val[q]) * (pred - test.val[q]);
                }
            const double n = static_cast<double>(comm.sum<std::int64_t>(test.nnz()));
            f.test_rmse = std::sqrt(ordered_sum(e, t.users, comm) / n);
        }
        return f;
    }

    double sweep_flops(const RatingBlocks& t, int k) const override { return als_sweep_flops_like(t, k); }

private:
    // The current sample's training SSE (objective) and RMSE of its clipped predictions.
    static SweepFigures training_errors(const FactorModel& m, const RatingBlocks& t, const Comm& comm) {
        std::vector<double> sq(static_cast<std::size_t>(t.by_user.rows()), 0.0), sq_clipped(sq.size(), 0.0);
#pragma omp parallel for schedule(dynamic, 64) if (worth_threads(static_cast<double>(t.by_user.nnz()) * (m.n_factors + 4)))
        for (std::int64_t r = 0; r < t.by_user.rows(); ++r)
            for (auto q = t.by_user.ptr[r]; q < t.by_user.ptr[r + 1]; ++q) {
                const double s = m.score(t.by_user.row0 + r, t.by_user.col[q]), v = t.by_user.val[q];
                sq[r] += (v - s) * (v - s);
                const double c = std::clamp(s, m.rating_min, m.rating_max) - v;
                sq_clipped[r] += c * c;
            }
        SweepFigures f;
        f.objective = ordered_sum(sq, t.users, comm);
        f.train_rmse = t.nnz ? std::sqrt(ordered_sum(sq_clipped, t.users, comm) / static_cast<double>(t.nnz)) : 0.0;
        return f;
    }
    // Adds kept sample s's scores of the test ratings to their sums.
    void add_sample_scores(const FactorModel& m, const std::vector<double>& ku, const std::vector<double>& ki, int s,
                           const Csr& test) {
        const int k = m.n_factors;
        const std::size_t su = static_cast<std::size_t>(m.n_users) * k, si = static_cast<std::size_t>(m.n_items) * k;
        if (test_sum_.size() != static_cast<std::size_t>(test.nnz())) test_sum_.assign(static_cast<std::size_t>(test.nnz()), 0.0);
#pragma omp parallel for schedule(dynamic, 64) if (worth_threads(static_cast<double>(test.nnz()) * (k + 4)))
        for (std::int64_t r = 0; r < test.rows(); ++r)
            for (auto q = test.ptr[r]; q < test.ptr[r + 1]; ++q) {
                const double* a = ku.data() + s * su + (test.row0 + r) * k;
                const double* b = ki.data() + s * si + static_cast<std::int64_t>(test.col[q]) * k;
                double dot = 0;
                for (int c = 0; c < k; ++c) dot += a[c] * b[c];
                test_sum_[static_cast<std::size_t>(q)] += dot;
            }
    }
    static double als_sweep_flops_like(const RatingBlocks& t, int k) {
        // The ALS count (Gram, Cholesky, right-hand side); the draws add two triangular solves a row.
        const double K = k, N = static_cast<double>(t.nnz), rows = static_cast<double>(t.n_users + t.n_items);
        return 2.0 * N * K * (K + 1) + rows * (K * K * K / 3.0 + 2.0 * K * K) + 4.0 * N * K;
    }
    BpmfParams p_;
    bool have_test_;
    GaussianWishart hyper_[2];
    std::vector<double> shift_;
    std::vector<double> test_sum_;  // per test rating: the sum of the kept samples' scores
    int summed_ = 0;                // kept samples in test_sum_
    bool window_moved_ = false;     // keep_samples dropped a sample since test_sum_ was made
    std::optional<SweepFigures> fit_;  // this sweep's training fit, when record_sweep needed it
};

}  // namespace

void run_bpmf(FactorModel& chain, const RatingBlocks& train, const Csr& test, const BpmfParams& p, const Comm& comm,
              const IterationCallback& on_iteration, const ExchangeRequest& exchange) {
    p.validate();
    GibbsSampler sampler(p, test, comm);
    LoopControl loop;
    loop.iters = p.iters();
    loop.eval_every = p.eval_every;
    loop.exchange = exchange.options;
    loop.tell_exchange = exchange.tell;
    loop.whole_result = exchange.whole_result;
    run_alternating(chain, train, test, sampler, loop, comm, on_iteration);
}

int bpmf_samples(const FactorModel& m, int factors) {
    return m.n_factors > 0 && m.n_factors % factors == 0 ? m.n_factors / factors : 0;
}

FactorModel bpmf_posterior(FactorModel chain, const BpmfParams& p) {
    // Built in the chain's own storage (callers that keep the chain pass a copy): the kept samples
    // are the bulk of it (S k (users + items) doubles), moved out once and laid side by side once.
    const int k = p.factors;
    std::map<std::string, std::vector<double>> state;
    state[kAlpha] = {alpha_of(chain)};
    const auto kept = chain.state.find(kKeptUser);
    const int S = kept == chain.state.end() || chain.U.empty() ? 0 : static_cast<int>(kept->second.size() / chain.U.size());
    if (S == 0) {  // still burning in: the current sample predicts
        state[kChainUser] = chain.U;
        state[kChainItem] = chain.V;
        chain.state = std::move(state);
        return chain;
    }
    state[kKeptMu] = std::move(chain.state.at(kKeptMu));
    state[kKeptPrecision] = std::move(chain.state.at(kKeptPrecision));
    state[kChainUser] = std::move(chain.U);
    state[kChainItem] = std::move(chain.V);
    // Side by side: row r is [sample 0 (k), sample 1 (k), ...] -- the kept samples transposed in
    // their own storage, never held twice (and faster so: a copy's fresh pages cost as much as
    // the in-place cycles, 5.5 ms for u1's 15 MB).
    chain.U = std::move(kept->second);
    chain.V = std::move(chain.state.at(kKeptItem));
    transpose_blocks(chain.U, S, chain.n_users, k);
    transpose_blocks(chain.V, S, chain.n_items, k);
    chain.state = std::move(state);
    chain.n_factors = S * k;
    chain.factor_scale = 1.0 / S;
    return chain;
}

FactorModel bpmf_chain(FactorModel post, const BpmfParams& p) {
    const int k = p.factors;
    if (!post.state.count(kChainUser) || !post.state.count(kChainItem))
        DISTCF_THROW(InputError, "bpmf: the model keeps no chain state (/state) to resume from");
    if (post.state.at(kChainUser).size() != static_cast<std::size_t>(post.n_users * k) ||
        post.state.at(kChainItem).size() != static_cast<std::size_t>(post.n_items * k))
        DISTCF_THROW(InputError, "bpmf: the chain state does not match the model's shape");
    std::map<std::string, std::vector<double>> state;
    state[kAlpha] = {alpha_of(post)};
    const int S = post.state.count(kKeptMu) ? static_cast<int>(post.state.at(kKeptMu).size() / k) : 0;
    if (S > 0) {
        state[kKeptMu] = std::move(post.state.at(kKeptMu));
        state[kKeptPrecision] = std::move(post.state.at(kKeptPrecision));
        // Back to sample-major blocks, in place (bpmf_posterior's transposition undone).
        transpose_blocks(post.U, post.n_users, S, k);
        transpose_blocks(post.V, post.n_items, S, k);
        state[kKeptUser] = std::move(post.U);
        state[kKeptItem] = std::move(post.V);
    }
    post.U = std::move(post.state.at(kChainUser));
    post.V = std::move(post.state.at(kChainItem));
    post.state = std::move(state);
    post.n_factors = k;
    post.factor_scale = 1.0;
    return post;
}

void transpose_blocks(std::vector<double>& v, std::int64_t rows, std::int64_t cols, int k) {
    const std::int64_t n = rows * cols;
    if (v.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(k))
        DISTCF_THROW(InternalError, "transpose_blocks: the vector does not hold rows x cols blocks of k");
    // Block (a, b) at a cols + b goes to b rows + a. Each cycle of that permutation is followed
    // with one block in hand; `done` marks the positions already holding their final block.
    std::vector<bool> done(static_cast<std::size_t>(n), false);
    std::vector<double> hand(static_cast<std::size_t>(k));
    for (std::int64_t start = 0; start < n; ++start) {
        if (done[static_cast<std::size_t>(start)]) continue;
        std::copy_n(v.begin() + start * k, k, hand.begin());
        std::int64_t p = start;
        do {
            const std::int64_t q = (p % cols) * rows + p / cols;  // where the block in hand goes
            std::swap_ranges(hand.begin(), hand.end(), v.begin() + q * k);
            done[static_cast<std::size_t>(q)] = true;
            p = q;
        } while (p != start);
    }
}

namespace {
// The S sampled scores of (u, i) (without mu), and their mean and variance.
void sample_scores(const FactorModel& m, int k, std::int64_t u, std::int64_t i, double& mean, double& var) {
    const int S = m.n_factors / k;
    const double* a = m.U.data() + u * m.n_factors;
    const double* b = m.V.data() + i * m.n_factors;
    double s1 = 0, s2 = 0;
    for (int s = 0; s < S; ++s) {
        double dot = 0;
        for (int c = 0; c < k; ++c) dot += a[s * k + c] * b[s * k + c];
        s1 += dot;
        s2 += dot * dot;
    }
    mean = s1 / S;
    var = std::max(0.0, s2 / S - mean * mean);
}
}  // namespace

double bpmf_predictive_sd(const FactorModel& m, int factors, std::int64_t u, std::int64_t i, bool with_noise) {
    double mean = 0, var = 0;
    if (bpmf_samples(m, factors) > 0) sample_scores(m, factors, u, i, mean, var);
    return std::sqrt(var + (with_noise ? 1.0 / alpha_of(m) : 0.0));
}

void bpmf_lcb_scores(const FactorModel& m, int factors, std::int64_t u, double z, std::vector<double>& scores) {
    scores.resize(static_cast<std::size_t>(m.n_items));
    const bool sampled = bpmf_samples(m, factors) > 0;
    for (std::int64_t i = 0; i < m.n_items; ++i) {
        double mean = 0, var = 0;
        if (sampled) sample_scores(m, factors, u, i, mean, var);
        scores[static_cast<std::size_t>(i)] = m.mu + mean - z * std::sqrt(var);
    }
}

void bpmf_fold_in(const FactorModel& m, const BpmfParams& p, const Csr& rows, std::vector<double>& factors,
                  std::vector<double>& bias) {
    const int k = p.factors, S = bpmf_samples(m, k);
    if (S == 0 || !m.state.count(kKeptMu))
        DISTCF_THROW(InputError, "fold-in: this bpmf model keeps no samples (trained within its burn-in)");
    const std::int64_t n = rows.rows();
    factors.assign(static_cast<std::size_t>(n) * S * k, 0.0);
    bias.assign(static_cast<std::size_t>(n), 0.0);
    const auto& kmu = m.state.at(kKeptMu);
    const auto& kpr = m.state.at(kKeptPrecision);
    std::vector<double> V(static_cast<std::size_t>(m.n_items) * k), f, none;
    for (int s = 0; s < S; ++s) {
        for (std::int64_t i = 0; i < m.n_items; ++i) std::copy_n(m.V.begin() + i * m.n_factors + s * k, k, V.begin() + i * k);
        const std::vector<double> precision(kpr.begin() + static_cast<std::ptrdiff_t>(s) * k * k,
                                            kpr.begin() + static_cast<std::ptrdiff_t>(s + 1) * k * k);
        std::vector<double> shift(static_cast<std::size_t>(k), 0.0);
        for (int c = 0; c < k; ++c)
            for (int q = 0; q < k; ++q) shift[static_cast<std::size_t>(q)] += precision[static_cast<std::size_t>(c) * k + q] * kmu[s * k + c];
        NormalEquations eq;
        eq.factors = k;
        eq.lambda = 0.0;
        eq.weighted_lambda = false;
        eq.offset = m.mu;
        eq.prior = GaussianPrior{&precision, &shift, alpha_of(m)};
        RowSolver how;
        how.form = RowForm::Primal;
        how.draw = RowDraw{p.rng_seed, (std::uint64_t{1} << 40) + static_cast<std::uint64_t>(s)};  // fold-in's own epochs
        solve_rows(rows, V, {}, eq, how, f, none);
        for (std::int64_t r = 0; r < n; ++r) std::copy_n(f.begin() + r * k, k, factors.begin() + (r * S + s) * k);
    }
}

}  // namespace distcf
