// Bayesian MF: the row draws and the Wishart draws have their analytic moments; the chain does
// not depend on the thread count; checkpoint + resume is one run.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "distcf/data/rng.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/la/row_solve.hpp"
#include "distcf/model/bpmf.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::program;
using distcf::test::run;

namespace {

// x = A^{-1} b for a 2 x 2 column-major A.
std::vector<double> inverse2(const std::vector<double>& A) {
    const double det = A[0] * A[3] - A[1] * A[2];
    return {A[3] / det, -A[1] / det, -A[2] / det, A[0] / det};
}

}  // namespace

TEST(Bpmf, RowDrawsHaveTheAnalyticMeanAndCovariance) {
    // One row with ratings 4 and 2 of items y0 = (1, 0.5), y1 = (-0.5, 1); prior Lambda, mu; alpha 2.
    // Posterior: P = Lambda + alpha G^T G, mean = P^{-1} (alpha G^T t + Lambda mu), cov = P^{-1}.
    const Csr row = build_csr(0, 1, {0, 0}, {0, 1}, {4.0, 2.0});
    const std::vector<double> Y = {1.0, 0.5, -0.5, 1.0};
    const std::vector<double> Lambda = {2.0, 0.5, 0.5, 1.0}, mu = {0.3, -0.2};
    const std::vector<double> shift = {Lambda[0] * mu[0] + Lambda[2] * mu[1], Lambda[1] * mu[0] + Lambda[3] * mu[1]};
    const double alpha = 2.0, offset = 1.0;
    // G^T G and G^T t by hand (t = rating - offset).
    const double t0 = 4.0 - offset, t1 = 2.0 - offset;
    std::vector<double> P = {Lambda[0] + alpha * (1.0 + 0.25), Lambda[1] + alpha * (0.5 - 0.5),
                             Lambda[2] + alpha * (0.5 - 0.5), Lambda[3] + alpha * (0.25 + 1.0)};
    const std::vector<double> cov = inverse2(P);
    const double b0 = alpha * (1.0 * t0 - 0.5 * t1) + shift[0], b1 = alpha * (0.5 * t0 + 1.0 * t1) + shift[1];
    const double mean0 = cov[0] * b0 + cov[2] * b1, mean1 = cov[1] * b0 + cov[3] * b1;

    NormalEquations eq;
    eq.factors = 2;
    eq.lambda = 0.0;
    eq.weighted_lambda = false;
    eq.offset = offset;
    eq.prior = GaussianPrior{&Lambda, &shift, alpha};
    // Solving (no draw) gives the mean exactly.
    std::vector<double> x, none;
    solve_rows(row, Y, {}, eq, RowSolver{}, x, none);
    EXPECT_NEAR(x[0], mean0, 1e-14);
    EXPECT_NEAR(x[1], mean1, 1e-14);

    const int draws = 40000;
    double s0 = 0, s1 = 0, s00 = 0, s01 = 0, s11 = 0;
    RowSolver how;
    for (int e = 0; e < draws; ++e) {
        how.draw = RowDraw{7, static_cast<std::uint64_t>(e)};
        solve_rows(row, Y, {}, eq, how, x, none);
        s0 += x[0];
        s1 += x[1];
        s00 += x[0] * x[0];
        s01 += x[0] * x[1];
        s11 += x[1] * x[1];
    }
    const double n = draws, m0 = s0 / n, m1 = s1 / n;
    EXPECT_LT(std::fabs(m0 - mean0), 3 * std::sqrt(cov[0] / n)) << m0 << " vs " << mean0;
    EXPECT_LT(std::fabs(m1 - mean1), 3 * std::sqrt(cov[3] / n)) << m1 << " vs " << mean1;
    const double c00 = s00 / n - m0 * m0, c01 = s01 / n - m0 * m1, c11 = s11 / n - m1 * m1;
    EXPECT_NEAR(c00, cov[0], 0.05 * cov[0]);
    EXPECT_NEAR(c11, cov[3], 0.05 * cov[3]);
    EXPECT_NEAR(c01, cov[1], 0.05 * std::sqrt(cov[0] * cov[3]));
}

TEST(Bpmf, WishartDrawsMatchTheirKnownMoments) {
    // E[Lambda] = nu W, Var(Lambda_ij) = nu (W_ij^2 + W_ii W_jj).
    const int k = 3, draws = 20000;
    const double nu = 6.5;
    const std::vector<double> W = {1.0, 0.3, -0.2, 0.3, 0.8, 0.1, -0.2, 0.1, 0.5};
    std::vector<double> sum(9, 0.0), sq(9, 0.0);
    for (int d = 0; d < draws; ++d) {
        RowRng g(11, Stream::Hyper, 0, static_cast<std::uint64_t>(d));
        const auto L = draw_wishart(W, k, nu, g);
        for (int e = 0; e < 9; ++e) {
            sum[e] += L[e];
            sq[e] += L[e] * L[e];
        }
    }
    for (int i = 0; i < k; ++i)
        for (int j = 0; j < k; ++j) {
            const int e = j * k + i;
            const double mean = sum[e] / draws, var = sq[e] / draws - mean * mean;
            const double want_var = nu * (W[e] * W[e] + W[i * k + i] * W[j * k + j]);
            EXPECT_LT(std::fabs(mean - nu * W[e]), 4 * std::sqrt(want_var / draws)) << i << "," << j;
            EXPECT_NEAR(var, want_var, 0.06 * want_var) << i << "," << j;
        }
}

TEST(Bpmf, ChainIsBitIdenticalForOneAndTwoThreads) {
    const RatingBlocks b = test::generated_blocks(Comm::self(), 70, 50, 0.25);
    BpmfParams p;
    p.factors = 6;
    p.burnin = 3;
    p.samples = 4;
    FactorModel one = init_bpmf(b, p), two = init_bpmf(b, p);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    run_bpmf(one, b, Csr{}, p, Comm::self());
    omp_set_num_threads(2);
    run_bpmf(two, b, Csr{}, p, Comm::self());
    omp_set_num_threads(saved);
    EXPECT_EQ(one.U, two.U);
    EXPECT_EQ(one.V, two.V);
    EXPECT_EQ(one.state, two.state);
    EXPECT_EQ(one.history.objective, two.history.objective);
    const FactorModel post = bpmf_posterior(one, p);
    EXPECT_EQ(bpmf_samples(post, p.factors), 4);
    EXPECT_DOUBLE_EQ(post.factor_scale, 0.25);
    // The posterior model and the chain it came from are the same chain.
    const FactorModel back = bpmf_chain(post, p);
    EXPECT_EQ(back.U, one.U);
    EXPECT_EQ(back.state, one.state);
}

TEST(Bpmf, FiguresEveryNSweepsLeaveTheChainAndTheLastFiguresAlone) {
    // The samples are kept every sweep whether or not the figures are computed; the test RMSE of
    // the posterior mean sums the kept samples in order, also when a window (keep_samples) has
    // dropped some since the last figures.
    const RatingBlocks b = test::generated_blocks(Comm::self(), 60, 40, 0.3);
    for (int window : {0, 2}) {
        BpmfParams p;
        p.factors = 4;
        p.burnin = 2;
        p.samples = 6;
        p.keep_samples = window;
        p.eval_every = 1;
        FactorModel every = init_bpmf(b, p);
        run_bpmf(every, b, b.by_user, p, Comm::self());
        p.eval_every = 3;
        FactorModel some = init_bpmf(b, p);
        run_bpmf(some, b, b.by_user, p, Comm::self());
        EXPECT_EQ(some.U, every.U) << window;
        EXPECT_EQ(some.V, every.V) << window;
        EXPECT_EQ(some.state, every.state) << window;
        ASSERT_EQ(some.history.size(), 8u);
        EXPECT_EQ(some.history.test_rmse.back(), every.history.test_rmse.back()) << window;
        EXPECT_EQ(some.history.test_rmse[5], every.history.test_rmse[5]) << window;  // sweep 6
        EXPECT_EQ(some.history.test_rmse[0], -1.0);  // sweep 1: not measured
        EXPECT_GT(every.history.test_rmse[0], 0.0);
    }
}

TEST(Bpmf, BlocksAreTransposedInPlaceAsByACopy) {
    // The kept samples go from sample-major to side by side (and back on resume) in their own
    // storage; every shape against the copy it replaces, and there and back is the identity.
    for (const auto& [rows, cols, k] : std::vector<std::tuple<int, int, int>>{{1, 1, 3}, {1, 5, 2}, {4, 1, 2}, {3, 3, 1},
                                                                            {2, 7, 3}, {7, 2, 3}, {6, 10, 4}}) {
        std::vector<double> v(static_cast<std::size_t>(rows * cols * k));
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
        std::vector<double> want(v.size());
        for (int a = 0; a < rows; ++a)
            for (int b = 0; b < cols; ++b)
                for (int c = 0; c < k; ++c) want[static_cast<std::size_t>((b * rows + a) * k + c)] = v[static_cast<std::size_t>((a * cols + b) * k + c)];
        const std::vector<double> original = v;
        transpose_blocks(v, rows, cols, k);
        EXPECT_EQ(v, want) << rows << " x " << cols << " x " << k;
        transpose_blocks(v, cols, rows, k);
        EXPECT_EQ(v, original) << rows << " x " << cols << " x " << k;
    }
    std::vector<double> wrong(5);
    EXPECT_THROW(transpose_blocks(wrong, 2, 2, 1), InternalError);
}

TEST(Bpmf, ThePlanCountsTheKeptSamplesAndTrainRefusesThemBeyondTheBudget) {
    // Every rank holds every kept sample: S k (users + items) doubles, the chain's own sample and
    // each sample's user hyperparameters (k + k^2). 80 x 50, k = 5, 4 samples:
    // 8 ((4 + 1) 5 130 + 4 (5 + 25)) = 26,960 bytes.
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 80 --items 50 --density 0.3 --out " + d.file("g.h5")).code, 0);
    const std::string base = " train --method bpmf --train " + d.file("g.h5") + " --factors 5 --burnin 3 --samples 4 --out " + d.file("b.h5");
    const auto plan = run(program() + " --json" + base + " --plan");
    ASSERT_EQ(plan.code, 0) << plan.err;
    const auto j = nlohmann::json::parse(plan.out);
    EXPECT_EQ(j["plan"]["state_bytes"].get<std::int64_t>(), 26960);
    const auto text = run(program() + base + " --plan");
    EXPECT_NE(text.out.find("bpmf also holds 0.0 MiB per rank by the end (in the expected peak): 4 kept samples of 5 factors"),
              std::string::npos) << text.out;
    // Beyond the budget: one line naming the parameter, exit 2, no model written.
    const auto refused = run(program() + base + " --memory-budget 16K");
    EXPECT_EQ(refused.code, 2);
    EXPECT_NE(refused.err.find("distcf: error: keep_samples: bpmf would hold 4 kept samples"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("beyond the 0.0 MiB a rank has (--memory-budget)"), std::string::npos) << refused.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("b.h5")));
    // One kept sample fits (8 (2 5 130 + 30) = 10,640 bytes).
    const auto one = run(program() + base + " --memory-budget 16K --keep-samples 1");
    EXPECT_EQ(one.code, 0) << one.err;
}

TEST(Bpmf, CheckpointAndResumeEqualOneRun) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 80 --items 50 --density 0.25 --test-fraction 0.2 --out " + d.file("g.h5")).code, 0);
    const std::string base = " train --method bpmf --train " + d.file("g.h5") + " --factors 5 --burnin 3";
    ASSERT_EQ(run(program() + base + " --samples 6 --out " + d.file("full.h5")).code, 0);
    // Interrupted after 3 + 2 sweeps (checkpoints on the way), then resumed to 3 + 6 on 2 ranks.
    ASSERT_EQ(run(program() + base + " --samples 2 --checkpoint-every 2 --out " + d.file("ck.h5")).code, 0);
    const auto r = run(program(2) + base + " --samples 6 --resume --out " + d.file("ck.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("resuming from"), std::string::npos);
    const auto read = [](const std::string& path, const std::string& ds) {
        return h5::File::open(path, Comm::self()).read_vector<double>(ds);
    };
    for (const char* ds : {"/model/user_factors", "/model/item_factors", "/history/objective", "/history/test_rmse",
                           "/state/chain_user_factors", "/state/kept_user_precision"})
        EXPECT_EQ(read(d.file("full.h5"), ds), read(d.file("ck.h5"), ds)) << ds;
    // Another burn-in is another chain: refused, naming it.
    const auto other = run(program() + " train --method bpmf --train " + d.file("g.h5") +
                           " --factors 5 --burnin 4 --samples 6 --resume --out " + d.file("ck.h5"));
    EXPECT_NE(other.code, 0);
    EXPECT_NE(other.err.find("burnin"), std::string::npos) << other.err;
}

TEST(Bpmf, KeptSamplesAreFloatsStoredAsFloat32AndEvaluateAgreesWithTraining) {
    // The kept samples are rounded to floats when kept (the chain goes on in double), so the file
    // holds them in half the bytes and the model read back predicts what training measured.
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 80 --items 50 --density 0.3 --test-fraction 0.2 --out " + d.file("g.h5")).code, 0);
    ASSERT_EQ(run(program() + " train --method bpmf --factors 4 --burnin 3 --samples 8 --eval-every 1 --train " + d.file("g.h5") +
                  " --out " + d.file("b.h5")).code, 0);
    const h5::File f = h5::File::open(d.file("b.h5"), Comm::self());
    EXPECT_EQ(f.dataset("/model/user_factors").element_bytes(), 4u);
    EXPECT_EQ(f.dataset("/model/item_factors").element_bytes(), 4u);
    EXPECT_EQ(f.dataset("/state/chain_user_factors").element_bytes(), 8u);  // the chain: exact, to resume
    const auto chain = f.read_vector<double>("/state/chain_user_factors");
    EXPECT_TRUE(std::any_of(chain.begin(), chain.end(), [](double x) { return static_cast<float>(x) != x; }));
    const double trained = f.read_vector<double>("/history/test_rmse").back();
    const auto e = run(program() + " evaluate --json --model " + d.file("b.h5") + " --test " + d.file("g.h5"));
    ASSERT_EQ(e.code, 0) << e.err;
    const auto j = nlohmann::json::parse(e.out);
    // The same predictions: the same RMSE to the last bits of the sum's order.
    EXPECT_NEAR(j["rmse"].get<double>(), trained, 1e-12) << e.out;
}

TEST(Bpmf, PredictionsCarryTheirUncertainty) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 80 --items 50 --density 0.3 --test-fraction 0.2 --out " + d.file("g.h5")).code, 0);
    ASSERT_EQ(run(program() + " train --method bpmf --factors 5 --burnin 5 --samples 30 --train " + d.file("g.h5") +
                  " --out " + d.file("b.h5")).code, 0);
    test::write_text(d.file("pairs.txt"), "0 1\n3 4\nnobody 1\n");
    const auto p = run(program() + " predict --std --model " + d.file("b.h5") + " --pairs " + d.file("pairs.txt") +
                       " --out " + d.file("p.tsv"));
    ASSERT_EQ(p.code, 0) << p.err;
    const std::string out = test::read_text(d.file("p.tsv"));
    std::istringstream in(out);
    std::string u, i, pred, sd;
    in >> u >> i >> pred >> sd;
    EXPECT_EQ(u + " " + i + " " + pred + " " + sd, "user item prediction sd");  // the header
    in >> u >> i >> pred >> sd;
    EXPECT_GT(std::stod(sd), 0.0) << out;  // at least the noise's 1 / sqrt(alpha)
    in >> u >> i >> pred >> sd >> u >> i >> pred >> sd;
    EXPECT_EQ(sd, "nan") << out;  // an unknown user: no posterior
    const auto e = run(program() + " evaluate --json --model " + d.file("b.h5") + " --test " + d.file("g.h5"));
    ASSERT_EQ(e.code, 0) << e.err;
    const auto j = nlohmann::json::parse(e.out);
    ASSERT_TRUE(j.contains("coverage95")) << e.out;
    EXPECT_GT(j["coverage95"].get<double>(), 0.8);
    EXPECT_LE(j["coverage95"].get<double>(), 1.0);
    // An ALS model has no uncertainty to rank by: refused by name.
    ASSERT_EQ(run(program() + " train --factors 4 --iters 2 --train " + d.file("g.h5") + " --out " + d.file("a.h5")).code, 0);
    const auto lcb = run(program() + " recommend --rank-by lcb --user 0 --model " + d.file("a.h5"));
    EXPECT_NE(lcb.code, 0);
    EXPECT_NE(lcb.err.find("'als' model has no uncertainty"), std::string::npos) << lcb.err;
    EXPECT_EQ(run(program() + " recommend --rank-by lcb --user 0 --model " + d.file("b.h5")).code, 0);
}
