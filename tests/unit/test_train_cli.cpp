// End-to-end training through the program: the notebook's numbers, checkpoint/resume, predict.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "distcf/io/h5.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::program;
using distcf::test::run;

namespace {
std::string seed_data(const test::TempDir& d) {
    const auto r = run("/usr/bin/python3 " DISTCF_SOURCE_DIR "/scripts/seed_dataset.py --out " + d.file("seed.h5"));
    return r.code == 0 ? d.file("seed.h5") : "";
}
std::vector<double> read(const std::string& path, const std::string& ds) {
    return h5::File::open(path, Comm::self()).read_vector<double>(ds);
}
}  // namespace

TEST(TrainCli, ReproducesTheNotebooksBaselineAndSeedAls) {
    test::TempDir d;
    const auto data = seed_data(d);
    if (data.empty()) GTEST_SKIP() << "numpy/h5py missing";
    auto r = run(program() + " train --method baseline --baseline seed --train " + data + " --out " + d.file("b.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("train RMSE 0.4311  test RMSE 0.4815"), std::string::npos) << r.out;
    r = run(program(2) + " train --method als --formulation seed --rank 3 --lambda 0.1 --iters 60 --init " + data +
            " --train " + data + " --out " + d.file("a.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("train RMSE 0.2392  test RMSE 0.5678"), std::string::npos) << r.out;
    const auto e = run(program() + " evaluate --json --model " + d.file("a.h5") + " --test " + data);
    const auto j = nlohmann::json::parse(e.out);
    EXPECT_NEAR(j["rmse"].get<double>(), 0.5678, 5e-5);
    EXPECT_EQ(j["n"], 199);
}

TEST(TrainCli, BiasedAlsChosenByValidationBeatsTheNotebooksBestSvd) {
    // k and lambda by 5-fold cross-validation on the 800 training ratings only; the 199 test
    // ratings are scored once, after the choice. The notebook's best SVD scores 0.4641.
    test::TempDir d;
    const auto data = seed_data(d);
    if (data.empty()) GTEST_SKIP() << "numpy/h5py missing";
    const auto r = run(program(2) + " sweep --train " + data + " --ranks 1,2,3,4,5,6,8 --lambdas 0.03,0.05,0.07,0.1,0.15,0.2,0.3" +
                       " --folds 5 --iters 30 --out " + d.file("m.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("5-fold cross-validation"), std::string::npos) << r.out;
    const auto e = run(program() + " evaluate --json --model " + d.file("m.h5") + " --test " + data);
    ASSERT_EQ(e.code, 0) << e.err;
    const double test_rmse = nlohmann::json::parse(e.out)["rmse"].get<double>();
    EXPECT_LE(test_rmse, 0.450) << r.out;
    EXPECT_LT(test_rmse, 0.4641);
    h5::File f = h5::File::open(d.file("m.h5"), Comm::self());
    EXPECT_EQ(f.read_vector<double>("/sweep/validation_rmse").size(), 49u);
    EXPECT_EQ(f.group("/sweep").attr_int("validation_ratings"), 800);
}

TEST(TrainCli, SvdReproducesTheNotebooksTableOnEveryGrid) {
    test::TempDir d;
    const auto data = seed_data(d);
    if (data.empty()) GTEST_SKIP() << "numpy/h5py missing";
    // The notebook's table (train / test RMSE per k) and its choice of k by test RMSE.
    const char* rows[] = {"     1       0.3931       0.4765", "     2       0.3661       0.4687", "     3       0.3418       0.4641",
                          "     5       0.3050       0.4737", "     8       0.2608       0.4874", "    10       0.2344       0.4827",
                          "    15       0.1782       0.4867", "    20       0.1339       0.4833", "    30       0.0687       0.4865"};
    for (int np : {1, 2, 4}) {
        const auto r = run(program(np) + " train --method svd --baseline seed --select-k test --svd-solver dense --train " +
                           data + " --out " + d.file("s.h5"));
        ASSERT_EQ(r.code, 0) << r.err;
        for (const char* row : rows) EXPECT_NE(r.out.find(row), std::string::npos) << np << " ranks, missing: " << row << "\n" << r.out;
        EXPECT_NE(r.out.find("svd (dense, k=3 by test)     train RMSE 0.3418  test RMSE 0.4641"), std::string::npos) << r.out;
    }
    // evaluate uses the chosen k by default and any k on request.
    auto e = nlohmann::json::parse(run(program() + " evaluate --json --model " + d.file("s.h5") + " --test " + data).out);
    EXPECT_EQ(e["k"], 3);
    EXPECT_NEAR(e["rmse"].get<double>(), 0.4641, 5e-5);
    e = nlohmann::json::parse(run(program() + " evaluate --json --k 10 --model " + d.file("s.h5") + " --test " + data).out);
    EXPECT_NEAR(e["rmse"].get<double>(), 0.4827, 5e-5);
    EXPECT_NE(run(program() + " evaluate --k 31 --model " + d.file("s.h5") + " --test " + data).code, 0);
    h5::File f = h5::File::open(d.file("s.h5"), Comm::self());
    EXPECT_EQ(f.read_vector<double>("/svd/singular_values").size(), 50u);
    EXPECT_EQ(f.group("/svd").attr_int("k_selected"), 3);
}

TEST(TrainCli, SvdChoosesKOnAValidationSplitOfTheTrainingData) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 200 --items 120 --density 0.3 --test-fraction 0.2 --out " + d.file("g.h5")).code, 0);
    const auto r = run(program(2) + " train --method svd --ranks 1,2,4,8,16 --train " + d.file("g.h5") + " --out " + d.file("s.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    h5::File f = h5::File::open(d.file("s.h5"), Comm::self());
    const auto val = f.read_vector<double>("/svd/validation_rmse");
    const auto k = f.read_vector<std::int64_t>("/svd/k");
    ASSERT_EQ(val.size(), 5u);
    const auto best = k[static_cast<std::size_t>(std::min_element(val.begin(), val.end()) - val.begin())];
    EXPECT_EQ(f.group("/svd").attr_int("k_selected"), best);
    // The generator's five genres: the chosen k is small. Past the signal the residual's spectrum is
    // flat noise, where a randomized sketch is only approximate: the leading values agree to 1%.
    EXPECT_LE(best, 8);
    const auto q = run(program(2) + " train --method svd --svd-solver randomized --ranks 1,2,4,8,16 --train " + d.file("g.h5") +
                       " --out " + d.file("r.h5"));
    ASSERT_EQ(q.code, 0) << q.err;
    const auto sd = f.read_vector<double>("/svd/singular_values");
    const auto sr = h5::File::open(d.file("r.h5"), Comm::self()).read_vector<double>("/svd/singular_values");
    for (int c = 0; c < 4; ++c) EXPECT_NEAR(sr[c], sd[c], 1e-2 * sd[c]) << c;
}

TEST(TrainCli, CheckpointAndResumeEndBitIdenticalToOneRun) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 90 --items 60 --density 0.2 --test-fraction 0.2 --out " + d.file("g.h5")).code, 0);
    // k = 12: user rows (about 10 ratings) take the dual form, item rows (about 14) mostly the primal one.
    const std::string base = " train --train " + d.file("g.h5") + " --rank 12 --lambda 0.1 --iters 8";
    ASSERT_EQ(run(program() + base + " --out " + d.file("full.h5")).code, 0);
    // An interrupted run: 5 iterations with checkpoints, then resumed to 8.
    ASSERT_EQ(run(program() + " train --train " + d.file("g.h5") + " --rank 12 --lambda 0.1 --iters 5 --out " + d.file("ck.h5")).code, 0);
    // Another row form would change the last bits: refused.
    const auto other = run(program() + base + " --resume --row-solve primal --out " + d.file("ck.h5"));
    EXPECT_NE(other.code, 0);
    EXPECT_NE(other.err.find("other data or parameters"), std::string::npos) << other.err;
    const auto r = run(program(2) + base + " --resume --checkpoint-every 2 --out " + d.file("ck.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("resuming from"), std::string::npos);
    for (const char* ds : {"/model/user_factors", "/model/item_factors", "/model/item_bias", "/history/objective"})
        EXPECT_EQ(read(d.file("full.h5"), ds), read(d.file("ck.h5"), ds)) << ds;
}

TEST(TrainCli, PredictSpeaksExternalIdsAndCountsUnknownPairs) {
    test::TempDir d;
    test::write_text(d.file("r.csv"), "a,x,5\na,y,3\nb,x,4\nb,z,1\nc,y,2\nc,z,2\n");
    ASSERT_EQ(run(program() + " import --input " + d.file("r.csv") + " --out " + d.file("r.h5")).code, 0);
    ASSERT_EQ(run(program() + " train --method baseline --train " + d.file("r.h5") + " --out " + d.file("m.h5")).code, 0);
    test::write_text(d.file("pairs.txt"), "a z\nnobody x\n");
    const auto r = run(program() + " predict --model " + d.file("m.h5") + " --pairs " + d.file("pairs.txt") + " --out " + d.file("p.tsv"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find("1 unknown users"), std::string::npos) << r.err;
    const auto out = test::read_text(d.file("p.tsv"));
    EXPECT_EQ(out.substr(0, 25), "user\titem\tprediction\na\tz\t");  // a header, then the pairs in order
    EXPECT_NE(out.find("nobody\tx\t"), std::string::npos);
}

TEST(StudyCli, PrintsTheNotebooksNumbersBesideOursAndTheReportDrawsEveryFigure) {
    test::TempDir d;
    const auto data = seed_data(d);
    if (data.empty()) GTEST_SKIP() << "numpy/h5py missing";
    const auto r = run(program(2) + " study --data " + data + " --out " + d.file("res/study.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    for (const char* row : {"baseline (notebook)               -        -       0.4311      0.4815",
                            "SVD (notebook: best k by test)    3        -       0.3418      0.4641",
                            "ALS (notebook)                    3      0.1       0.2392      0.5678"})
        EXPECT_NE(r.out.find(row), std::string::npos) << "missing: " << row << "\n" << r.out;
    h5::File f = h5::File::open(d.file("res/study.h5"), Comm::self());
    const auto test_rmse = f.read_vector<double>("/comparison/test_rmse");
    ASSERT_EQ(test_rmse.size(), 5u);
    EXPECT_LE(test_rmse[3], 0.450);  // ours: k and lambda by 5-fold validation on the training ratings
    EXPECT_LE(test_rmse[4], 0.450);  // Bayesian MF: no lambda, the noise level drawn from the data
    // The report: every figure written, and none of them blank.
    const auto rep = run("/usr/bin/python3 " DISTCF_SOURCE_DIR "/scripts/report.py " + d.file("res/study.h5") + " --out " + d.file("rep"));
    ASSERT_EQ(rep.code, 0) << rep.err;
    const auto check = run("/usr/bin/python3 -c \"import sys, matplotlib.image as im, numpy as np\n"
                           "names = ['rating_matrices', 'svd_rmse_vs_k', 'als_convergence', 'test_rmse_by_method', 'movie_similarity',"
                           " 'latent_projection', 'predicted_vs_observed', 'genre_alignment']\n"
                           "for n in names:\n"
                           "    a = im.imread(sys.argv[1] + '/' + n + '.png')\n"
                           "    assert a.shape[0] > 200 and a.shape[1] > 200 and float(np.std(a[..., :3])) > 0.02, n\n"
                           "print('ok', len(names))\" " + d.file("rep"));
    EXPECT_EQ(check.code, 0) << check.out << check.err;
    EXPECT_NE(check.out.find("ok 8"), std::string::npos);
    EXPECT_NE(test::read_text(d.file("rep/index.html")).find("0.4641"), std::string::npos);
}

TEST(SweepCli, DensitySweepAnswersTheSeedsQuestionAndTheReportPlotsIt) {
    test::TempDir d;
    const auto r = run(program(2) + " sweep --densities 0.05,0.25 --gen-users 200 --gen-items 120 --ranks 2,5 --lambdas 0.05,0.2,0.8" +
                       " --folds 3 --iters 10 --out " + d.file("dens.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("best lambda"), std::string::npos) << r.out;
    h5::File f = h5::File::open(d.file("dens.h5"), Comm::self());
    EXPECT_EQ(f.read_vector<double>("/best_lambda").size(), 2u);
    EXPECT_EQ(f.read_vector<double>("/sweep1/validation_rmse").size(), 6u);
    const auto rep = run("/usr/bin/python3 " DISTCF_SOURCE_DIR "/scripts/report.py " + d.file("dens.h5") + " --out " + d.file("rep"));
    ASSERT_EQ(rep.code, 0) << rep.err;
    EXPECT_NE(rep.out.find("2 figures"), std::string::npos) << rep.out;
    EXPECT_EQ(run(program() + " sweep --densities 0.1 --train " + d.file("dens.h5") + " --out " + d.file("x.h5")).code, 2);
}

TEST(TrainCli, OptionsSetTheChosenMethodsTypedParameters) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 70 --items 40 --density 0.25 --out " + d.file("g.h5")).code, 0);
    const std::string base = program() + " train --train " + d.file("g.h5") + " --iters 3 --lambda 0.1";
    // --factors, and --rank as its older name, set the same parameter; so do notebook and seed.
    ASSERT_EQ(run(base + " --factors 6 --formulation notebook --out " + d.file("a.h5")).code, 0);
    const auto b = run(base + " --rank 6 --formulation seed --out " + d.file("b.h5"));
    ASSERT_EQ(b.code, 0) << b.err;
    EXPECT_EQ(read(d.file("a.h5"), "/model/user_factors"), read(d.file("b.h5"), "/model/user_factors"));
    const h5::File f = h5::File::open(d.file("a.h5"), Comm::self());
    const auto g = f.group("/model");
    EXPECT_EQ(g.attr_int("n_factors"), 6);
    EXPECT_EQ(g.attr_int("param_factors"), 6);  // an integer, not a double
    EXPECT_EQ(g.attr_int("param_iters"), 3);
    EXPECT_EQ(g.attr_string("param_formulation"), "notebook");
    EXPECT_EQ(g.attr_string("param_row_solve"), "auto");
    // An option the method does not have, and a bad value: usage errors naming them.
    const auto no = run(program() + " train --method baseline --factors 6 --train " + d.file("g.h5") + " --out " + d.file("c.h5"));
    EXPECT_EQ(no.code, 2);
    EXPECT_NE(no.err.find("--factors: not a parameter of method 'baseline'"), std::string::npos) << no.err;
    const auto zero = run(base + " --factors 0 --out " + d.file("c.h5"));
    EXPECT_EQ(zero.code, 2);
    EXPECT_NE(zero.err.find("factors: must be in [1, 1024]"), std::string::npos) << zero.err;
    const auto word = run(base + " --factors many --out " + d.file("c.h5"));
    EXPECT_EQ(word.code, 2);
    EXPECT_NE(word.err.find("--factors: expected an integer, got 'many'"), std::string::npos) << word.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("c.h5")));
}

TEST(TrainCli, ImplicitEarlyStoppingShowsTheValidationNdcgAndSaysWhereItStopped) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 160 --items 90 --density 0.3 --implicit --out " + d.file("g.h5")).code, 0);
    const std::string base = program() + " train --method ials --train " + d.file("g.h5") +
                             " --factors 8 --lambda 0.01 --alpha 2 --iters 40 --validation-fraction 0.2 --early-stopping 2";
    const auto r = run(base + " --out " + d.file("m.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("valid. NDCG@10"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("early stopping: the best validation NDCG@10 came at iteration"), std::string::npos) << r.out;
    const h5::File f = h5::File::open(d.file("m.h5"), Comm::self());
    EXPECT_GT(f.group("/model").attr_int("best_iteration"), 0);
    // The JSON log carries the figure under its own name, never as an RMSE.
    const auto j = run(program() + " --log-format json train --method ials --train " + d.file("g.h5") +
                       " --factors 8 --lambda 0.01 --alpha 2 --iters 3 --validation-fraction 0.2 --out " + d.file("j.h5"));
    ASSERT_EQ(j.code, 0) << j.err;
    EXPECT_NE(j.err.find("\"validation_ndcg\""), std::string::npos) << j.err;
    EXPECT_EQ(j.err.find("\"validation_rmse\""), std::string::npos) << j.err;
}

TEST(TrainCli, AResumeRefusalNamesTheParameterThatDiffers) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 70 --items 40 --density 0.25 --out " + d.file("g.h5")).code, 0);
    const std::string base = program() + " train --train " + d.file("g.h5") + " --factors 4 --out " + d.file("ck.h5");
    ASSERT_EQ(run(base + " --iters 2 --lambda 0.1").code, 0);
    const auto r = run(base + " --iters 4 --lambda 0.2 --resume");
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("other data or parameters (lambda: checkpoint 0.1, now 0.2)"), std::string::npos) << r.err;
    const auto ok = run(base + " --iters 4 --lambda 0.1 --resume");
    ASSERT_EQ(ok.code, 0) << ok.err;
    EXPECT_EQ(h5::File::open(d.file("ck.h5"), Comm::self()).group("/model").attr_int("iterations_done"), 4);
}
