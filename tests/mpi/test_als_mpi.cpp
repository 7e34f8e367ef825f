#include <gtest/gtest.h>

#include "distcf/data/distribute.hpp"
#include "distcf/data/generate.hpp"
#include "distcf/model/als.hpp"
#include "distcf/model/baseline.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;


TEST(AlsMpi, FactorsAreBitIdenticalForAnyRankCount) {
    const Comm& c = world();
    const RatingBlocks mine = test::generated_blocks(c, 150, 70, 0.2), all = test::generated_blocks(Comm::self(), 150, 70, 0.2);
    // k = 20: user rows (about 14 ratings) take the dual form, item rows (about 30) the primal one.
    for (AlsFormulation formulation : {AlsFormulation::Notebook, AlsFormulation::Biased}) {
        for (int rank : {6, 20}) {
            AlsParams p;
            p.formulation = formulation;
            p.factors = rank;
            p.iters = 6;
            p.lambda = 0.2;
            FactorModel a = init_als(mine, p), b = init_als(all, p);
            run_als(a, mine, Csr{}, p, c);
            run_als(b, all, Csr{}, p, Comm::self());
            EXPECT_EQ(a.U, b.U) << enum_name(formulation) << " k = " << rank;
            EXPECT_EQ(a.V, b.V) << enum_name(formulation) << " k = " << rank;
            EXPECT_EQ(a.user_bias, b.user_bias) << enum_name(formulation) << " k = " << rank;
            EXPECT_EQ(a.history.objective, b.history.objective) << enum_name(formulation) << " k = " << rank;
            EXPECT_EQ(a.history.train_rmse, b.history.train_rmse) << enum_name(formulation) << " k = " << rank;
        }
    }
    BaselineParams bp;
    const FactorModel x = fit_baseline(mine, bp, c), y = fit_baseline(all, bp, Comm::self());
    EXPECT_EQ(x.user_bias, y.user_bias);
    EXPECT_EQ(x.item_bias, y.item_bias);
}
