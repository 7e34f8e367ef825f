// recommend / similar / evaluate --ranking through the program.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
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

TEST(RecommendCli, RankingOnASampleOfUsersIsTheSameSampleOnAnyNumberOfRanks) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --profile movielens --users 600 --items 200 --density 0.1 --test-fraction 0.2 --out " +
                  d.file("g.h5")).code, 0);
    ASSERT_EQ(run(program() + " train --rank 5 --iters 4 --train " + d.file("g.h5") + " --out " + d.file("m.h5")).code, 0);
    const std::string ranking = " evaluate --json --ranking --top 5 --relevant 4 --model " + d.file("m.h5") + " --test " + d.file("g.h5");
    const auto all = run(program() + ranking);
    const auto one = run(program() + ranking + " --sample-users 0.3");
    const auto three = run(program(3) + ranking + " --sample-users 0.3");
    ASSERT_EQ(all.code, 0) << all.err;
    ASSERT_EQ(one.code, 0) << one.err;
    const auto everyone = nlohmann::json::parse(all.out)["model"]["users"].get<double>();
    const auto j = nlohmann::json::parse(one.out);
    const auto sampled = j["model"]["users"].get<double>();
    EXPECT_GT(sampled, 0.2 * everyone);  // about 30% of the users with a relevant item
    EXPECT_LT(sampled, 0.4 * everyone);
    EXPECT_EQ(j["popularity"]["users"].get<double>(), sampled);  // both rankings over the same users
    EXPECT_EQ(j, nlohmann::json::parse(three.out));             // the same users and metrics, to the bit
    // Another seed, another sample; a share outside (0, 1] is refused, naming the option.
    EXPECT_NE(nlohmann::json::parse(run(program() + ranking + " --sample-users 0.3 --sample-seed 7").out)["model"], j["model"]);
    const auto bad = run(program() + ranking + " --sample-users 0");
    EXPECT_NE(bad.code, 0);
    EXPECT_NE(bad.err.find("sample-users"), std::string::npos) << bad.err;
}

TEST(RecommendCli, ImplicitAlsBeatsPopularityOnGeneratedInteractions) {
    test::TempDir d;
    // A lower count rate than the default: fewer candidates become interactions, and those that do
    // lean more on the user's taste (measured: NDCG@10 1.6x popularity's; at the default rate 1.1x).
    ASSERT_EQ(run(program() + " generate --users 3000 --items 1000 --density 0.2 --implicit --implicit-scale 0.01 --test-fraction 0.2 --out " +
                  d.file("i.h5")).code, 0);
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

TEST(RecommendCli, FoldInReproducesTheNextUserHalfStepAndServesNewUsers) {
    // Model A: 6 iterations. Model B: 7 from the same seed, so B's user factors are the user
    // half-step against A's item factors. Folding a user's training ratings into A must give B's row.
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 120 --items 80 --density 0.2 --out " + d.file("g.h5")).code, 0);
    const std::string base = " train --rank 5 --lambda 0.1 --train " + d.file("g.h5");
    ASSERT_EQ(run(program(2) + base + " --iters 6 --out " + d.file("a.h5")).code, 0);
    ASSERT_EQ(run(program(2) + base + " --iters 7 --out " + d.file("b.h5")).code, 0);
    const std::int64_t u = 17;
    {
        h5::File g = h5::File::open(d.file("g.h5"), Comm::self());
        const auto users = g.read_vector<std::int32_t>("/ratings/user"), items = g.read_vector<std::int32_t>("/ratings/item");
        const auto values = g.read_vector<double>("/ratings/value");
        std::string text;  // %.17g: the folded ratings must be the trained ones to the bit
        char line[96];
        for (std::size_t e = 0; e < users.size(); ++e)
            if (users[e] == u) {
                std::snprintf(line, sizeof line, "%lld %d %.17g\n", static_cast<long long>(u), items[e], values[e]);
                text += line;
            }
        text += "newbie 3 5\nnewbie 7 4\nnewbie 11 1\nnewbie no-such-item 5\n";
        test::write_text(d.file("new.txt"), text);
    }
    const auto f = run(program(2) + " foldin --model " + d.file("a.h5") + " --ratings " + d.file("new.txt") + " --out " + d.file("c.h5"));
    ASSERT_EQ(f.code, 0) << f.err;
    EXPECT_NE(f.out.find("1 new, 1 re-solved"), std::string::npos) << f.out;
    EXPECT_NE(f.out.find("1 ratings of unknown items skipped"), std::string::npos) << f.out;
    h5::File b = h5::File::open(d.file("b.h5"), Comm::self()), c = h5::File::open(d.file("c.h5"), Comm::self());
    const auto ub = b.read_vector<double>("/model/user_factors"), uc = c.read_vector<double>("/model/user_factors");
    ASSERT_EQ(uc.size(), ub.size() + 5);  // one more user
    for (int q = 0; q < 5; ++q) EXPECT_NEAR(uc[u * 5 + q], ub[u * 5 + q], 1e-10 * (1 + std::fabs(ub[u * 5 + q]))) << q;
    EXPECT_NEAR(c.read_vector<double>("/model/user_bias")[u], b.read_vector<double>("/model/user_bias")[u], 1e-10);
    const auto r = run(program() + " recommend --model " + d.file("c.h5") + " --user newbie --top 4");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("3 rated items excluded"), std::string::npos) << r.out;
}
