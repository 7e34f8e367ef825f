// Partitioned read on P ranks, gathered back, equals the input exactly; partitions balanced.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

#include "distcf/data/distribute.hpp"
#include "distcf/data/rng.hpp"
#include "distcf/io/store.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::world;

namespace {


/// A skewed (Zipf-like users and items) rating set, the same on every rank.
RatingSlice skewed(std::int32_t users, std::int32_t items, int per_user_max) {
    RatingSlice s;
    for (std::int32_t u = 0; u < users; ++u) {
        RowRng g(3, Stream::Observe, static_cast<std::uint64_t>(u));
        const int n = 1 + static_cast<int>(per_user_max / std::pow(1.0 + (u * 37) % users, 0.7));
        std::vector<std::int32_t> its;
        for (int k = 0; k < n; ++k) {
            // Item popularity ~ Zipf: low indices drawn far more often.
            its.push_back(static_cast<std::int32_t>(std::floor(items * std::pow(g.uniform(), 2.5))));
        }
        std::sort(its.begin(), its.end());
        its.erase(std::unique(its.begin(), its.end()), its.end());
        for (auto i : its) s.push(u, i, 1.0 + std::round(g.uniform() * 8.0) / 2.0);
    }
    return s;
}

/// The part of `all` this rank passes to a collective write: an even cut.
RatingSlice my_part(const RatingSlice& all, const Comm& c) {
    const auto cut = BlockPartition::uniform(all.size(), c.size());
    RatingSlice s;
    for (auto k = cut.begin(c.rank()); k < cut.end(c.rank()); ++k) s.push(all.user[k], all.item[k], all.value[k]);
    return s;
}

using Triplet = std::tuple<std::int32_t, std::int32_t, double>;

std::vector<Triplet> gather_csr(const Csr& c, bool transpose, const Comm& comm) {
    std::vector<std::int32_t> r, k;
    std::vector<double> v;
    for (std::int64_t i = 0; i < c.rows(); ++i)
        for (auto p = c.ptr[i]; p < c.ptr[i + 1]; ++p) {
            r.push_back(static_cast<std::int32_t>(c.row0 + i));
            k.push_back(c.col[p]);
            v.push_back(c.val[p]);
        }
    auto R = comm.allgatherv(r), K = comm.allgatherv(k);
    auto V = comm.allgatherv(v);
    std::vector<Triplet> out;
    for (std::size_t i = 0; i < R.size(); ++i) out.emplace_back(transpose ? K[i] : R[i], transpose ? R[i] : K[i], V[i]);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST(PartitionedRead, GatheredBlocksEqualTheInputExactly) {
    const Comm& c = world();
    test::TempDir d(c);
    const RatingSlice all = skewed(300, 120, 60);
    StoreHeader h;
    h.n_users = 300;
    h.n_items = 120;
    h.provenance = Provenance::now("test");
    write_store(d.file("s.h5"), c, h, my_part(all, c), IdMap::identity(300), IdMap::identity(120));
    const RatingBlocks b = load_blocks(d.file("s.h5"), c);

    std::vector<Triplet> expect;
    for (std::int64_t k = 0; k < all.size(); ++k) expect.emplace_back(all.user[k], all.item[k], all.value[k]);
    EXPECT_EQ(gather_csr(b.by_user, false, c), expect);
    EXPECT_EQ(gather_csr(b.by_item, true, c), expect);
    EXPECT_EQ(b.nnz, all.size());
    // Columns ascending in every row.
    for (std::int64_t i = 0; i < b.by_user.rows(); ++i)
        EXPECT_TRUE(std::is_sorted(b.by_user.col.begin() + b.by_user.ptr[i], b.by_user.col.begin() + b.by_user.ptr[i + 1]));
    // The mean is bit-identical to a one-rank computation.
    const RatingBlocks one = distribute(all, 300, 120, 1, 5, Comm::self());
    EXPECT_EQ(b.mean, one.mean);
}

TEST(PartitionedRead, SkewedInputIsBalancedByRatingsWithin20Percent) {
    const Comm& c = world();
    const RatingSlice all = skewed(4000, 900, 400);
    const RatingBlocks b = distribute(my_part(all, c), 4000, 900, 1, 5, c);
    for (const Csr* m : {&b.by_user, &b.by_item}) {
        const auto load = c.allgather<std::int64_t>(m->nnz());
        const double mean = static_cast<double>(all.size()) / c.size();
        for (auto l : load) EXPECT_LE(static_cast<double>(l), 1.2 * mean);
    }
}

TEST(PartitionedRead, UserAlignedSliceKeepsEachUserOnOneRank) {
    const Comm& c = world();
    test::TempDir d(c);
    const RatingSlice all = skewed(200, 50, 30);
    StoreHeader h;
    h.n_users = 200;
    h.n_items = 50;
    write_store(d.file("s.h5"), c, h, my_part(all, c), IdMap::identity(200), IdMap::identity(50));
    const RatingSlice s = read_user_aligned_slice(d.file("s.h5"), c, Subset::All);
    const auto firsts = c.allgather<std::int32_t>(s.size() ? s.user.front() : -1);
    const auto lasts = c.allgather<std::int32_t>(s.size() ? s.user.back() : -1);
    for (int p = 0; p + 1 < c.size(); ++p)
        if (lasts[p] >= 0 && firsts[p + 1] >= 0) EXPECT_LT(lasts[p], firsts[p + 1]);
    EXPECT_EQ(c.sum(s.size()), all.size());
}

TEST(Distribute, AnUnsortedSliceGivesTheSameBlocksAsTheSortedOne) {
    // A store's read is sorted by (user, item) and takes the direct route to the user blocks; any
    // other order takes the general one. Both must build the same CSRs.
    GenerateParams g;
    g.users = 70;
    g.items = 40;
    g.density = 0.3;
    const GenreModel gm = make_genre_model(g, world());
    const GeneratedBlock gb = generate_block(g, gm, world());
    const RatingBlocks sorted = distribute(gb.ratings, g.users, g.items, 1, 5, world());
    RatingSlice shuffled;
    for (std::int64_t k = gb.ratings.size() - 1; k >= 0; --k) shuffled.push(gb.ratings.user[k], gb.ratings.item[k], gb.ratings.value[k]);
    const RatingBlocks other = distribute(shuffled, g.users, g.items, 1, 5, world());
    for (const auto& [a, b] : {std::pair{&sorted.by_user, &other.by_user}, std::pair{&sorted.by_item, &other.by_item}}) {
        EXPECT_EQ(a->row0, b->row0);
        EXPECT_EQ(a->ptr, b->ptr);
        EXPECT_EQ(a->col, b->col);
        EXPECT_EQ(a->val, b->val);
    }
    EXPECT_EQ(sorted.mean, other.mean);
}
