// recommend / similar / evaluate --ranking through the program.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <random>
#include <sstream>

#include "distcf/io/h5.hpp"
#include "distcf/io/store.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::program;
using distcf::test::run;

namespace {

// The item IDs printed by `recommend --user`, in order.
std::vector<std::string> listed_items(const std::string& out) {
    std::vector<std::string> ids;
    std::istringstream in(out);
    std::string line;
    bool table = false;
    while (std::getline(in, line)) {
        if (line.find("rank  item") != std::string::npos) {
            table = true;
            continue;
        }
        if (!table) continue;
        std::istringstream f(line);
        std::string rank, item;
        f >> rank >> item;
        ids.push_back(item);
    }
    return ids;
}

void all_users_agrees_with_single_user(const std::string& model, const test::TempDir& d, int users_to_check) {
    const auto r = run(program(3) + " recommend --model " + model + " --all-users --top 10 --out " + d.file("recs.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    std::printf("%s", r.out.c_str());
    h5::File f = h5::File::open(d.file("recs.h5"), Comm::self());
    const auto items = f.dataset("/recommendations/items").read_rows<std::int32_t>(0, f.dataset("/recommendations/items").rows());
    const IdMap user_ids = read_ids(f, "/ids/users"), item_ids = read_ids(f, "/ids/items");
    std::mt19937 g(7);
    for (int t = 0; t < users_to_check; ++t) {
        const auto u = static_cast<std::int64_t>(g() % static_cast<unsigned>(user_ids.size()));
        const auto one = run(program() + " recommend --model " + model + " --top 10 --user " + user_ids.label(u));
        ASSERT_EQ(one.code, 0) << one.err;
        const auto listed = listed_items(one.out);
        ASSERT_EQ(listed.size(), 10u) << one.out;
        for (int r = 0; r < 10; ++r) EXPECT_EQ(listed[r], item_ids.label(items[u * 10 + r])) << "user " << user_ids.label(u);
    }
}

}  // namespace

TEST(RecommendCli, AllUsersAgreesWithTheSingleUserCommandOnGeneratedData) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 300 --items 200 --density 0.1 --out " + d.file("g.h5")).code, 0);
    ASSERT_EQ(run(program(2) + " train --rank 8 --iters 5 --train " + d.file("g.h5") + " --out " + d.file("m.h5")).code, 0);
    all_users_agrees_with_single_user(d.file("m.h5"), d, 20);
    // Rated items never come back; an unknown user gets the most rated items.
    const auto cold = run(program() + " recommend --model " + d.file("m.h5") + " --user nobody --top 3");
    ASSERT_EQ(cold.code, 0) << cold.err;
    EXPECT_NE(cold.out.find("not in the model"), std::string::npos);
    EXPECT_EQ(listed_items(cold.out).size(), 3u);
}

TEST(RecommendCli, AllUsersAgreesWithTheSingleUserCommandOnMovieLens) {
    DISTCF_REQUIRE_ML100K();
    test::TempDir d;
    ASSERT_EQ(run(program() + " import --format movielens100k --input " + test::ml100k("u1.base") + " --out " + d.file("b.h5")).code, 0);
    ASSERT_EQ(run(program(2) + " train --rank 64 --train " + d.file("b.h5") + " --out " + d.file("m.h5")).code, 0);
    all_users_agrees_with_single_user(d.file("m.h5"), d, 20);
}

TEST(RecommendCli, SimilarAndRankingMetrics) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 300 --items 200 --density 0.1 --test-fraction 0.2 --out " + d.file("g.h5")).code, 0);
    ASSERT_EQ(run(program() + " train --rank 5 --iters 8 --train " + d.file("g.h5") + " --out " + d.file("m.h5")).code, 0);
    const auto s = run(program() + " similar --model " + d.file("m.h5") + " --item 3 --top 4");
    ASSERT_EQ(s.code, 0) << s.err;
    EXPECT_EQ(listed_items(s.out).size(), 4u);
    const auto one = run(program() + " evaluate --json --ranking --top 5 --relevant 4 --model " + d.file("m.h5") + " --test " + d.file("g.h5"));
    const auto three = run(program(3) + " evaluate --json --ranking --top 5 --relevant 4 --model " + d.file("m.h5") + " --test " + d.file("g.h5"));
    ASSERT_EQ(one.code, 0) << one.err;
    const auto j = nlohmann::json::parse(one.out);
    EXPECT_GT(j["model"]["users"].get<int>(), 0);
    EXPECT_GE(j["model"]["ndcg@5"].get<double>(), 0.0);
    EXPECT_LE(j["model"]["ndcg@5"].get<double>(), 1.0);
    EXPECT_EQ(j, nlohmann::json::parse(three.out));  // rank-count invariant, to the bit
    EXPECT_NE(run(program() + " similar --model " + d.file("m.h5") + " --item no-such-item").code, 0);
}

TEST(RecommendCli, ImplicitAlsBeatsPopularityOnGeneratedInteractions) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 3000 --items 1000 --density 0.2 --implicit --test-fraction 0.2 --out " + d.file("i.h5")).code, 0);
    const auto t = run(program(2) + " train --method ials --rank 16 --lambda 10 --alpha 1 --iters 10 --train " + d.file("i.h5") +
                       " --out " + d.file("m.h5"));
    ASSERT_EQ(t.code, 0) << t.err;
    const auto e = run(program(2) + " evaluate --json --ranking --top 10 --relevant 1 --model " + d.file("m.h5") + " --test " + d.file("i.h5"));
    ASSERT_EQ(e.code, 0) << e.err;
    const auto j = nlohmann::json::parse(e.out);
    const double ours = j["model"]["ndcg@10"].get<double>(), pop = j["popularity"]["ndcg@10"].get<double>();
    std::printf("generated implicit set: NDCG@10 ials %.4f, popularity %.4f\n", ours, pop);
    EXPECT_GT(ours, 1.2 * pop);
    EXPECT_GT(j["model"]["map@10"].get<double>(), 1.2 * j["popularity"]["map@10"].get<double>());
}
