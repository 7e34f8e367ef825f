#include "distcf/app/training_set.hpp"

#include "distcf/data/distribute.hpp"
#include "distcf/data/split.hpp"
#include "distcf/io/store.hpp"

namespace distcf {

namespace {
std::vector<std::int32_t> index_map(const IdMap& from, const IdMap& to) {
    std::vector<std::int32_t> m(static_cast<std::size_t>(from.size()), -1);
    if (from == to) {
        for (std::size_t i = 0; i < m.size(); ++i) m[i] = static_cast<std::int32_t>(i);
        return m;
    }
    for (std::int64_t i = 0; i < from.size(); ++i)
        if (auto j = to.find(from.label(i))) m[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(*j);
    return m;
}
}  // namespace

RatingSlice read_mapped_slice(const std::string& path, const IdMap& users, const IdMap& items, bool test_side,
                              const Comm& comm) {
    const StoreInfo info = read_store_info(path, comm);
    RatingSlice s = read_slice(path, comm, (test_side && info.has_split) ? Subset::Test : Subset::All, nullptr, Times::Skip);
    const auto [su, si] = read_id_maps(path, comm);
    const auto mu = index_map(su, users), mi = index_map(si, items);
    for (auto& u : s.user) u = mu[static_cast<std::size_t>(u)];
    for (auto& i : s.item) i = mi[static_cast<std::size_t>(i)];
    return s;
}

TrainingSet load_training_set(const std::string& path, const TrainingSetOptions& o, const Comm& comm) {
    TrainingSet t;
    StoreInfo info;
    auto [users, items] = read_id_maps(path, comm);
    t.users = std::move(users);
    t.items = std::move(items);
    RatingSlice train, test;
    bool read_stored_test = false;  // after the training ratings are distributed: a smaller peak
    if (o.test_fraction > 0) {
        SplitOptions so;
        so.test_fraction = o.test_fraction;
        so.rng_seed = o.split_seed;
        // The held-out ratings moved out and the rest compacted in place: the read slice becomes
        // the training slice (16 B a rating once, not a second copy: 36-44 B a rating at the
        // peak before, on 11.6M ratings).
        train = read_user_aligned_slice(path, comm, Subset::All, &info, Times::Skip);  // training has no use for times
        train.is_test = {};  // nor for the stored flags
        test = split_off(train, choose_test(train, so, comm));
        t.test_source = "--test-fraction";
    } else {
        info = read_store_info(path, comm);
        const bool stored = o.use_stored_split && info.has_split;
        train = read_slice(path, comm, stored ? Subset::Train : Subset::All, nullptr, Times::Skip);
        read_stored_test = stored && o.test_path.empty();
    }
    t.train = distribute(std::move(train), info.n_users, info.n_items, info.rating_min, info.rating_max, comm);
    if (read_stored_test) {
        test = read_slice(path, comm, Subset::Test, nullptr, Times::Skip);
        t.test_source = "stored split";
    }
    if (!o.test_path.empty()) {
        test = read_mapped_slice(o.test_path, t.users, t.items, true, comm);
        // Pairs unknown to the training data cannot be scored by the factors: dropped here
        // (evaluate reports them as cold).
        RatingSlice known;
        for (std::int64_t k = 0; k < test.size(); ++k)
            if (test.user[k] >= 0 && test.item[k] >= 0) known.push(test.user[k], test.item[k], test.value[k]);
        t.n_test_unscorable = comm.sum<std::int64_t>(test.size() - known.size());
        test = std::move(known);
        t.test_source = "--test " + o.test_path;
    }
    t.test = route_rows(test.user, test.item, test.value, t.train.users, comm);
    t.n_test = comm.sum<std::int64_t>(t.test.nnz());
    return t;
}

}  // namespace distcf
