#include "distcf/data/distribute.hpp"
#include "distcf/data/split.hpp"

#include <algorithm>
#include <limits>
#include <utility>
#include <type_traits>

#include "distcf/error.hpp"

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
    const int me = comm.rank();
    const std::int64_t row0 = part.begin(me), nrows = part.size(me);
    // One field at a time, each placed as it arrives: the rows become each entry's position in
    // the CSR (in place), then columns and values are scattered there, so that at most one
    // received field lives beside the result (8 B a rating less than three fields and a copy).
    std::vector<std::int32_t> pos = exchange(rows);
    if (pos.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {  // positions need 64 bits
        const auto rc = exchange(cols);
        const auto rv = exchange(vals);
        return build_csr(row0, nrows, pos, rc, rv);
    }
    Csr c;
    c.row0 = row0;
    c.ptr = row_pointers(row0, nrows, pos, "route_rows");
    {
        std::vector<std::int64_t> fill(c.ptr.begin(), c.ptr.end() - 1);
        for (auto& r : pos) r = static_cast<std::int32_t>(fill[static_cast<std::size_t>(r - row0)]++);
    }
    {
        const auto rc = exchange(cols);
        c.col.resize(rc.size());
        for (std::size_t k = 0; k < rc.size(); ++k) c.col[static_cast<std::size_t>(pos[k])] = rc[k];
    }
    {
        const auto rv = exchange(vals);
        c.val.resize(rv.size());
        for (std::size_t k = 0; k < rv.size(); ++k) c.val[static_cast<std::size_t>(pos[k])] = rv[k];
    }
    pos = {};
    sort_rows(c);
    return c;
}

namespace {

// True when every rank's slice is in ascending (user, item) order and the slices follow one
// another in rank order -- as a store read in even cuts is. Collective.
bool sorted_by_user_across_ranks(const RatingSlice& s, const Comm& comm) {
    bool sorted = true;
    for (std::int64_t k = 1; k < s.size() && sorted; ++k)
        sorted = s.user[k - 1] < s.user[k] || (s.user[k - 1] == s.user[k] && s.item[k - 1] < s.item[k]);
    // Each rank's first and last (user, item) as one key; empty slices carry no constraint.
    const auto key = [](std::int32_t u, std::int32_t i) { return (static_cast<std::int64_t>(u) << 32) | static_cast<std::uint32_t>(i); };
    const std::int64_t first = s.size() ? key(s.user[0], s.item[0]) : -1, last = s.size() ? key(s.user.back(), s.item.back()) : -1;
    const auto firsts = comm.allgather(first), lasts = comm.allgather(last);
    std::int64_t previous = -1;
    for (int p = 0; p < comm.size(); ++p) {
        if (firsts[static_cast<std::size_t>(p)] < 0) continue;
        sorted = sorted && firsts[static_cast<std::size_t>(p)] > previous;
        previous = lasts[static_cast<std::size_t>(p)];
    }
    return !comm.any(!sorted);
}

template <class T>
void release(std::vector<T>& v) { std::vector<T>().swap(v); }

// By-user CSR of a slice sorted as above: the ratings bound for rank p are one contiguous run of
// the slice, so they are sent straight from it (no packed copy), and what arrives, in rank order,
// is already the CSR's columns and values. Each field of the slice is let go once sent.
Csr by_user_from_sorted(RatingSlice& s, const BlockPartition& users, const std::vector<std::int64_t>& user_counts,
                        const Comm& comm) {
    const int P = comm.size(), me = comm.rank();
    std::vector<std::int64_t> count(static_cast<std::size_t>(P), 0);
    std::int64_t at = 0;
    for (int p = 0; p < P; ++p) {
        const std::int64_t end = std::lower_bound(s.user.begin() + at, s.user.end(), static_cast<std::int32_t>(users.end(p))) - s.user.begin();
        count[static_cast<std::size_t>(p)] = end - at;
        at = end;
    }
    Csr c;
    c.row0 = users.begin(me);
    c.ptr.assign(static_cast<std::size_t>(users.size(me)) + 1, 0);
    for (std::int64_t r = 0; r < users.size(me); ++r) c.ptr[r + 1] = c.ptr[r] + user_counts[static_cast<std::size_t>(c.row0 + r)];
    release(s.user);
    c.col = comm.alltoallv(s.item, count);
    release(s.item);
    c.val = comm.alltoallv(s.value, count);
    release(s.value);
    if (static_cast<std::int64_t>(c.col.size()) != c.ptr.back())
        DISTCF_THROW(InputError, "distribute: ratings per user do not add up (" + std::to_string(c.col.size()) + " arrived, " +
                                     std::to_string(c.ptr.back()) + " counted)");
    return c;
}

// The by-item CSR from the by-user one. Its rows' lengths are known (the global item counts), so
// it is allocated once, whole, and every rating sent to its item's owner is written straight to
// its place; the sends go in rounds of at most `round` ratings a rank, so what is in flight stays
// a small fraction of the ratings (the peak is both CSRs, 24 B a rating, and the rounds' buffers).
Csr by_item_from_by_user(const Csr& by_user, const BlockPartition& items, const std::vector<std::int64_t>& item_counts,
                         const Comm& comm) {
    const int P = comm.size(), me = comm.rank();
    Csr c;
    c.row0 = items.begin(me);
    c.ptr.assign(static_cast<std::size_t>(items.size(me)) + 1, 0);
    for (std::int64_t r = 0; r < items.size(me); ++r) c.ptr[r + 1] = c.ptr[r] + item_counts[static_cast<std::size_t>(c.row0 + r)];
    c.col.resize(static_cast<std::size_t>(c.ptr.back()));
    c.val.resize(static_cast<std::size_t>(c.ptr.back()));
    std::vector<std::int64_t> fill(c.ptr.begin(), c.ptr.end() - 1);
    const std::int64_t n = by_user.nnz();
    // A sixteenth of the ratings a round (at least 2^16; at most the message limit, which tests lower).
    const std::int64_t round = std::min(std::max<std::int64_t>(std::int64_t{1} << 16, n / 16), comm.message_limit());
    std::vector<std::int64_t> count(static_cast<std::size_t>(P)), start(static_cast<std::size_t>(P));
    std::vector<std::int32_t> send_item, send_user;
    std::vector<double> send_val;
    std::int64_t placed = 0, k0 = 0, row = 0;  // next rating to send, and its row
    while (comm.any(k0 < n)) {
        const std::int64_t k1 = std::min(n, k0 + round);
        std::fill(count.begin(), count.end(), 0);
        for (std::int64_t k = k0; k < k1; ++k) ++count[static_cast<std::size_t>(items.owner(by_user.col[static_cast<std::size_t>(k)]))];
        for (int p = 1; p < P; ++p) start[static_cast<std::size_t>(p)] = start[static_cast<std::size_t>(p - 1)] + count[static_cast<std::size_t>(p - 1)];
        send_item.resize(static_cast<std::size_t>(k1 - k0));
        send_user.resize(static_cast<std::size_t>(k1 - k0));
        send_val.resize(static_cast<std::size_t>(k1 - k0));
        std::vector<std::int64_t> at = start;
        for (std::int64_t k = k0; k < k1; ++k) {
            while (by_user.ptr[static_cast<std::size_t>(row + 1)] <= k) ++row;
            const std::int32_t item = by_user.col[static_cast<std::size_t>(k)];
            const auto q = static_cast<std::size_t>(at[static_cast<std::size_t>(items.owner(item))]++);
            send_item[q] = item;
            send_user[q] = static_cast<std::int32_t>(by_user.row0 + row);
            send_val[q] = by_user.val[static_cast<std::size_t>(k)];
        }
        const auto ri = comm.alltoallv(send_item, count);
        const auto ru = comm.alltoallv(send_user, count);
        const auto rv = comm.alltoallv(send_val, count);
        for (std::size_t e = 0; e < ri.size(); ++e) {
            const std::int64_t local = ri[e] - c.row0;
            if (local < 0 || local >= items.size(me) || fill[static_cast<std::size_t>(local)] >= c.ptr[static_cast<std::size_t>(local + 1)])
                DISTCF_THROW(InputError, "distribute: ratings per item do not add up (item " + std::to_string(ri[e]) + ")");
            const auto q = static_cast<std::size_t>(fill[static_cast<std::size_t>(local)]++);
            c.col[q] = ru[e];
            c.val[q] = rv[e];
        }
        placed += static_cast<std::int64_t>(ri.size());
        k0 = k1;
    }
    if (placed != c.ptr.back())
        DISTCF_THROW(InputError, "distribute: ratings per item do not add up (" + std::to_string(placed) + " arrived, " +
                                     std::to_string(c.ptr.back()) + " counted)");
    sort_rows(c);
    return c;
}

}  // namespace

RatingBlocks distribute(RatingSlice&& mine, std::int64_t n_users, std::int64_t n_items, double rating_min, double rating_max,
                        const Comm& comm) {
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
    // Users first, consuming the slice (straight from it when sorted, as a store's read is); the
    // items' CSR then from the users' one, in bounded rounds: the peak is the two CSRs (24 B a
    // rating) and a round's buffers, where slice, CSR and a field in flight made 40-48 B.
    if (sorted_by_user_across_ranks(mine, comm)) {
        b.by_user = by_user_from_sorted(mine, b.users, b.user_counts, comm);
    } else {
        b.by_user = route_rows(mine.user, mine.item, mine.value, b.users, comm);
    }
    mine = RatingSlice{};
    b.by_item = by_item_from_by_user(b.by_user, b.items, b.item_counts, comm);
    b.nnz = comm.sum<std::int64_t>(b.by_user.nnz());
    // Per-user sums added in user order: the mean is bit-identical for any rank count.
    std::vector<double> row_sum(static_cast<std::size_t>(b.by_user.rows()), 0.0);
    for (std::int64_t r = 0; r < b.by_user.rows(); ++r)
        for (auto k = b.by_user.ptr[r]; k < b.by_user.ptr[r + 1]; ++k) row_sum[r] += b.by_user.val[k];
    b.mean = b.nnz ? ordered_sum(row_sum, b.users, comm) / static_cast<double>(b.nnz) : 0.0;
    return b;
}

RatingBlocks distribute(const RatingSlice& mine, std::int64_t n_users, std::int64_t n_items, double rating_min,
                        double rating_max, const Comm& comm) {
    RatingSlice copy;
    copy.user = mine.user;
    copy.item = mine.item;
    copy.value = mine.value;
    return distribute(std::move(copy), n_users, n_items, rating_min, rating_max, comm);
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
