#include "distcf/data/distribute.hpp"
#include "distcf/data/split.hpp"

#include <type_traits>

namespace distcf {

Csr route_rows(const std::vector<std::int32_t>& rows, const std::vector<std::int32_t>& cols, const std::vector<double>& vals,
          const BlockPartition& part, const Comm& comm) {
    // Peak memory matters at 10^8 ratings: owners are recomputed instead of stored, and each send
    // buffer is released as soon as its exchange is done.
    const int P = comm.size();
    const std::size_t n = rows.size();
    std::vector<std::int64_t> count(static_cast<std::size_t>(P), 0);
    for (std::size_t k = 0; k < n; ++k) ++count[static_cast<std::size_t>(part.owner(rows[k]))];
    std::vector<std::int64_t> fill(static_cast<std::size_t>(P), 0);
    for (int p = 1; p < P; ++p) fill[p] = fill[p - 1] + count[p - 1];
    std::vector<std::int64_t> start = fill;
    const auto pack = [&](const auto& source) {
        std::vector<std::decay_t<decltype(source[0])>> out(n);
        fill = start;
        for (std::size_t k = 0; k < n; ++k) out[fill[static_cast<std::size_t>(part.owner(rows[k]))]++] = source[k];
        return out;
    };
    const auto exchange = [&](const auto& source) {
        auto send = pack(source);
        auto received = comm.alltoallv(send, count);
        send.clear();
        send.shrink_to_fit();
        return received;
    };
    const auto rr = exchange(rows);
    const auto rc = exchange(cols);
    const auto rv = exchange(vals);
    const int me = comm.rank();
    return build_csr(part.begin(me), part.size(me), rr, rc, rv);
}

RatingBlocks distribute(const RatingSlice& mine, std::int64_t n_users, std::int64_t n_items, double rating_min,
                        double rating_max, const Comm& comm) {
    RatingBlocks b;
    b.n_users = n_users;
    b.n_items = n_items;
    b.rating_min = rating_min;
    b.rating_max = rating_max;
    b.user_counts.assign(static_cast<std::size_t>(n_users), 0);
    b.item_counts.assign(static_cast<std::size_t>(n_items), 0);
    for (std::int64_t k = 0; k < mine.size(); ++k) {
        ++b.user_counts[static_cast<std::size_t>(mine.user[k])];
        ++b.item_counts[static_cast<std::size_t>(mine.item[k])];
    }
    comm.sum_in_place(b.user_counts);
    comm.sum_in_place(b.item_counts);
    b.users = BlockPartition::balanced(b.user_counts, comm.size());
    b.items = BlockPartition::balanced(b.item_counts, comm.size());
    b.by_user = route_rows(mine.user, mine.item, mine.value, b.users, comm);
    b.by_item = route_rows(mine.item, mine.user, mine.value, b.items, comm);
    b.nnz = comm.sum<std::int64_t>(b.by_user.nnz());
    // Per-user sums added in user order: the mean is bit-identical for any rank count.
    std::vector<double> row_sum(static_cast<std::size_t>(b.by_user.rows()), 0.0);
    for (std::int64_t r = 0; r < b.by_user.rows(); ++r)
        for (auto k = b.by_user.ptr[r]; k < b.by_user.ptr[r + 1]; ++k) row_sum[r] += b.by_user.val[k];
    b.mean = b.nnz ? ordered_sum(row_sum, b.users, comm) / static_cast<double>(b.nnz) : 0.0;
    return b;
}

RatingSlice slice_of(const Csr& by_user) {
    RatingSlice s;
    s.reserve(static_cast<std::size_t>(by_user.nnz()));
    for (std::int64_t r = 0; r < by_user.rows(); ++r)
        for (auto k = by_user.ptr[r]; k < by_user.ptr[r + 1]; ++k)
            s.push(static_cast<std::int32_t>(by_user.row0 + r), by_user.col[k], by_user.val[k]);
    return s;
}

HoldOut hold_out(const RatingBlocks& train, double fraction, std::uint64_t seed, const Comm& comm) {
    const RatingSlice all = slice_of(train.by_user);
    SplitOptions so;
    so.test_fraction = fraction;
    so.rng_seed = seed;
    const auto held = choose_test(all, so, comm);
    RatingSlice fit, val;
    for (std::int64_t e = 0; e < all.size(); ++e) (held[e] ? val : fit).push(all.user[e], all.item[e], all.value[e]);
    HoldOut h;
    h.fit = distribute(fit, train.n_users, train.n_items, train.rating_min, train.rating_max, comm);
    h.held_out = route_rows(val.user, val.item, val.value, h.fit.users, comm);
    return h;
}

}  // namespace distcf
