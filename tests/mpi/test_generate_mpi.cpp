#include <gtest/gtest.h>

#include <algorithm>

#include "distcf/data/generate.hpp"
#include "distcf/data/split.hpp"
#include "distcf/io/store.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;


TEST(GenerateMpi, RatingsAndTruthAreIdenticalForAnyRankCount) {
    const Comm& c = world();
    for (const char* pop : {"uniform", "zipf:0.8"}) {
        GenerateParams p;
        p.users = 257;
        p.items = 91;
        p.density = 0.1;
        p.item_popularity = pop;
        p.user_activity = "lognormal:0.5";
        const GenreModel m = make_genre_model(p, c);
        const GeneratedBlock mine = generate_block(p, m, c);
        const GenreModel m1 = make_genre_model(p, Comm::self());
        const GeneratedBlock one = generate_block(p, m1, Comm::self());
        EXPECT_EQ(m.true_min, m1.true_min);
        EXPECT_EQ(m.true_max, m1.true_max);
        EXPECT_EQ(c.allgatherv(mine.ratings.user), one.ratings.user);
        EXPECT_EQ(c.allgatherv(mine.ratings.item), one.ratings.item);
        EXPECT_EQ(c.allgatherv(mine.ratings.value), one.ratings.value);
        EXPECT_EQ(c.allgatherv(mine.truth), one.truth);
        EXPECT_EQ(c.allgatherv(mine.user_factors), one.user_factors);
        SplitOptions so;
        so.rng_seed = 5;
        EXPECT_EQ(c.allgatherv(choose_test(mine.ratings, so, c)), choose_test(one.ratings, so, Comm::self()));
    }
}

TEST(GenerateMpi, CommandWritesTheSameFileOnAnyRankCount) {
    const Comm& c = world();
    test::TempDir d(c);
    if (c.is_root()) {
        const std::string args = " generate --users 120 --items 70 --test-fraction 0.2 --seed 9 --out ";
        const auto a = test::run(test::program() + args + d.file("a.h5"));
        const auto b = test::run(test::program(3) + args + d.file("b.h5"));
        ASSERT_EQ(a.code, 0) << a.err;
        ASSERT_EQ(b.code, 0) << b.err;
    }
    c.barrier();
    for (const char* ds : {"/ratings/user", "/ratings/item", "/ratings/value", "/split/is_test", "/truth/value"}) {
        h5::File fa = h5::File::open(d.file("a.h5"), c), fb = h5::File::open(d.file("b.h5"), c);
        const auto x = fa.dataset(ds), y = fb.dataset(ds);
        ASSERT_EQ(x.rows(), y.rows());
        if (std::string(ds).find("value") != std::string::npos) {
            EXPECT_EQ(x.read_rows<double>(0, x.rows()), y.read_rows<double>(0, y.rows())) << ds;
        } else if (std::string(ds) == "/split/is_test") {
            EXPECT_EQ(x.read_rows<std::uint8_t>(0, x.rows()), y.read_rows<std::uint8_t>(0, y.rows())) << ds;
        } else {
            EXPECT_EQ(x.read_rows<std::int32_t>(0, x.rows()), y.read_rows<std::int32_t>(0, y.rows())) << ds;
        }
    }
    h5::File fa = h5::File::open(d.file("a.h5"), c), fb = h5::File::open(d.file("b.h5"), c);
    EXPECT_EQ(fa.read_vector<double>("/truth/user_factors"), fb.read_vector<double>("/truth/user_factors"));
}

// The command draws and writes in batches (independent writes uncompressed, collective rounds
// compressed); what lands in the file is what generate_block draws in one go on one rank, to the
// bit in double precision and rounded to float in single.
TEST(GenerateMpi, BatchedCommandWritesWhatOneShotGenerationDraws) {
    const Comm& c = world();
    test::TempDir d(c);
    GenerateParams p;
    p.users = 300;
    p.items = 80;
    p.density = 0.2;
    p.rng_seed = 3;
    const GenreModel m = make_genre_model(p, Comm::self());
    const GeneratedBlock one = generate_block(p, m, Comm::self());
    const std::string args = " generate --users 300 --items 80 --density 0.2 --seed 3";
    struct Case {
        std::string name, options;
    };
    for (const Case& k : {Case{"d0.h5", " --precision double --compression 0"}, Case{"d1.h5", " --precision double --compression 1"},
                          Case{"s0.h5", " --precision single --compression 0"},
                          Case{"t0.h5", " --precision double --compression 0 --test-fraction 0.25"}}) {
        if (c.is_root()) {
            const auto r = test::run(test::program(3) + args + k.options + " --out " + d.file(k.name));
            ASSERT_EQ(r.code, 0) << r.err;
        }
        c.barrier();
        h5::File f = h5::File::open(d.file(k.name), c);
        EXPECT_EQ(f.read_vector<std::int32_t>("/ratings/user"), one.ratings.user) << k.name;
        EXPECT_EQ(f.read_vector<std::int32_t>("/ratings/item"), one.ratings.item) << k.name;
        const auto value = f.read_vector<double>("/ratings/value"), truth = f.read_vector<double>("/truth/value");
        ASSERT_EQ(value.size(), one.ratings.value.size());
        ASSERT_EQ(truth.size(), one.truth.size());
        const bool single = k.name[0] == 's';
        for (std::size_t e = 0; e < value.size(); ++e) {
            EXPECT_EQ(value[e], single ? static_cast<double>(static_cast<float>(one.ratings.value[e])) : one.ratings.value[e]);
            EXPECT_EQ(truth[e], single ? static_cast<double>(static_cast<float>(one.truth[e])) : one.truth[e]);
        }
        if (k.name[0] == 't') {  // the split, chosen from the pairs alone, is the one-shot slice's
            SplitOptions so;
            so.test_fraction = 0.25;
            so.rng_seed = 3;
            EXPECT_EQ(f.read_vector<std::uint8_t>("/split/is_test"), choose_test(one.ratings, so, Comm::self()));
        }
    }
}

// Implicit counts: the command draws each user's counts once for the sizes and the header's
// largest count, once more per batch and once for the split, and still writes what one-shot
// generation draws.
TEST(GenerateMpi, BatchedImplicitCommandWritesWhatOneShotGenerationDraws) {
    const Comm& c = world();
    test::TempDir d(c);
    GenerateParams p;
    p.users = 300;
    p.items = 80;
    p.density = 0.3;
    p.rng_seed = 4;
    p.implicit = true;
    const GenreModel m = make_genre_model(p, Comm::self());
    const GeneratedBlock one = generate_block(p, m, Comm::self());
    if (c.is_root()) {
        const auto r = test::run(test::program(3) + " generate --implicit --users 300 --items 80 --density 0.3 --seed 4"
                                 " --precision double --test-fraction 0.2 --out " + d.file("i.h5"));
        ASSERT_EQ(r.code, 0) << r.err;
    }
    c.barrier();
    h5::File f = h5::File::open(d.file("i.h5"), c);
    EXPECT_EQ(f.read_vector<std::int32_t>("/ratings/user"), one.ratings.user);
    EXPECT_EQ(f.read_vector<std::int32_t>("/ratings/item"), one.ratings.item);
    EXPECT_EQ(f.read_vector<double>("/ratings/value"), one.ratings.value);
    const StoreInfo info = read_store_info(d.file("i.h5"), c);
    EXPECT_EQ(info.rating_max, *std::max_element(one.ratings.value.begin(), one.ratings.value.end()));
    SplitOptions so;
    so.test_fraction = 0.2;
    so.rng_seed = 4;
    EXPECT_EQ(f.read_vector<std::uint8_t>("/split/is_test"), choose_test(one.ratings, so, Comm::self()));
}
