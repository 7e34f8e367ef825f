#include "distcf/io/store.hpp"

#include <algorithm>

#include <cmath>

#include "distcf/util/resources.hpp"

#include <chrono>
#include <ctime>

#include "distcf/data/distribute.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/version.hpp"

namespace distcf {

Provenance Provenance::now(const std::string& command_line) {
    Provenance p;
    p.command_line = command_line;
    p.version = kVersion;
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    p.created = buf;
    return p;
}

void Provenance::write(const h5::Location& loc) const {
    loc.set_attr("command_line", command_line);
    loc.set_attr("distcf_version", version);
    loc.set_attr("created", created);
}

IdMap share_ids(const IdMap& ids, const Comm& comm) {
    if (comm.size() == 1) return ids;
    const std::uint64_t root_digest = comm.bcast_value(ids.digest());
    if (!comm.any(ids.digest() != root_digest)) return ids;
    int integer = comm.bcast_value(ids.is_integer() ? 1 : 0);
    if (integer) {
        std::vector<std::int64_t> v = ids.ints();
        comm.bcast(v);
        return IdMap::integers(std::move(v));
    }
    std::vector<std::int64_t> lengths;
    std::string text;
    if (comm.is_root())
        for (const auto& s : ids.strs()) {
            lengths.push_back(static_cast<std::int64_t>(s.size()));
            text += s;
        }
    comm.bcast(lengths);
    comm.bcast(text);
    std::vector<std::string> strs;
    strs.reserve(lengths.size());
    std::size_t at = 0;
    for (auto n : lengths) {
        strs.push_back(text.substr(at, static_cast<std::size_t>(n)));
        at += static_cast<std::size_t>(n);
    }
    return IdMap::strings(std::move(strs));
}

void write_ids(const h5::Location& loc, const std::string& name, const IdMap& ids) {
    const IdMap shared = share_ids(ids, loc.comm());
    if (shared.is_integer()) loc.write_vector(name, shared.ints());
    else loc.write_strings(name, shared.strs());
}

IdMap read_ids(const h5::Location& loc, const std::string& name) {
    h5::Dataset d = loc.dataset(name);
    if (d.holds<std::int64_t>()) return IdMap::integers(d.read_rows<std::int64_t>(0, d.rows()));
    return IdMap::strings(loc.read_strings(name));
}

StoreWriter::StoreWriter(const std::string& path, const Comm& comm, const StoreHeader& header, std::int64_t mine_total,
                         const IdMap& users, const IdMap& items, bool has_time, bool has_split)
    : comm_(comm.view()), mine_total_(mine_total), has_time_(has_time), has_split_(has_split), single_(header.single_precision) {
    // Rank 0's ID maps (a rank that parsed nothing has none): written collectively, they must agree.
    const IdMap shared_users = share_ids(users, comm), shared_items = share_ids(items, comm);
    if (comm.any(shared_users.size() != header.n_users || shared_items.size() != header.n_items))
        DISTCF_THROW(InputError, "write_store: ID maps do not match n_users / n_items");
    if (comm.any(mine_total < 0)) DISTCF_THROW(InputError, "write_store: a negative number of ratings");
    offset_ = comm.exscan_sum(mine_total);
    nnz_ = comm.sum(mine_total);
    out_ = std::make_unique<AtomicOutput>(path, comm);
    file_ = std::make_unique<h5::File>(h5::File::create(out_->temp_path(), comm, out_->target()));
    const h5::File& f = *file_;
    f.set_attr("format", std::string(kStoreFormat));
    f.set_attr("format_version", kStoreFormatVersion);
    f.set_attr("n_users", header.n_users);
    f.set_attr("n_items", header.n_items);
    f.set_attr("nnz", nnz_);
    f.set_attr("rating_min", header.rating_min);
    f.set_attr("rating_max", header.rating_max);
    header.provenance.write(f);
    for (const auto& [k, v] : header.text_attrs) f.set_attr(k, v);
    for (const auto& [k, v] : header.number_attrs) f.set_attr(k, v);

    h5::Layout layout;
    layout.deflate = header.compression;
    layout.chunked = header.compression > 0;  // uncompressed: contiguous, written straight by MPI-IO
    f.create_dataset<std::int32_t>("/ratings/user", nnz_, 0, layout);
    f.create_dataset<std::int32_t>("/ratings/item", nnz_, 0, layout);
    if (header.single_precision) f.create_dataset<float>("/ratings/value", nnz_, 0, layout);
    else f.create_dataset<double>("/ratings/value", nnz_, 0, layout);
    if (has_time) f.create_dataset<std::int64_t>("/ratings/time", nnz_, 0, layout);
    if (has_split) f.create_dataset<std::uint8_t>("/split/is_test", nnz_, 0, layout);
    write_ids(f, "/ids/users", shared_users);
    write_ids(f, "/ids/items", shared_items);
}

StoreWriter::~StoreWriter() = default;  // the file closes first, then an uncommitted output is removed

void StoreWriter::write(const RatingSlice& b) { put(b, true); }

void StoreWriter::append(const RatingSlice& b) { put(b, false); }

void StoreWriter::put(const RatingSlice& b, bool collective) {
    const std::int64_t n = b.size();
    const bool bad = static_cast<std::int64_t>(b.user.size()) != n || static_cast<std::int64_t>(b.item.size()) != n ||
                     (has_time_ && static_cast<std::int64_t>(b.time.size()) != n) ||
                     (has_split_ && static_cast<std::int64_t>(b.is_test.size()) != n) || written_ + n > mine_total_;
    if (collective ? comm_.any(bad) : bad)
        DISTCF_THROW(InputError, "write_store: a batch whose columns differ in length, lacks the store's time or "
                                 "split, or runs past the ratings a rank announced");
    const std::int64_t row = offset_ + written_;
    const h5::File& f = *file_;
    const auto put_rows = [&](const std::string& name, const auto* data) {
        const h5::Dataset d = f.dataset(name);
        if (collective) d.write_rows(row, n, data);
        else d.write_rows_independent(row, n, data);
    };
    put_rows("/ratings/user", b.user.data());
    put_rows("/ratings/item", b.item.data());
    if (single_) {  // converted here: parallel HDF5 cannot convert types in a compressed write
        narrow_.assign(b.value.begin(), b.value.end());
        put_rows("/ratings/value", narrow_.data());
    } else {
        put_rows("/ratings/value", b.value.data());
    }
    if (has_time_) put_rows("/ratings/time", b.time.data());
    if (has_split_) {
        put_rows("/split/is_test", b.is_test.data());
        n_test_ += std::count(b.is_test.begin(), b.is_test.end(), std::uint8_t{1});
    }
    written_ += n;
}

void StoreWriter::commit() {
    if (comm_.any(written_ != mine_total_))
        DISTCF_THROW(InputError, "write_store: a rank wrote fewer ratings than it announced");
    if (has_split_) file_->group("/split").set_attr("n_test", comm_.sum(n_test_));
    file_->close();
    file_.reset();
    out_->commit();
}

void write_store(const std::string& path, const Comm& comm, const StoreHeader& header, const RatingSlice& mine,
                 const IdMap& users, const IdMap& items, const std::function<void(const h5::File&)>& extra) {
    const std::int64_t n = mine.size();
    const bool has_time = comm.any(!mine.time.empty());
    const bool has_split = comm.any(!mine.is_test.empty());
    if (comm.any(has_time && static_cast<std::int64_t>(mine.time.size()) != n))
        DISTCF_THROW(InputError, "write_store: every rank must pass times when one does");
    if (comm.any(has_split && static_cast<std::int64_t>(mine.is_test.size()) != n))
        DISTCF_THROW(InputError, "write_store: every rank must pass the split when one does");
    StoreWriter w(path, comm, header, n, users, items, has_time, has_split);
    w.write(mine);
    if (extra) extra(w.file());
    w.commit();
}

StoreInfo read_store_info(const std::string& path, const Comm& comm) {
    h5::File f = h5::File::open(path, comm);
    StoreInfo info;
    info.path = path;
    if (!f.has_attr("format") || f.attr_string("format") != kStoreFormat)
        DISTCF_THROW(InputError, path + ": not a distcf rating store (root attribute format != '" +
                                     std::string(kStoreFormat) + "')");
    info.format_version = f.attr_int("format_version");
    if (info.format_version != kStoreFormatVersion)
        DISTCF_THROW(InputError, path + ": format_version " + std::to_string(info.format_version) +
                                     " is not supported (this distcf reads version " +
                                     std::to_string(kStoreFormatVersion) + ")");
    info.n_users = f.attr_int("n_users");
    info.n_items = f.attr_int("n_items");
    info.nnz = f.attr_int("nnz");
    info.rating_min = f.attr_double("rating_min");
    info.rating_max = f.attr_double("rating_max");
    if (info.n_users < 0 || info.n_items < 0 || info.nnz < 0 || info.n_users > INT32_MAX || info.n_items > INT32_MAX)
        DISTCF_THROW(InputError, path + ": inconsistent shapes (negative or oversized n_users / n_items / nnz)");
    if (!(info.rating_min <= info.rating_max))
        DISTCF_THROW(InputError, path + ": rating_min > rating_max");
    // Every command keeps a few per-user and per-item arrays (counts, offsets, biases): a header
    // claiming more rows than memory holds fails here, not in the OOM killer.
    const std::int64_t avail = available_memory_bytes(), per_row_bytes = 32;
    if (avail > 0 && (info.n_users + info.n_items) * per_row_bytes > avail)
        DISTCF_THROW(InputError, path + ": " + std::to_string(info.n_users) + " users and " + std::to_string(info.n_items) +
                                     " items need " + std::to_string(((info.n_users + info.n_items) * per_row_bytes) >> 20) +
                                     " MiB of per-row arrays, more than the " + std::to_string(avail >> 20) +
                                     " MiB of memory available");
    auto expect_rows = [&](const std::string& name, std::int64_t rows) {
        const h5::Dataset d = f.dataset(name);
        if (d.rank() != 1 || d.rows() != rows)
            DISTCF_THROW(InputError, path + ": inconsistent shapes: " + name + " has " + std::to_string(d.rows()) +
                                         " elements, expected " + std::to_string(rows));
    };
    for (const char* name : {"/ratings/user", "/ratings/item", "/ratings/value"}) expect_rows(name, info.nnz);
    // Indices must be stored as integers: a float dataset would be truncated on reading.
    for (const char* name : {"/ratings/user", "/ratings/item"})
        if (!f.dataset(name).holds<std::int32_t>())
            DISTCF_THROW(InputError, path + ": " + std::string(name) + " holds floating-point values, not integer indices");
    if (!(std::isfinite(info.rating_min) && std::isfinite(info.rating_max)))
        DISTCF_THROW(InputError, path + ": rating_min and rating_max must be finite");
    info.has_time = f.exists("/ratings/time");
    if (info.has_time) expect_rows("/ratings/time", info.nnz);
    info.has_split = f.exists("/split/is_test");
    if (info.has_split) {
        expect_rows("/split/is_test", info.nnz);
        if (!f.dataset("/split/is_test").holds<std::uint8_t>())
            DISTCF_THROW(InputError, path + ": /split/is_test holds floating-point values, not 0 / 1 flags");
    }
    expect_rows("/ids/users", info.n_users);
    expect_rows("/ids/items", info.n_items);
    info.has_truth = f.exists("/truth");
    return info;
}

namespace {

// Reads rows cut.begin(me) .. cut.end(me) of the store, checked, restricted to `subset`. A subset
// is read in chunks against the split flags read first, and only its ratings are kept: the peak
// is the subset and one chunk, not the whole cut beside a filtered copy.
RatingSlice read_cut(const StoreInfo& info, const BlockPartition& cut, const Comm& comm, Subset subset, Times times) {
    const std::string& path = info.path;
    if (subset != Subset::All && !info.has_split)
        DISTCF_THROW(InputError, path + ": has no stored train/test split (/split/is_test); use --test-fraction or split");
    h5::File f = h5::File::open(path, comm);
    const bool with_time = info.has_time && times == Times::Read;
    const int me = comm.rank();
    const std::int64_t b = cut.begin(me), n = cut.size(me);
    std::vector<std::uint8_t> flags;
    if (info.has_split) flags = f.dataset("/split/is_test").read_rows<std::uint8_t>(b, n);
    const std::uint8_t want = subset == Subset::Test ? 1 : 0;
    std::int64_t kept = n;
    if (subset != Subset::All) kept = std::count(flags.begin(), flags.end(), want);

    // Every rating checked before use; the first bad one (over all ranks) is named.
    std::int64_t bad[3] = {-1, -1, -1};  // index out of range, value not finite or outside the scale, split flag
    RatingSlice s;
    const auto keep_all = subset == Subset::All;
    s.user.reserve(static_cast<std::size_t>(kept));
    s.item.reserve(static_cast<std::size_t>(kept));
    s.value.reserve(static_cast<std::size_t>(kept));
    if (with_time) s.time.reserve(static_cast<std::size_t>(kept));
    // One read when the whole cut is kept; chunks of 2^20 ratings (~17 MB in flight; fewer under a
    // lowered message limit, as tests force) otherwise. Every rank takes the same number of rounds
    // (HDF5 reads here are collective).
    const std::int64_t chunk = keep_all ? std::max<std::int64_t>(comm.max(n), 1) : std::min<std::int64_t>(std::int64_t{1} << 20, comm.message_limit());
    const std::int64_t rounds = comm.max((n + chunk - 1) / chunk);
    for (std::int64_t r = 0; r < rounds; ++r) {
        const std::int64_t o = std::min(n, r * chunk), m = std::min(n, o + chunk) - o;
        auto user = f.dataset("/ratings/user").read_rows<std::int32_t>(b + o, m);
        auto item = f.dataset("/ratings/item").read_rows<std::int32_t>(b + o, m);
        auto value = f.dataset("/ratings/value").read_rows<double>(b + o, m);
        std::vector<std::int64_t> time;
        if (with_time) time = f.dataset("/ratings/time").read_rows<std::int64_t>(b + o, m);
        for (std::int64_t k = 0; k < m; ++k) {
            if (bad[0] < 0 && (user[k] < 0 || user[k] >= info.n_users || item[k] < 0 || item[k] >= info.n_items)) bad[0] = b + o + k;
            if (bad[1] < 0 && !(value[k] >= info.rating_min && value[k] <= info.rating_max)) bad[1] = b + o + k;
            if (bad[2] < 0 && info.has_split && flags[o + k] > 1) bad[2] = b + o + k;
        }
        if (keep_all && r == 0) {  // the whole cut: no copy
            s.user = std::move(user);
            s.item = std::move(item);
            s.value = std::move(value);
            s.time = std::move(time);
            continue;
        }
        for (std::int64_t k = 0; k < m; ++k) {
            if (flags[o + k] != want) continue;
            s.push(user[k], item[k], value[k]);
            if (with_time) s.time.push_back(time[k]);
        }
    }
    if (keep_all) s.is_test = std::move(flags);
    for (auto& x : bad) x = comm.max(x);
    if (bad[0] >= 0)
        DISTCF_THROW(InputError, path + ": inconsistent shapes: rating " + std::to_string(bad[0]) +
                                     " has a user or item index outside [0, n_users) / [0, n_items)");
    if (bad[1] >= 0)
        DISTCF_THROW(InputError, path + ": rating " + std::to_string(bad[1]) +
                                     " is not a number within the store's rating_min .. rating_max");
    if (bad[2] >= 0)
        DISTCF_THROW(InputError, path + ": /split/is_test of rating " + std::to_string(bad[2]) + " is neither 0 nor 1");
    return s;
}

}  // namespace

RatingSlice read_slice(const std::string& path, const Comm& comm, Subset subset, StoreInfo* info_out, Times times) {
    const StoreInfo info = read_store_info(path, comm);
    if (info_out) *info_out = info;
    return read_cut(info, BlockPartition::uniform(info.nnz, comm.size()), comm, subset, times);
}

RatingSlice read_user_aligned_slice(const std::string& path, const Comm& comm, Subset subset, StoreInfo* info_out, Times times) {
    const StoreInfo info = read_store_info(path, comm);
    if (info_out) *info_out = info;
    // Ratings per user from an even cut of /ratings/user, then a cut at the balanced user blocks.
    std::vector<std::int64_t> counts(static_cast<std::size_t>(info.n_users), 0);
    {
        h5::File f = h5::File::open(path, comm);
        const auto even = BlockPartition::uniform(info.nnz, comm.size());
        const auto users = f.dataset("/ratings/user").read_rows<std::int32_t>(even.begin(comm.rank()), even.size(comm.rank()));
        std::int32_t prev = -1;
        for (auto u : users) {
            if (u < 0 || u >= info.n_users || u < prev)
                DISTCF_THROW(InputError, path + ": /ratings/user is not sorted by user or out of range");
            prev = u;
            ++counts[static_cast<std::size_t>(u)];
        }
    }
    comm.allreduce(counts, MPI_SUM);
    const auto blocks = BlockPartition::balanced(counts, comm.size());
    std::vector<std::int64_t> off(static_cast<std::size_t>(comm.size()) + 1, 0);
    std::int64_t acc = 0, u = 0;
    for (int p = 0; p < comm.size(); ++p) {
        for (; u < blocks.end(p); ++u) acc += counts[static_cast<std::size_t>(u)];
        off[p + 1] = acc;
    }
    return read_cut(info, BlockPartition(off), comm, subset, times);
}

std::pair<IdMap, IdMap> read_id_maps(const std::string& path, const Comm& comm) {
    h5::File f = h5::File::open(path, comm);
    return {read_ids(f, "/ids/users"), read_ids(f, "/ids/items")};
}

RatingBlocks load_blocks(const std::string& path, const Comm& comm, Subset subset) {
    StoreInfo info;
    RatingSlice s = read_slice(path, comm, subset, &info);
    return distribute(std::move(s), info.n_users, info.n_items, info.rating_min, info.rating_max, comm);
}

}  // namespace distcf
