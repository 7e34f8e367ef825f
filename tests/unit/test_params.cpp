// Typed method parameters: one field list converts a parameter struct to and from its record.
#include <gtest/gtest.h>

#include "distcf/model/als.hpp"
#include "distcf/model/ials.hpp"
#include "distcf/model/svd.hpp"

using namespace distcf;

TEST(Params, RecordKeepsIntegersIntegersAndEnumerationsNames) {
    AlsParams p;
    p.factors = 7;
    p.formulation = AlsFormulation::Notebook;
    p.row_solve = RowForm::Dual;
    const ParamRecord r = to_record(p);
    EXPECT_TRUE(std::holds_alternative<std::int64_t>(r.at("factors")));
    EXPECT_EQ(r.integer("factors"), 7);
    EXPECT_TRUE(std::holds_alternative<double>(r.at("lambda")));
    EXPECT_EQ(r.word("formulation"), "notebook");
    EXPECT_EQ(r.word("row_solve"), "dual");
    const AlsParams q = from_record<AlsParams>(r);
    EXPECT_EQ(q.factors, 7);
    EXPECT_EQ(q.formulation, AlsFormulation::Notebook);
    EXPECT_EQ(q.row_solve, RowForm::Dual);
    EXPECT_EQ(to_record(q), r);
}

TEST(Params, MissingNamesTakeTheDefaults) {
    ParamRecord r;
    r.set("alpha", 3.0);
    const IalsParams p = from_record<IalsParams>(r);
    EXPECT_EQ(p.alpha, 3.0);
    EXPECT_EQ(p.factors, IalsParams{}.factors);
    EXPECT_EQ(p.solver, IalsSolver::Auto);
}

TEST(Params, AWrongTypeOrAnUnknownNameIsRefusedNamingTheField) {
    ParamRecord r;
    r.set("factors", 2.5);
    try {
        from_record<AlsParams>(r);
        FAIL() << "a real for an integer field was accepted";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("factors"), std::string::npos) << e.what();
    }
    ParamRecord w;
    w.set("formulation", std::string("sideways"));
    try {
        from_record<AlsParams>(w);
        FAIL() << "an unknown formulation was accepted";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("formulation: must be one of notebook, biased"), std::string::npos) << e.what();
    }
    ParamRecord u;
    u.set("rank", std::int64_t{3});
    EXPECT_THROW(from_record<AlsParams>(u), InputError);
}

TEST(Params, FormatVersionOneDoublesReadAsIntegersOnlyWhenIntegral) {
    ParamRecord r;
    r.set("iters", 12.0);
    EXPECT_EQ(from_record<AlsParams>(r, true).iters, 12);
    EXPECT_THROW(from_record<AlsParams>(r, false), InputError);
    r.set("iters", 12.5);
    EXPECT_THROW(from_record<AlsParams>(r, true), InputError);
}

TEST(Params, ListsAndNestedStructsRoundTrip) {
    SvdParams p;
    p.factor_grid = {1, 4, 9};
    p.baseline.estimator = BaselineEstimator::Notebook;
    p.select_k = SelectK::Largest;
    const ParamRecord r = to_record(p);
    EXPECT_EQ(r.word("factor_grid"), "1,4,9");
    EXPECT_EQ(r.word("baseline_estimator"), "notebook");
    const SvdParams q = from_record<SvdParams>(r);
    EXPECT_EQ(q.factor_grid, p.factor_grid);
    EXPECT_EQ(q.baseline.estimator, BaselineEstimator::Notebook);
    EXPECT_EQ(q.select_k, SelectK::Largest);
}

TEST(Params, TheFirstDifferenceIsNamed) {
    AlsParams a, b;
    b.lambda = 0.5;
    EXPECT_EQ(to_record(a).first_difference(to_record(b)), "lambda");
    EXPECT_EQ(to_record(a).first_difference(to_record(a)), "");
    EXPECT_EQ(parse_enum<AlsFormulation>("formulation", "seed", kFormulationAliases), AlsFormulation::Notebook);
}
