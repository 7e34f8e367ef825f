// The targeted factor exchange: each rank holds its own rows and the rows its ratings reference,
// and the factors come out with the same bits as allgather's on one rank, for any rank count
// (ctest runs these at 1, 2, 3 and 4 ranks).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "distcf/app/model_file.hpp"
#include "distcf/app/train.hpp"
#include "distcf/app/training_set.hpp"
#include "distcf/data/distribute.hpp"
#include "distcf/data/rng.hpp"
#include "distcf/la/row_solve.hpp"
#include "distcf/model/als.hpp"
#include "distcf/model/exchange.hpp"
#include "distcf/model/recommend.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;

namespace {

TrainHooks asking(ExchangeKind kind, std::string* said = nullptr) {
    TrainHooks h;
    h.exchange.options.kind = kind;
    if (said) h.exchange.tell = [said](const std::string& s) { *said = s; };
    return h;
}

void expect_same_model(const FactorModel& a, const FactorModel& b, const std::string& what) {
    EXPECT_EQ(a.U, b.U) << what;
    EXPECT_EQ(a.V, b.V) << what;
    EXPECT_EQ(a.user_bias, b.user_bias) << what;
    EXPECT_EQ(a.item_bias, b.item_bias) << what;
    EXPECT_EQ(a.history.objective, b.history.objective) << what;
    EXPECT_EQ(a.history.test_rmse, b.history.test_rmse) << what;
}

}  // namespace

TEST(TargetedExchange, HoldsExactlyItsOwnRowsAndTheRowsItsRatingsReference) {
    // Six users and six items: user u rates item u and item 0. A rank's users then read item 0
    // and their own diagonal items; its items read the users that rated them.
    const Comm& c = world();
    RatingSlice s;
    if (c.is_root())
        for (std::int32_t u = 0; u < 6; ++u) {
            s.push(u, 0, 3.0);
            if (u) s.push(u, u, 4.0);
        }
    const RatingBlocks b = distribute(s, 6, 6, 1, 5, c);
    const TargetedExchange x(b, {}, c);
    const int me = c.rank();
    std::set<std::int64_t> items, users;
    for (std::int64_t i = b.items.begin(me); i < b.items.end(me); ++i) items.insert(i);
    for (std::int64_t u = b.users.begin(me); u < b.users.end(me); ++u) {
        items.insert(0);
        items.insert(u);
        users.insert(u);
    }
    for (std::int64_t i = b.items.begin(me); i < b.items.end(me); ++i) {
        if (i == 0)
            for (std::int64_t u = 0; u < 6; ++u) users.insert(u);
        else
            users.insert(i);
    }
    const ExchangePlan& pi = *x.plan(Side::Items);
    const ExchangePlan& pu = *x.plan(Side::Users);
    EXPECT_EQ(pi.held_rows(), std::vector<std::int64_t>(items.begin(), items.end()));
    EXPECT_EQ(pu.held_rows(), std::vector<std::int64_t>(users.begin(), users.end()));
    EXPECT_EQ(pi.rows_received(), pi.held() - b.items.size(me));
    if (b.items.size(me) > 0) EXPECT_EQ(pi.held_rows()[static_cast<std::size_t>(pi.own_offset())], b.items.begin(me));
    // Every row received was sent by its owner.
    EXPECT_EQ(c.sum(pi.rows_sent()), c.sum(pi.rows_received()));
    EXPECT_EQ(c.sum(pu.rows_sent()), c.sum(pu.rows_received()));
}

TEST(TargetedExchange, RefreshDeliversTheOwnersValues) {
    const Comm& c = world();
    const RatingBlocks b = test::generated_blocks(c, 90, 40, 0.1);
    const TargetedExchange x(b, {}, c);
    const ExchangePlan& p = *x.plan(Side::Items);
    // Each row's value is its global index where owned, -1 elsewhere: after a refresh every
    // held row holds its index.
    std::vector<double> rows(static_cast<std::size_t>(p.held() * 2), -1.0);
    for (std::int64_t l = 0; l < b.items.size(c.rank()); ++l)
        for (int w = 0; w < 2; ++w) rows[static_cast<std::size_t>((p.own_offset() + l) * 2 + w)] = static_cast<double>(b.items.begin(c.rank()) + l);
    std::vector<double> send;
    p.refresh(rows.data(), 2, c, send);
    for (std::int64_t l = 0; l < p.held(); ++l)
        for (int w = 0; w < 2; ++w) EXPECT_EQ(rows[static_cast<std::size_t>(l * 2 + w)], static_cast<double>(p.held_rows()[static_cast<std::size_t>(l)]));
}

TEST(TargetedExchange, OwnedGramHasTheBitsOfTheReplicatedOne) {
    // 10,000 rows: Gram chunks of 4096 straddle the blocks of 2, 3 and 4 ranks.
    const Comm& c = world();
    const std::int64_t n = 10000;
    const int k = 5;
    std::vector<double> Y(static_cast<std::size_t>(n * k));
    for (std::int64_t r = 0; r < n; ++r) {
        RowRng g(7, Stream::InitItem, static_cast<std::uint64_t>(r));
        for (int j = 0; j < k; ++j) Y[static_cast<std::size_t>(r * k + j)] = g.normal(0.0, 1.0);
    }
    std::vector<std::int64_t> weights(static_cast<std::size_t>(n));
    for (std::int64_t r = 0; r < n; ++r) weights[static_cast<std::size_t>(r)] = 1 + (r % 7);  // uneven blocks
    const BlockPartition part = BlockPartition::balanced(weights, c.size());
    // Every rank passes a pointer to its block's first row; the rows after it (the chunk tail)
    // follow, as the targeted layout holds them.
    const std::vector<double> owned = owned_gram(Y.data() + part.begin(c.rank()) * k, part, k, c);
    EXPECT_EQ(owned, replicated_gram(Y, n, k, Comm::self()));
}

TEST(TargetedExchange, AlsIsBitIdenticalToAllgatherOnOneRank) {
    const test::GeneratedStore s(world(), 160, 90, 0.08);
    const TrainingSet d = load_training_set(s.path, {}, world()), one = load_training_set(s.path, {}, Comm::self());
    for (const char* solver : {"cholesky", "cg"})
        for (const char* formulation : {"biased", "notebook"}) {
            ParamRecord p;
            p.set("factors", std::int64_t{6});
            p.set("iters", std::int64_t{4});
            p.set("lambda", 0.1);
            p.set("solver", std::string(solver));
            p.set("formulation", std::string(formulation));
            std::string said;
            const TrainResult t = train("als", d, p, world(), asking(ExchangeKind::Targeted, &said));
            const TrainResult a = train("als", one, p, Comm::self(), asking(ExchangeKind::Allgather));
            EXPECT_EQ(said.rfind("exchange: targeted", 0), 0u) << said;
            expect_same_model(t.model, a.model, std::string(solver) + " " + formulation);
        }
}

TEST(TargetedExchange, EarlyStoppingAndCheckpointsSeeTheSavedModel) {
    const test::GeneratedStore s(world(), 120, 60, 0.25);
    const TrainingSet d = load_training_set(s.path, {}, world()), one = load_training_set(s.path, {}, Comm::self());
    ParamRecord p;
    p.set("factors", std::int64_t{8});
    p.set("lambda", 0.01);
    p.set("iters", std::int64_t{30});
    p.set("validation_fraction", 0.2);
    p.set("early_stopping", std::int64_t{2});
    std::vector<FactorModel> seen_t, seen_a;
    TrainHooks ht = asking(ExchangeKind::Targeted), ha = asking(ExchangeKind::Allgather);
    ht.checkpoint_every = ha.checkpoint_every = 2;
    ht.on_checkpoint = [&](const FactorModel& m) { seen_t.push_back(m); };
    ha.on_checkpoint = [&](const FactorModel& m) { seen_a.push_back(m); };
    const TrainResult t = train("als", d, p, world(), ht), a = train("als", one, p, Comm::self(), ha);
    EXPECT_EQ(t.model.best_iteration, a.model.best_iteration);
    expect_same_model(t.model, a.model, "early stopping");
    ASSERT_EQ(seen_t.size(), seen_a.size());
    ASSERT_FALSE(seen_t.empty());
    for (std::size_t i = 0; i < seen_t.size(); ++i) expect_same_model(seen_t[i], seen_a[i], "checkpoint " + std::to_string(i));
}

TEST(TargetedExchange, ImplicitAlsIsBitIdenticalToAllgatherOnOneRank) {
    // More than 4096 users: Y^T Y's chunks straddle rank blocks and the exchange holds their tails.
    const RatingBlocks mine = test::generated_blocks(world(), 5000, 60, 0.02, true),
                       all = test::generated_blocks(Comm::self(), 5000, 60, 0.02, true);
    for (const char* solver : {"cholesky", "cg"}) {
        ParamRecord p;
        p.set("factors", std::int64_t{4});
        p.set("iters", std::int64_t{3});
        p.set("solver", std::string(solver));
        TrainingSet dm, da;
        dm.train = mine;
        da.train = all;
        const TrainResult t = train("ials", dm, p, world(), asking(ExchangeKind::Targeted));
        const TrainResult a = train("ials", da, p, Comm::self(), asking(ExchangeKind::Allgather));
        expect_same_model(t.model, a.model, solver);
    }
}

TEST(TargetedExchange, InRoundsPastTheMessageLimitTheBitsStay) {
    Comm c = world().dup();
    c.set_message_limit(7);  // every Alltoallv of the plan and of the rows goes in rounds
    const RatingBlocks mine = test::generated_blocks(c, 80, 40, 0.15), all = test::generated_blocks(Comm::self(), 80, 40, 0.15);
    AlsParams p;
    p.factors = 5;
    p.iters = 3;
    FactorModel a = init_als(mine, p), b = init_als(all, p);
    ExchangeRequest targeted;
    targeted.options.kind = ExchangeKind::Targeted;
    run_als(a, mine, Csr{}, p, c, {}, nullptr, targeted);
    run_als(b, all, Csr{}, p, Comm::self());
    EXPECT_EQ(a.U, b.U);
    EXPECT_EQ(a.V, b.V);
}

TEST(TargetedExchange, AutoTakesAllgatherWithinTheBudgetAndTargetedBeyondIt) {
    const test::GeneratedStore s(world(), 100, 50, 0.2);
    const TrainingSet d = load_training_set(s.path, {}, world());
    ParamRecord p;
    p.set("factors", std::int64_t{4});
    p.set("iters", std::int64_t{2});
    std::string said;
    TrainHooks h = asking(ExchangeKind::Auto, &said);
    h.exchange.options.memory_budget = 1 << 30;
    const TrainResult wide = train("als", d, p, world(), h);
    EXPECT_NE(said.find("auto picked allgather"), std::string::npos) << said;
    h.exchange.options.memory_budget = 1000;  // bytes: allgather's factors (150 rows x 5 x 8) exceed it
    const TrainResult tight = train("als", d, p, world(), h);
    EXPECT_NE(said.find("auto picked targeted"), std::string::npos) << said;
    EXPECT_EQ(wide.model.U, tight.model.U);
}

TEST(TargetedExchange, BpmfRefusesItNamingTheField) {
    const test::GeneratedStore s(world(), 60, 30, 0.3);
    const TrainingSet d = load_training_set(s.path, {}, world());
    ParamRecord p;
    p.set("factors", std::int64_t{3});
    p.set("samples", std::int64_t{2});
    p.set("burnin", std::int64_t{1});
    try {
        train("bpmf", d, p, world(), asking(ExchangeKind::Targeted));
        FAIL() << "bpmf trained under a targeted exchange";
    } catch (const ParameterError& e) {
        EXPECT_NE(std::string(e.what()).find("exchange:"), std::string::npos) << e.what();
    }
}

TEST(TargetedExchange, EachRankWritesItsOwnRowsAndTheFileIsTheSame) {
    const test::GeneratedStore s(world(), 150, 70, 0.1);
    const TrainingSet d = load_training_set(s.path, {}, world()), one = load_training_set(s.path, {}, Comm::self());
    ParamRecord p;
    p.set("factors", std::int64_t{5});
    p.set("iters", std::int64_t{3});
    TrainHooks blocks = asking(ExchangeKind::Targeted);
    blocks.exchange.whole_result = false;  // as the train command asks: no rank holds every row
    const TrainResult t = train("als", d, p, world(), blocks);
    if (world().size() > 1) EXPECT_TRUE(world().any(!holds_every_row(t.model)));
    const test::TempDir dir(world());
    const Provenance prov = Provenance::now("test");
    save_model(dir.file("blocks.h5"), t.model, d.users, d.items, prov, world());
    const FactorModel back = load_model(dir.file("blocks.h5"), world());
    const TrainResult a = train("als", one, p, Comm::self(), asking(ExchangeKind::Allgather));
    expect_same_model(back, a.model, "written by rows, read whole");
}

TEST(TargetedExchange, AModelReadForSomeUsersHoldsTheirRowsAndRanksAlike) {
    const test::GeneratedStore s(world(), 150, 70, 0.1);
    const TrainingSet one = load_training_set(s.path, {}, Comm::self());
    ParamRecord p;
    p.set("factors", std::int64_t{4});
    p.set("iters", std::int64_t{2});
    const TrainResult a = train("als", one, p, Comm::self());
    const test::TempDir dir(world());
    if (world().is_root()) save_model(dir.file("m.h5"), a.model, one.users, one.items, Provenance::now("test"), Comm::self());
    world().barrier();
    const FactorModel whole = load_model(dir.file("m.h5"), world());
    // Users [40, 90) only: their factor and bias rows, every item.
    const FactorModel some = load_model(dir.file("m.h5"), world(), nullptr, nullptr,
                                        [](const std::vector<std::int64_t>&) { return std::pair<std::int64_t, std::int64_t>{40, 90}; });
    EXPECT_EQ(some.rows.user_begin, 40);
    EXPECT_EQ(some.U, std::vector<double>(whole.U.begin() + 40 * 4, whole.U.begin() + 90 * 4));
    EXPECT_EQ(some.V, whole.V);
    for (std::int64_t u = 40; u < 90; u += 7)
        for (std::int64_t i = 0; i < 70; i += 11) EXPECT_EQ(some.score(u, i), whole.score(u, i)) << u << " " << i;
    SeenItems none;
    none.row0 = 40;
    none.ptr.assign(51, 0);
    const auto x = top_n(some, 40, 90, none, 5), y = top_n(whole, 40, 90, none, 5);
    for (std::size_t r = 0; r < x.size(); ++r)
        for (std::size_t j = 0; j < x[r].size(); ++j) {
            EXPECT_EQ(x[r][j].item, y[r][j].item);
            EXPECT_EQ(x[r][j].score, y[r][j].score);
        }
}
