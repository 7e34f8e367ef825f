// Collectives past MPI's int: every transfer larger than the message limit goes in rounds. The
// limit is forced down to a few elements here, and each collective must deliver exactly what one
// call delivers -- as must a whole training run.
#include <gtest/gtest.h>

#include <numeric>

#include "distcf/app/train.hpp"
#include "distcf/app/training_set.hpp"
#include "distcf/mpi/comm.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;

namespace {
Comm limited(std::int64_t elements) {
    Comm c = Comm::view(world().raw());
    c.set_message_limit(elements);
    return c;
}
}  // namespace

TEST(CommRounds, AllgatherOfBlocksPastTheLimitEqualsOneCall) {
    const int P = world().size();
    std::vector<std::int64_t> off{0};
    for (int p = 0; p < P; ++p) off.push_back(off.back() + 5 + 3 * p);  // uneven blocks
    const BlockPartition part(off);
    const std::int64_t width = 3;
    std::vector<double> one(static_cast<std::size_t>(part.total() * width), -1.0), rounds;
    for (std::int64_t e = part.begin(world().rank()) * width; e < part.end(world().rank()) * width; ++e) one[e] = 0.5 * e + world().rank();
    rounds = one;
    world().allgather_blocks(one.data(), part, width);
    const Comm small = limited(7);
    small.allgather_blocks(rounds.data(), part, width);
    EXPECT_EQ(rounds, one);
    for (double v : one) EXPECT_NE(v, -1.0);
}

TEST(CommRounds, AlltoallvPastTheLimitEqualsOneCall) {
    const int P = world().size(), me = world().rank();
    std::vector<std::int64_t> count(static_cast<std::size_t>(P));
    std::vector<std::int32_t> send;
    for (int p = 0; p < P; ++p) {
        count[p] = 3 + 7 * ((me + 2 * p) % 4);  // 3 .. 24 elements to each rank
        for (std::int64_t e = 0; e < count[p]; ++e) send.push_back(1000 * me + 100 * p + static_cast<std::int32_t>(e));
    }
    std::vector<std::int64_t> rc1, rc2;
    const auto one = world().alltoallv(send, count, &rc1);
    const auto rounds = limited(5).alltoallv(send, count, &rc2);
    EXPECT_EQ(rounds, one);
    EXPECT_EQ(rc2, rc1);
}

TEST(CommRounds, BroadcastAndReductionPastTheLimitEqualOneCall) {
    std::vector<double> a(101), b;
    std::iota(a.begin(), a.end(), world().rank() * 0.25);
    b = a;
    world().sum_in_place(a);
    limited(4).sum_in_place(b);
    EXPECT_EQ(a, b);
    std::vector<std::int64_t> x(37, world().rank() == 0 ? 9 : 0), y = x;
    world().bcast(x.data(), 37);
    limited(6).bcast(y.data(), 37);
    EXPECT_EQ(x, y);
}

TEST(CommRounds, TrainingWithTinyMessagesGivesTheSameModel) {
    const test::GeneratedStore store(world(), 50, 30, 0.3);
    const std::string& path = store.path;
    ParamRecord p;
    p.set("factors", std::int64_t{5});
    p.set("iters", std::int64_t{3});
    const Comm small = limited(11);  // every factor exchange, reduction and read in rounds
    const TrainingSet a = load_training_set(path, {}, world()), b = load_training_set(path, {}, small);
    const TrainResult ra = train("als", a, p, world()), rb = train("als", b, p, small);
    EXPECT_EQ(ra.model.U, rb.model.U);
    EXPECT_EQ(ra.model.V, rb.model.V);
    EXPECT_EQ(ra.model.history.objective, rb.model.history.objective);
}

TEST(CommRounds, LoadingInRoundsGivesTheSameTrainingSet) {
    // The stored split's subsets are read in chunks and the by-item CSR is built in rounds, both
    // bounded by the message limit: forced down to 7, many of each, and the same blocks.
    const test::GeneratedStore s(world(), 120, 70, 0.2);
    const TrainingSet one = load_training_set(s.path, {}, world());
    const Comm small = limited(7);
    const TrainingSet rounds = load_training_set(s.path, {}, small);
    ASSERT_GT(one.n_test, 7 * world().size());
    for (const auto& [a, b] : {std::pair{&one.train.by_user, &rounds.train.by_user}, std::pair{&one.train.by_item, &rounds.train.by_item},
                               std::pair{&one.test, &rounds.test}}) {
        EXPECT_EQ(a->row0, b->row0);
        EXPECT_EQ(a->ptr, b->ptr);
        EXPECT_EQ(a->col, b->col);
        EXPECT_EQ(a->val, b->val);
    }
    EXPECT_EQ(one.train.mean, rounds.train.mean);
    EXPECT_EQ(one.n_test, rounds.n_test);
}
