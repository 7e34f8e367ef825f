// One suite every registered method passes (as the implicit library's shared test mixin): it
// trains on a tiny set with the MPI ranks of this run and on one rank, saves, loads, predicts as
// before saving, refuses bad parameters by their field's name, and folds in or says it cannot.
// Instantiated over the registry: a new method is tested without a line here.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "distcf/app/generate_file.hpp"
#include "distcf/app/method.hpp"
#include "distcf/app/model_file.hpp"
#include "distcf/app/train.hpp"
#include "distcf/app/training_set.hpp"
#include "distcf/io/h5.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;

namespace {

// A tiny store (60 users x 40 items, 20% held out) in a directory of its own.
struct TinyStore : test::GeneratedStore {
    TinyStore() : GeneratedStore(world(), 60, 40, 0.3) {}
};

// The method's defaults, shrunk to what a tiny set supports: few factors and iterations.
ParamRecord tiny_params(const Method& m) {
    ParamRecord r;
    const ParamRecord d = m.defaults();
    if (d.has("factors")) r.set("factors", std::int64_t{4});
    if (d.has("iters")) r.set("iters", std::int64_t{4});
    if (d.has("factor_grid")) r.set("factor_grid", std::string("1,2,3"));
    if (d.has("lambda") && m.name() == "ials") r.set("lambda", 1.0);
    return r;
}

// Every (user, item) pair's prediction.
std::vector<double> all_predictions(const FactorModel& m) {
    std::vector<double> p;
    for (std::int64_t u = 0; u < m.n_users; ++u)
        for (std::int64_t i = 0; i < m.n_items; ++i) p.push_back(m.predict(u, i));
    return p;
}

std::string refusal(const Method& m, const ParamRecord& r) {
    try {
        m.validate(r);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

class MethodConformance : public ::testing::TestWithParam<std::string> {
protected:
    const Method& method() const { return find_method(GetParam()); }
};

}  // namespace

TEST_P(MethodConformance, TrainsTheSameModelOnAnyNumberOfRanks) {
    const Method& m = method();
    const TinyStore store;
    const TrainingSet mine = load_training_set(store.path, {}, world());
    const TrainingSet one = load_training_set(store.path, {}, Comm::self());
    ASSERT_GT(mine.n_test, 0);
    const TrainResult a = train(m.name(), mine, tiny_params(m), world());
    const TrainResult b = train(m.name(), one, tiny_params(m), Comm::self());
    EXPECT_EQ(a.model.method, m.name());
    EXPECT_EQ(a.model.params, b.model.params);
    const auto pa = all_predictions(m.for_prediction(a.model, 0)), pb = all_predictions(m.for_prediction(b.model, 0));
    ASSERT_EQ(pa.size(), pb.size());
    // Bitwise for the alternating methods and the baseline; the dense SVD's pdgesvd associates
    // differently on another process grid (differences near 1e-13).
    for (std::size_t q = 0; q < pa.size(); ++q) {
        if (m.name() == "svd") EXPECT_NEAR(pa[q], pb[q], 1e-9) << q;
        else EXPECT_EQ(pa[q], pb[q]) << q;
    }
    for (double p : pa) {
        ASSERT_TRUE(std::isfinite(p));
        ASSERT_GE(p, a.model.rating_min);
        ASSERT_LE(p, a.model.rating_max);
    }
}

TEST_P(MethodConformance, PredictsTheSameAfterSavingAndLoading) {
    const Method& m = method();
    const TinyStore store;
    const test::TempDir& dir = store.dir;
    const TrainingSet data = load_training_set(store.path, {}, world());
    const TrainResult r = train(m.name(), data, tiny_params(m), world());
    save_model(dir.file("m.h5"), r.model, data.users, data.items, Provenance::now("conformance"), world(), r.extra,
               &data.train.by_user);
    IdMap users, items;
    const FactorModel back = load_model(dir.file("m.h5"), world(), &users, &items);
    EXPECT_EQ(back.method, m.name());
    EXPECT_EQ(back.params, r.model.params) << "first difference: " << back.params.first_difference(r.model.params);
    EXPECT_EQ(back.n_factors, r.model.n_factors);
    EXPECT_EQ(back.k_selected, r.model.k_selected);
    EXPECT_TRUE(users == data.users);
    EXPECT_TRUE(items == data.items);
    EXPECT_EQ(all_predictions(m.for_prediction(back, 0)), all_predictions(m.for_prediction(r.model, 0)));
    // Parameters keep their types in the file: integers as integers, enumerations as names.
    const h5::File f = h5::File::open(dir.file("m.h5"), world());
    const auto g = f.group("/model");
    for (const auto& [name, v] : r.model.params.values()) {
        const auto kind = g.attr_kind("param_" + name);
        if (std::holds_alternative<std::int64_t>(v)) EXPECT_EQ(kind, h5::Location::AttrKind::Integer) << name;
        if (std::holds_alternative<double>(v)) EXPECT_EQ(kind, h5::Location::AttrKind::Real) << name;
        if (std::holds_alternative<std::string>(v)) EXPECT_EQ(kind, h5::Location::AttrKind::String) << name;
    }
    EXPECT_EQ(f.attr_int("format_version"), kModelFormatVersion);
}

TEST_P(MethodConformance, RefusesABadParameterNamingTheField) {
    const Method& m = method();
    ParamRecord unknown;
    unknown.set("no_such_parameter", std::int64_t{1});
    EXPECT_NE(refusal(m, unknown).find("no_such_parameter"), std::string::npos);
    int refused = 0;
    const ParamRecord defaults = m.defaults();
    for (const auto& [name, v] : defaults.values()) {
        ParamRecord wrong_type;
        wrong_type.set(name, std::holds_alternative<std::string>(v) ? ParamValue{2.5} : ParamValue{std::string("x")});
        const std::string why = refusal(m, wrong_type);
        EXPECT_NE(why.find(name), std::string::npos) << name << ": a value of the wrong type, refused as '" << why << "'";
        // Out of range: -1 for integers, NaN for reals. Whatever is refused names its field.
        ParamRecord bad;
        if (std::holds_alternative<std::int64_t>(v)) bad.set(name, std::int64_t{-1});
        else if (std::holds_alternative<double>(v)) bad.set(name, std::numeric_limits<double>::quiet_NaN());
        else continue;
        const std::string out = refusal(m, bad);
        if (out.empty()) continue;
        ++refused;
        EXPECT_NE(out.find(name), std::string::npos) << name << ": refused as '" << out << "'";
    }
    EXPECT_GT(refused, 0) << "no out-of-range value of any parameter was refused";
}

TEST_P(MethodConformance, FoldsInNewUsersOrSaysItCannot) {
    const Method& m = method();
    const TinyStore store;
    const TrainingSet data = load_training_set(store.path, {}, world());
    const TrainResult r = train(m.name(), data, tiny_params(m), world());
    // Two new users: one rated items 0, 3 and 5, the other item 1.
    const Csr rows = build_csr(0, 2, {0, 0, 0, 1}, {0, 3, 5, 1}, {5.0, 1.0, 4.0, 2.0});
    std::vector<double> f, b;
    if (!m.can_fold_in()) {
        try {
            m.fold_in(r.model, rows, f, b);
            ADD_FAILURE() << m.name() << " says it cannot fold in, but did";
        } catch (const InputError& e) {
            EXPECT_NE(std::string(e.what()).find(m.name()), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("cannot"), std::string::npos) << e.what();
        }
        return;
    }
    m.fold_in(r.model, rows, f, b);
    ASSERT_EQ(f.size(), static_cast<std::size_t>(2 * r.model.n_factors));
    ASSERT_EQ(b.size(), 2u);
    for (double x : f) EXPECT_TRUE(std::isfinite(x));
    double norm = 0;
    for (double x : f) norm += x * x;
    EXPECT_GT(norm, 0.0) << "fold-in left the new users without factors";
    // The same ratings fold in to the same bits (no hidden state).
    std::vector<double> f2, b2;
    m.fold_in(r.model, rows, f2, b2);
    EXPECT_EQ(f, f2);
    EXPECT_EQ(b, b2);
}

INSTANTIATE_TEST_SUITE_P(EveryRegisteredMethod, MethodConformance, ::testing::ValuesIn(method_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });
