#include <gtest/gtest.h>

#include <filesystem>

#include "distcf/data/distribute.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/io/store.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::TempDir;

namespace {

RatingSlice tiny() {
    RatingSlice s;
    s.push(0, 1, 4.0);
    s.push(0, 2, 3.5);
    s.push(1, 0, 1.0);
    s.push(2, 2, 5.0);
    s.time = {10, 20, 30, 40};
    return s;
}

StoreHeader header() {
    StoreHeader h;
    h.n_users = 3;
    h.n_items = 3;
    h.rating_min = 1;
    h.rating_max = 5;
    h.provenance = Provenance::now("test");
    return h;
}

void write_tiny(const std::string& path) {
    write_store(path, Comm::self(), header(), tiny(), IdMap::integers({5, 7, 9}), IdMap::strings({"a", "b", "c"}));
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const InputError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST(Store, RoundTripKeepsRatingsTimesIdsAndAttributes) {
    TempDir d;
    const auto path = d.file("s.h5");
    write_tiny(path);
    StoreInfo info;
    const auto s = read_slice(path, Comm::self(), Subset::All, &info);
    EXPECT_EQ(info.n_users, 3);
    EXPECT_EQ(info.nnz, 4);
    EXPECT_TRUE(info.has_time);
    EXPECT_EQ(s.user, tiny().user);
    EXPECT_EQ(s.item, tiny().item);
    EXPECT_EQ(s.value, tiny().value);
    EXPECT_EQ(s.time, tiny().time);
    // Training skips the times: the same ratings without them, cut alike.
    const auto no_times = read_user_aligned_slice(path, Comm::self(), Subset::All, nullptr, Times::Skip);
    EXPECT_TRUE(no_times.time.empty());
    EXPECT_EQ(no_times.user, s.user);
    EXPECT_EQ(no_times.value, s.value);
    const auto [u, i] = read_id_maps(path, Comm::self());
    EXPECT_EQ(u, IdMap::integers({5, 7, 9}));
    EXPECT_EQ(i, IdMap::strings({"a", "b", "c"}));
    EXPECT_EQ(*i.find("b"), 1);
    EXPECT_EQ(*u.find("9"), 2);
    EXPECT_FALSE(u.find("8").has_value());
}

TEST(Store, BatchedWriterMatchesOneShotWriteAndChecksWhatWasAnnounced) {
    TempDir d;
    write_tiny(d.file("one.h5"));
    {
        StoreWriter w(d.file("batched.h5"), Comm::self(), header(), 4, IdMap::integers({5, 7, 9}),
                      IdMap::strings({"a", "b", "c"}), true, false);
        const RatingSlice all = tiny();
        RatingSlice first, second;
        for (int e = 0; e < 4; ++e) {
            RatingSlice& b = e < 3 ? first : second;
            b.push(all.user[e], all.item[e], all.value[e]);
            b.time.push_back(all.time[e]);
        }
        w.append(first);
        w.append(second);
        EXPECT_EQ(w.written(), 4);
        w.commit();
    }
    const auto a = read_slice(d.file("one.h5"), Comm::self(), Subset::All);
    const auto b = read_slice(d.file("batched.h5"), Comm::self(), Subset::All);
    EXPECT_EQ(a.user, b.user);
    EXPECT_EQ(a.item, b.item);
    EXPECT_EQ(a.value, b.value);
    EXPECT_EQ(a.time, b.time);
    // Announced 4 ratings, wrote 1: commit refuses, and no file appears.
    EXPECT_NE(error_of([&] {
                  StoreWriter w(d.file("short.h5"), Comm::self(), header(), 4, IdMap::integers({5, 7, 9}),
                                IdMap::strings({"a", "b", "c"}), false, false);
                  RatingSlice one;
                  one.push(0, 1, 4.0);
                  w.append(one);
                  w.commit();
              }).find("fewer ratings than it announced"),
              std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(d.file("short.h5")));
}

TEST(Store, SinglePrecisionStoresFloatsAndReadsBackAsDoubles) {
    TempDir d;
    StoreHeader h = header();
    h.single_precision = true;
    RatingSlice s;
    s.push(0, 0, 3.1);
    s.push(1, 2, 4.7);
    write_store(d.file("f.h5"), Comm::self(), h, s, IdMap::identity(3), IdMap::identity(3));
    const auto back = read_slice(d.file("f.h5"), Comm::self(), Subset::All);
    EXPECT_EQ(back.value, (std::vector<double>{static_cast<float>(3.1), static_cast<float>(4.7)}));
}

TEST(Store, ClosingAFileWithAnObjectStillOpenIsAnError) {
    TempDir d;
    h5::File f = h5::File::create(d.file("x.h5"), Comm::self());
    const auto ds = f.create_dataset<double>("/v", 3);
    EXPECT_THROW(f.close(), H5Error);
}

TEST(Store, LoadBlocksOnOneRankHoldsEveryRatingByUserAndByItem) {
    TempDir d;
    const auto path = d.file("s.h5");
    write_tiny(path);
    const auto b = load_blocks(path, Comm::self());
    EXPECT_EQ(b.by_user.ptr, (std::vector<std::int64_t>{0, 2, 3, 4}));
    EXPECT_EQ(b.by_item.ptr, (std::vector<std::int64_t>{0, 1, 2, 4}));
    EXPECT_EQ(b.by_item.col, (std::vector<std::int32_t>{1, 0, 0, 2}));
    EXPECT_DOUBLE_EQ(b.mean, (4.0 + 3.5 + 1.0 + 5.0) / 4);
    EXPECT_EQ(b.user_counts, (std::vector<std::int64_t>{2, 1, 1}));
}

TEST(Store, ReadableByH5dumpAndH5py) {
    TempDir d;
    const auto path = d.file("s.h5");
    write_tiny(path);
    const auto dump = test::run("h5dump -d /ratings/value " + path);
    ASSERT_EQ(dump.code, 0) << dump.err;
    EXPECT_NE(dump.out.find("4, 3.5, 1, 5"), std::string::npos) << dump.out;
    const auto py = test::run("/usr/bin/python3 -c \"import h5py; f = h5py.File('" + path +
                              "', 'r'); print(int(f.attrs['nnz']), list(f['ids/users'][:]), f.attrs['format'])\"");
    if (py.code != 0 && py.err.find("No module named") != std::string::npos) GTEST_SKIP() << "python3-h5py missing";
    ASSERT_EQ(py.code, 0) << py.err;
    EXPECT_NE(py.out.find("4 [5, 7, 9]"), std::string::npos) << py.out;
}

TEST(Store, RejectsAFileThatIsNotHdf5) {
    TempDir d;
    test::write_text(d.file("x.h5"), "hello");
    EXPECT_NE(error_of([&] { read_store_info(d.file("x.h5"), Comm::self()); }).find("not an HDF5 file"), std::string::npos);
    EXPECT_NE(error_of([&] { read_store_info(d.file("missing.h5"), Comm::self()); }).find("cannot open"), std::string::npos);
}

TEST(Store, RejectsAnHdf5FileThatIsNotOurs) {
    TempDir d;
    { h5::File::create(d.file("o.h5"), Comm::self()).set_attr("something", 1.0); }
    EXPECT_NE(error_of([&] { read_store_info(d.file("o.h5"), Comm::self()); }).find("not a distcf rating store"),
              std::string::npos);
}

TEST(Store, RejectsAnotherFormatVersion) {
    TempDir d;
    write_tiny(d.file("s.h5"));
    { h5::File::open(d.file("s.h5"), Comm::self(), true).set_attr("format_version", std::int64_t{99}); }
    EXPECT_NE(error_of([&] { read_store_info(d.file("s.h5"), Comm::self()); }).find("format_version 99 is not supported"),
              std::string::npos);
}

TEST(Store, RejectsInconsistentShapes) {
    TempDir d;
    write_tiny(d.file("s.h5"));
    { h5::File::open(d.file("s.h5"), Comm::self(), true).set_attr("nnz", std::int64_t{5}); }
    EXPECT_NE(error_of([&] { read_store_info(d.file("s.h5"), Comm::self()); }).find("inconsistent shapes"), std::string::npos);
    write_tiny(d.file("t.h5"));
    { h5::File::open(d.file("t.h5"), Comm::self(), true).set_attr("n_users", std::int64_t{2}); }
    EXPECT_NE(error_of([&] { read_store_info(d.file("t.h5"), Comm::self()); }).find("/ids/users"), std::string::npos);
}

TEST(Store, FailedWriteLeavesNothingBehind) {
    TempDir d;
    const auto path = d.file("s.h5");
    EXPECT_THROW(write_store(path, Comm::self(), header(), tiny(), IdMap::identity(3), IdMap::identity(3),
                             [](const h5::File&) { throw InputError("boom", __FILE__, __LINE__); }),
                 InputError);
    EXPECT_TRUE(std::filesystem::is_empty(d.path())) << "a temporary or partial file was left";
}

TEST(Store, MissingOutputDirectoryIsAClearError) {
    TempDir d;
    const auto msg = error_of([&] { write_tiny(d.file("nope/s.h5")); });
    EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
}

TEST(Store, OverwritingReplacesTheOldFileAtomically) {
    TempDir d;
    const auto path = d.file("s.h5");
    write_tiny(path);
    RatingSlice one;
    one.push(0, 0, 2.0);
    write_store(path, Comm::self(), header(), one, IdMap::identity(3), IdMap::identity(3));
    EXPECT_EQ(read_store_info(path, Comm::self()).nnz, 1);
}
