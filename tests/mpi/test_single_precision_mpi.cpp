// --precision single: float factors, Y^T Y, exchange and conjugate-gradient kernels. It must track
// the double run closely, keep the model's values exactly representable as floats, and -- like
// double -- give the same bits on any number of ranks and under either exchange.
#include <gtest/gtest.h>

#include <cmath>
#include <list>

#include "distcf/app/train.hpp"
#include "distcf/app/training_set.hpp"
#include "distcf/model/als.hpp"
#include "distcf/la/row_solve.hpp"
#include "distcf/model/ials.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;

namespace {
ParamRecord params(const std::string& precision, std::int64_t k, std::int64_t iters) {
    ParamRecord p;
    p.set("factors", k);
    p.set("iters", iters);
    p.set("lambda", 0.1);
    p.set("solver", std::string("cg"));
    p.set("precision", precision);
    return p;
}
double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}
bool all_floats(const std::vector<double>& v) {
    for (double x : v)
        if (static_cast<double>(static_cast<float>(x)) != x) return false;
    return true;
}
TrainHooks asking(ExchangeKind kind) {
    TrainHooks h;
    h.exchange.options.kind = kind;
    return h;
}
}  // namespace

TEST(SinglePrecision, AlsTracksDoubleAndKeepsFloatValues) {
    const test::GeneratedStore s(world(), 120, 70, 0.3);
    const TrainingSet d = load_training_set(s.path, {}, world());
    const TrainResult dbl = train("als", d, params("double", 8, 10), world());
    const TrainResult sgl = train("als", d, params("single", 8, 10), world());
    // Same algorithm, float round-off: the RMSEs agree to far better than any tuning changes
    // them, yet the factors are not the double ones (the float path really ran).
    EXPECT_NEAR(sgl.model.history.train_rmse.back(), dbl.model.history.train_rmse.back(), 1e-4);
    EXPECT_NEAR(sgl.model.history.test_rmse.back(), dbl.model.history.test_rmse.back(), 1e-4);
    EXPECT_LT(max_difference(sgl.model.U, dbl.model.U), 1e-3);
    EXPECT_GT(max_difference(sgl.model.U, dbl.model.U), 0.0);
    // The model holds exactly what the float sweeps computed.
    EXPECT_TRUE(all_floats(sgl.model.U));
    EXPECT_TRUE(all_floats(sgl.model.V));
    EXPECT_TRUE(all_floats(sgl.model.user_bias));
    EXPECT_TRUE(all_floats(sgl.model.item_bias));
    EXPECT_FALSE(all_floats(dbl.model.U));
}

TEST(SinglePrecision, AlsGivesTheSameBitsOnAnyNumberOfRanksAndEitherExchange) {
    const test::GeneratedStore s(world(), 150, 80, 0.1);
    const TrainingSet d = load_training_set(s.path, {}, world()), one = load_training_set(s.path, {}, Comm::self());
    const ParamRecord p = params("single", 7, 4);
    const TrainResult ref = train("als", one, p, Comm::self(), asking(ExchangeKind::Allgather));
    for (ExchangeKind kind : {ExchangeKind::Allgather, ExchangeKind::Targeted}) {
        const TrainResult t = train("als", d, p, world(), asking(kind));
        EXPECT_EQ(t.model.U, ref.model.U) << enum_name(kind);
        EXPECT_EQ(t.model.V, ref.model.V) << enum_name(kind);
        EXPECT_EQ(t.model.user_bias, ref.model.user_bias) << enum_name(kind);
        EXPECT_EQ(t.model.item_bias, ref.model.item_bias) << enum_name(kind);
        EXPECT_EQ(t.model.history.test_rmse, ref.model.history.test_rmse) << enum_name(kind);
    }
}

TEST(SinglePrecision, AutoSolverIsConjugateGradientAtEveryK) {
    const test::GeneratedStore s(world(), 90, 50, 0.3);
    const TrainingSet d = load_training_set(s.path, {}, world());
    ParamRecord a = params("single", 6, 3), c = a;
    a.set("solver", std::string("auto"));
    EXPECT_EQ(train("als", d, a, world()).model.U, train("als", d, c, world()).model.U);
    EXPECT_TRUE(uses_cg(RowSolverKind::Auto, 2, Precision::Single));
    EXPECT_FALSE(uses_cg(RowSolverKind::Auto, 2, Precision::Double));
}

TEST(SinglePrecision, ExactSolvesAreRefusedNamingTheField) {
    for (const char* method : {"als", "ials"}) {
        ParamRecord p;
        p.set("precision", std::string("single"));
        p.set("solver", std::string("cholesky"));
        const test::GeneratedStore s(world(), 30, 20, 0.3);
        try {
            train(method, load_training_set(s.path, {}, world()), p, world());
            ADD_FAILURE() << method << ": single precision with cholesky was accepted";
        } catch (const ParameterError& e) {
            EXPECT_EQ(std::string(e.what()).rfind("precision:", 0), 0u) << e.what();
        }
    }
}

TEST(SinglePrecision, FloatKernelSolvesAWellConditionedRowAsDoubleDoes) {
    // One user with four items (k = 3, implicit, alpha = 1, lambda = 0.5): three CG steps solve
    // the 3 x 3 system exactly, so float and double agree to float round-off.
    const Csr row = build_csr(0, 1, {0, 0, 0, 0}, {0, 1, 3, 4}, {1.0, 2.0, 1.0, 3.0});
    const std::vector<double> Y = {0.3, -0.1, 0.2, 0.1, 0.4, -0.2, -0.3, 0.2, 0.1, 0.2, 0.1, 0.3, 0.5, -0.4, 0.2};
    const std::vector<double> gram = replicated_gram(Y, 5, 3, Comm::self());
    NormalEquations s;
    s.factors = 3;
    s.lambda = 0.5;
    s.weighted_lambda = false;
    s.implicit = ImplicitTerms{ConfidenceScale::Linear, 1.0, 1.0, &gram};
    RowSolver how;
    std::vector<double> exact, none;
    solve_rows(row, Y, {}, s, how, exact, none);  // Cholesky
    how.cg_steps = 3;
    std::vector<double> x(3, 0.0);
    solve_rows(row, Y, {}, s, how, x, none);
    const std::vector<float> Yf(Y.begin(), Y.end());
    std::vector<float> xf(3, 0.0f), nonef;
    solve_rows(row, Yf, {}, s, how, xf, nonef);
    for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(x[c], exact[c], 1e-12);
        EXPECT_NEAR(xf[c], exact[c], 1e-6 * std::fabs(exact[c]) + 1e-7) << c;
        EXPECT_NE(static_cast<double>(xf[c]), x[c]) << c;  // float arithmetic, not a copy of double
    }
    // Exact solves are double only.
    how.cg_steps = 0;
    EXPECT_THROW(solve_rows(row, Yf, {}, s, how, xf, nonef), InputError);
}

TEST(SinglePrecision, IalsTracksDoubleAndDoesNotDependOnRankCount) {
    // Implicit ALS's item systems are ill-conditioned (confidences up to 500 here), and three
    // warm-started CG steps in float take another path through the directions of small
    // curvature than in double: the factors differ there, the loss barely.
    const Comm& c = world();
    IalsParams p;
    p.factors = 8;
    p.lambda = 0.5;
    p.alpha = 5;
    p.iters = 6;
    p.init_sd = 0.3;
    p.solver = IalsSolver::Cg;
    const RatingBlocks mine = test::generated_blocks(c, 160, 90, 0.3, true);
    const RatingBlocks all = test::generated_blocks(Comm::self(), 160, 90, 0.3, true);
    FactorModel dbl = init_ials(all, p);
    run_ials(dbl, all, p, Comm::self());
    p.precision = Precision::Single;
    FactorModel a = init_ials(mine, p), b = init_ials(all, p);
    run_ials(a, mine, p, c);
    run_ials(b, all, p, Comm::self());
    EXPECT_EQ(a.U, b.U);
    EXPECT_EQ(a.V, b.V);
    EXPECT_EQ(a.history.objective, b.history.objective);
    EXPECT_TRUE(all_floats(b.U));
    EXPECT_TRUE(all_floats(b.V));
    EXPECT_NEAR(b.history.objective.front() / dbl.history.objective.front(), 1.0, 0.01);
    EXPECT_NEAR(b.history.objective.back() / dbl.history.objective.back(), 1.0, 0.01);
    EXPECT_NE(b.V, dbl.V);
}

TEST(SinglePrecision, RepeatedRunsGiveTheSameBits) {
    // OpenBLAS's sgemv, which the explicit CG kernel once called, gave last-bit differences from
    // one call to the next on the same input (16 of 20 runs differed here); the kernel's own loops
    // have one summation order. Checked for both precisions.
    const test::GeneratedStore s(world(), 150, 80, 0.1);
    const TrainingSet one = load_training_set(s.path, {}, Comm::self());
    for (const char* precision : {"single", "double"}) {
        const ParamRecord p = params(precision, 7, 4);
        const TrainResult ref = train("als", one, p, Comm::self());
        int differing = 0;
        for (int i = 0; i < 20; ++i) differing += train("als", one, p, Comm::self()).model.U != ref.model.U;
        EXPECT_EQ(differing, 0) << precision;
    }
}

TEST(SinglePrecision, CgRowsGiveTheSameBitsWhereverTheHeapPutsTheirBuffers) {
    // The CG kernel's loops were versioned by GCC on a run-time overlap test of the row's buffers,
    // and the scalar fallback rounded differently (an FMA where the vector path multiplies, then
    // adds): the bits depended on where malloc put them (a 2-rank run differed from the 1-rank
    // one about 1 run in 25). Here the heap is shifted before every solve; rows of 1 to 40 ratings.
    std::vector<std::int32_t> users, items;
    std::vector<double> values;
    for (int u = 0; u < 40; ++u)
        for (int e = 0; e <= u; ++e) {
            users.push_back(u);
            items.push_back((u * 7 + e * 13) % 50);
            values.push_back(1.0 + (u * 3 + e) % 5);
        }
    const Csr rows = build_csr(0, 40, users, items, values);
    const auto same_bits_everywhere = [&](auto zero, int k) {  // zero: 0.0f or 0.0, the precision
        using T = decltype(zero);
        std::vector<T> Y(static_cast<std::size_t>(50 * k)), item_bias(50, T(0.1));
        for (std::size_t i = 0; i < Y.size(); ++i) Y[i] = T(0.01) * static_cast<T>((i * 37) % 41) - T(0.2);
        NormalEquations eq;
        eq.factors = k;
        eq.lambda = 0.1;
        eq.learn_bias = true;
        RowSolver how;
        how.cg_steps = 3;
        const std::vector<T> start(static_cast<std::size_t>(40 * k), T(0.05)), start_bias(40, zero);
        std::vector<T> ref = start, ref_bias = start_bias;
        solve_rows(rows, Y, item_bias, eq, how, ref, ref_bias);
        std::list<std::vector<char>> shift;  // kept alive and freed in turn: malloc's free lists move
        int differing = 0;
        for (int i = 0; i < 400; ++i) {
            shift.emplace_back(static_cast<std::size_t>(8 + (i * 24) % 520));
            if (i % 3 == 0) shift.pop_front();
            std::vector<T> f = start, b = start_bias;
            solve_rows(rows, Y, item_bias, eq, how, f, b);
            differing += f != ref || b != ref_bias;
        }
        return differing;
    };
    for (int k : {7, 15, 16}) {
        EXPECT_EQ(same_bits_everywhere(0.0f, k), 0) << "single, k = " << k;
        EXPECT_EQ(same_bits_everywhere(0.0, k), 0) << "double, k = " << k;
    }
}
