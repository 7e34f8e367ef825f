// The model file: format version 2 keeps typed parameters; version 1 files still load.
#include <gtest/gtest.h>

#include "distcf/app/model_file.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/model/als.hpp"
#include "helpers.hpp"

using namespace distcf;

namespace {

// A model file as distcf 0.1 wrote it (format version 1): every parameter a double, `rank`,
// `formulation` "seed", row_solve as 0/1/2.
void write_version1(const std::string& path, std::int64_t version = 1) {
    h5::File f = h5::File::create(path, Comm::self());
    f.set_attr("format", std::string("distcf-model"));
    f.set_attr("format_version", version);
    {
        const auto g = f.create_group("/model");
        g.set_attr("method", std::string("als"));
        g.set_attr("formulation", std::string("seed"));
        g.set_attr("rank", std::int64_t{2});
        g.set_attr("lambda", 0.25);
        g.set_attr("n_users", std::int64_t{2});
        g.set_attr("n_items", std::int64_t{3});
        g.set_attr("mu", 0.0);
        g.set_attr("global_mean", 3.0);
        g.set_attr("rating_min", 1.0);
        g.set_attr("rating_max", 5.0);
        g.set_attr("iterations_done", std::int64_t{5});
        g.set_attr("param_iters", 5.0);
        g.set_attr("param_tol", 0.0);
        g.set_attr("param_seed", 7.0);
        g.set_attr("param_init_sd", 0.1);
        g.set_attr("param_row_solve", 1.0);
    }
    f.write_vector("/model/user_bias", std::vector<double>{});
    f.write_vector("/model/item_bias", std::vector<double>{});
    f.write_vector("/model/user_factors", std::vector<double>{1, 0, 0, 1}, 2);
    f.write_vector("/model/item_factors", std::vector<double>{1, 1, 2, 0, 0, 3}, 2);
    f.write_vector("/model/user_counts", std::vector<std::int64_t>{3, 3});
    f.write_vector("/model/item_counts", std::vector<std::int64_t>{2, 2, 2});
    for (const char* h : {"objective", "train_rmse", "test_rmse", "seconds", "gflops"})
        f.write_vector(std::string("/history/") + h, std::vector<double>(5, 0.0));
    write_ids(f, "/ids/users", IdMap::identity(2));
    write_ids(f, "/ids/items", IdMap::identity(3));
    f.close();
}

}  // namespace

TEST(ModelFile, VersionOneFilesLoadWithTheirParametersTranslated) {
    test::TempDir d;
    write_version1(d.file("v1.h5"));
    const FactorModel m = load_model(d.file("v1.h5"), Comm::self());
    EXPECT_EQ(m.method, "als");
    EXPECT_EQ(m.n_factors, 2);
    const AlsParams p = from_record<AlsParams>(m.params);
    EXPECT_EQ(p.formulation, AlsFormulation::Notebook);
    EXPECT_EQ(p.factors, 2);
    EXPECT_EQ(p.lambda, 0.25);
    EXPECT_EQ(p.iters, 5);
    EXPECT_EQ(p.rng_seed, 7u);
    EXPECT_EQ(p.row_solve, RowForm::Primal);
    EXPECT_DOUBLE_EQ(m.predict(1, 2), 3.0);  // u1 = (0, 1), i2 = (0, 3)
    // Saved again, it is a version 2 file with the same parameters and predictions.
    save_model(d.file("v2.h5"), m, IdMap::identity(2), IdMap::identity(3), Provenance::now("test"), Comm::self());
    const FactorModel again = load_model(d.file("v2.h5"), Comm::self());
    EXPECT_EQ(again.params, m.params);
    EXPECT_EQ(h5::File::open(d.file("v2.h5"), Comm::self()).attr_int("format_version"), 2);
    EXPECT_DOUBLE_EQ(again.predict(1, 2), 3.0);
}

TEST(ModelFile, AnUnknownVersionIsRefusedNamingIt) {
    test::TempDir d;
    write_version1(d.file("v9.h5"), 9);
    try {
        load_model(d.file("v9.h5"), Comm::self());
        FAIL() << "version 9 was read";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("format_version 9"), std::string::npos) << e.what();
    }
}

TEST(ModelFile, FactorsThatAreAllFloatsAreStoredAsFloat32AndReadBackExactly) {
    test::TempDir d;
    FactorModel m;
    m.method = "als";
    m.n_users = 2;
    m.n_items = 3;
    m.n_factors = 2;
    m.rating_min = 1;
    m.rating_max = 5;
    m.user_counts = {3, 3};
    m.item_counts = {2, 2, 2};
    m.U = {static_cast<float>(1.0 / 3), -0.5, 0.25, static_cast<float>(2.0 / 7)};  // floats' values
    m.V = {1, static_cast<float>(0.1), 2, 0, -1e-3f, 3};
    m.item_bias = {0.1, 0.2, 0.3};  // doubles: stays float64
    save_model(d.file("f.h5"), m, IdMap::identity(2), IdMap::identity(3), Provenance::now("test"), Comm::self());
    {
        const h5::File f = h5::File::open(d.file("f.h5"), Comm::self());
        EXPECT_EQ(f.dataset("/model/user_factors").element_bytes(), 4u);
        EXPECT_EQ(f.dataset("/model/item_factors").element_bytes(), 4u);
        EXPECT_EQ(f.dataset("/model/item_bias").element_bytes(), 8u);
    }
    const FactorModel back = load_model(d.file("f.h5"), Comm::self());
    EXPECT_EQ(back.U, m.U);
    EXPECT_EQ(back.V, m.V);
    EXPECT_EQ(back.item_bias, m.item_bias);
    // One value a float cannot hold keeps the whole array in float64, exactly.
    m.U[3] = 2.0 / 7;
    save_model(d.file("g.h5"), m, IdMap::identity(2), IdMap::identity(3), Provenance::now("test"), Comm::self());
    EXPECT_EQ(h5::File::open(d.file("g.h5"), Comm::self()).dataset("/model/user_factors").element_bytes(), 8u);
    EXPECT_EQ(load_model(d.file("g.h5"), Comm::self()).U, m.U);
}
