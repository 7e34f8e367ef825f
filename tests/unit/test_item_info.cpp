#include <gtest/gtest.h>

#include "distcf/error.hpp"
#include "distcf/io/item_info.hpp"
#include "helpers.hpp"

using namespace distcf;

TEST(ItemInfo, ReadsTheThreeMovieLensLayouts) {
    test::TempDir d;
    test::write_text(d.file("u.item"),
                     "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                     "50|Star Wars (1977)|01-Jan-1977||http://y|0|1|1|0|0|0|0|0|0|0|0|0|0|0|1|1|0|1|0\n");
    auto m = read_item_info(d.file("u.item"));
    EXPECT_EQ(m["1"].title, "Toy Story (1995)");
    EXPECT_EQ(m["1"].genres, "Animation|Children's|Comedy");
    EXPECT_EQ(m["50"].genres, "Action|Adventure|Romance|Sci-Fi|War");
    test::write_text(d.file("movies.dat"), "2::Jumanji (1995)::Adventure|Children's|Fantasy\n");
    EXPECT_EQ(read_item_info(d.file("movies.dat"))["2"].title, "Jumanji (1995)");
    test::write_text(d.file("movies.csv"), "movieId,title,genres\n11,\"American President, The (1995)\",Comedy|Drama|Romance\n"
                                           "12,\"Say \"\"Hi\"\" (2001)\",Comedy\n");
    m = read_item_info(d.file("movies.csv"));
    EXPECT_EQ(m["11"].title, "American President, The (1995)");
    EXPECT_EQ(m["11"].genres, "Comedy|Drama|Romance");
    EXPECT_EQ(m["12"].title, "Say \"Hi\" (2001)");
}

TEST(ItemInfo, ShortLinesNameTheFileAndLine) {
    test::TempDir d;
    test::write_text(d.file("u.item"), "1|Toy Story (1995)|01-Jan-1995\n");
    try {
        read_item_info(d.file("u.item"));
        FAIL();
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("u.item:1"), std::string::npos) << e.what();
    }
    EXPECT_THROW(read_item_info(d.file("missing.dat")), InputError);
}

TEST(ItemInfo, RecommendShowsMovieLensTitles) {
    DISTCF_REQUIRE_ML100K();
    test::TempDir d;
    using test::program;
    using test::run;
    ASSERT_EQ(run(program() + " import --format movielens100k --input " + test::ml100k("u1.base") + " --out " + d.file("b.h5")).code, 0);
    ASSERT_EQ(run(program() + " train --rank 10 --iters 5 --train " + d.file("b.h5") + " --out " + d.file("m.h5")).code, 0);
    const auto s = run(program() + " similar --model " + d.file("m.h5") + " --item 50 --top 3 --titles " + test::ml100k("u.item"));
    ASSERT_EQ(s.code, 0) << s.err;
    EXPECT_NE(s.out.find("Star Wars (1977)"), std::string::npos) << s.out;
    const auto r = run(program() + " recommend --model " + d.file("m.h5") + " --user 1 --top 3 --titles " + test::ml100k("u.item"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("title (genres)"), std::string::npos) << r.out;
}
