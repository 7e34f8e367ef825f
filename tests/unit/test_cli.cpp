#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "helpers.hpp"

using distcf::test::program;
using distcf::test::run;
using distcf::test::TempDir;
using distcf::test::write_text;

namespace {
const char* kFixture = "u,i,r\n1,10,4\n1,11,3\n2,10,5\n3,12,2\n3,10,1\n4,11,4.5\n";
}

TEST(Cli, UnknownSubcommandOrOptionExitsWithCode2) {
    auto r = run(program() + " frobnicate");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
    r = run(program() + " info --no-such-option x.h5");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--no-such-option"), std::string::npos) << r.err;
    EXPECT_EQ(run(program()).code, 2);
}

TEST(Cli, EverySubcommandHasHelp) {
    const auto top = run(program() + " --help");
    ASSERT_EQ(top.code, 0);
    const char* subs[] = {"import", "info",   "split",     "generate", "train", "predict", "evaluate",
                          "sweep",  "recommend", "similar", "foldin",   "study", "clean"};
    for (const char* sub : subs) {
        EXPECT_NE(top.out.find(std::string("  ") + sub), std::string::npos) << "top-level help omits " << sub << ": " << top.out;
        const auto r = run(program() + " " + sub + " --help");
        EXPECT_EQ(r.code, 0) << sub;
        EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub << ": " << r.out;
        EXPECT_NE(r.out.find("--"), std::string::npos) << sub << ": no options described";
        // Terms a new user cannot look up: "the notebook's" alone, without saying what it is.
        EXPECT_EQ(r.out.find("the notebook's"), std::string::npos) << sub << ": " << r.out;
    }
    // Every registered method is named where a method is chosen.
    for (const char* m : {"baseline", "als", "ials", "svd", "bpmf"}) {
        EXPECT_NE(run(program() + " train --help").out.find(m), std::string::npos) << m;
        EXPECT_NE(top.out.find(m == std::string("ials") ? "implicit" : m == std::string("bpmf") ? "Bayesian" : m == std::string("als") ? "ALS" : m == std::string("svd") ? "SVD" : "baseline"), std::string::npos) << m;
    }
}

TEST(Cli, ImportThenInfoJsonReportsTheCounts) {
    TempDir d;
    write_text(d.file("r.csv"), kFixture);
    auto r = run(program() + " import --format csv --header --input " + d.file("r.csv") + " --out " + d.file("r.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    r = run(program() + " info " + d.file("r.h5") + " --json");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["users"], 4);
    EXPECT_EQ(j["items"], 3);
    EXPECT_EQ(j["ratings"], 6);
    EXPECT_DOUBLE_EQ(j["density"].get<double>(), 0.5);
}

TEST(Cli, BadInputExitsWith1NamesFileAndLineAndWritesNothing) {
    TempDir d;
    write_text(d.file("r.csv"), "1,10,4\n1,11,abc\n");
    // --quiet: no stage lines, so standard error holds the error alone.
    const auto r = run(program() + " import --quiet --input " + d.file("r.csv") + " --out " + d.file("r.h5"));
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find(d.file("r.csv") + ":2: field 'rating' is not a number"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one-line error: " << r.err;
    EXPECT_FALSE(std::filesystem::exists(d.file("r.h5")));
    std::size_t entries = 0;
    for (auto& e : std::filesystem::directory_iterator(d.path())) entries += e.path().filename() != "r.csv";
    EXPECT_EQ(entries, 0u) << "temporary file left behind";
}

TEST(Cli, OutputDirectoryThatDoesNotExistIsRejectedBeforeParsing) {
    TempDir d;
    write_text(d.file("r.csv"), kFixture);
    const auto r = run(program() + " import --header --input " + d.file("r.csv") + " --out " + d.file("no/r.h5"));
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST(Cli, BadStoreIsRejectedWithExitCode1) {
    TempDir d;
    write_text(d.file("x.h5"), "not hdf5");
    const auto r = run(program() + " info " + d.file("x.h5"));
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("not an HDF5 file"), std::string::npos) << r.err;
}

TEST(Cli, UnderMpirunOnlyRankZeroPrintsAndTheResultMatchesOneRank) {
    TempDir d;
    write_text(d.file("r.csv"), kFixture);
    ASSERT_EQ(run(program(2) + " import --header --input " + d.file("r.csv") + " --out " + d.file("r.h5")).code, 0);
    const auto one = run(program() + " info " + d.file("r.h5"));
    const auto three = run(program(3) + " info " + d.file("r.h5"));
    ASSERT_EQ(one.code, 0) << one.err;
    ASSERT_EQ(three.code, 0) << three.err;
    EXPECT_EQ(one.out, three.out);
}

TEST(Cli, SplitIsTheSameOnOneAndThreeRanks) {
    TempDir d;
    std::string text;
    for (int u = 0; u < 40; ++u)
        for (int i = 0; i < 30; ++i)
            if ((u * 31 + i * 17) % 5 < 2) text += std::to_string(u) + "," + std::to_string(i) + "," + std::to_string(1 + (u + i) % 5) + "\n";
    write_text(d.file("r.csv"), text);
    ASSERT_EQ(run(program() + " import --input " + d.file("r.csv") + " --out " + d.file("r.h5")).code, 0);
    for (const std::string mode : {"", " --per-user"}) {
        auto a = run(program() + " split " + d.file("r.h5") + mode + " --test-fraction 0.25 --seed 7 --out-train " +
                     d.file("a1.h5") + " --out-test " + d.file("b1.h5"));
        ASSERT_EQ(a.code, 0) << a.err;
        auto b = run(program(3) + " split " + d.file("r.h5") + mode + " --test-fraction 0.25 --seed 7 --out-train " +
                     d.file("a3.h5") + " --out-test " + d.file("b3.h5"));
        ASSERT_EQ(b.code, 0) << b.err;
        for (const char* side : {"a", "b"}) {
            const auto x = run("h5dump -d /ratings/user -d /ratings/item -d /ratings/value " + d.file(std::string(side) + "1.h5"));
            const auto y = run("h5dump -d /ratings/user -d /ratings/item -d /ratings/value " + d.file(std::string(side) + "3.h5"));
            auto body = [](std::string s) { return s.substr(s.find('\n')); };  // first line names the file
            EXPECT_EQ(body(x.out), body(y.out)) << mode << " " << side;
        }
        const auto info = run(program() + " info --json " + d.file("b1.h5"));
        const auto j = nlohmann::json::parse(info.out);
        if (mode.empty()) {
            const auto train = nlohmann::json::parse(run(program() + " info --json " + d.file("a1.h5")).out);
            const long long total = j["ratings"].get<long long>() + train["ratings"].get<long long>();
            EXPECT_EQ(j["ratings"].get<long long>(), total / 4);  // floor(0.25 * nnz), as the seed
        }
    }
}

TEST(Cli, ImportsMovieLens100kWithItsDocumentedSize) {
    DISTCF_REQUIRE_ML100K();
    TempDir d;
    auto r = run(program() + " import --format movielens100k --input " + distcf::test::ml100k("u.data") + " --out " + d.file("ml.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    r = run(program() + " info --json " + d.file("ml.h5"));
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["users"], 943);
    EXPECT_EQ(j["items"], 1682);
    EXPECT_EQ(j["ratings"], 100000);
}
