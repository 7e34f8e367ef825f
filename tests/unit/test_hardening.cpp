// Issue 17's defects, one test each: malformed inputs give one clean error, nothing is corrupted,
// nothing crashes or hangs, and no output destroys an input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "distcf/io/h5.hpp"
#include "distcf/io/pairs.hpp"
#include "distcf/io/store.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::program;
using distcf::test::run;
namespace fs = std::filesystem;

namespace {

// A small ALS model trained on a generated set, in `d`.
std::string small_model(const test::TempDir& d, const std::string& name = "m.h5") {
    EXPECT_EQ(run(program() + " generate --users 60 --items 40 --density 0.3 --test-fraction 0.2 --out " + d.file("g.h5")).code, 0);
    EXPECT_EQ(run(program() + " train --factors 8 --iters 3 --train " + d.file("g.h5") + " --out " + d.file(name)).code, 0);
    return d.file(name);
}

// A copy of `model` with `edit` applied to its HDF5 file.
std::string edited_copy(const test::TempDir& d, const std::string& model, const std::string& name,
                        const std::function<void(h5::File&)>& edit) {
    const std::string out = d.file(name);
    fs::copy_file(model, out, fs::copy_options::overwrite_existing);
    h5::File f = h5::File::open(out, Comm::self(), true);
    edit(f);
    f.close();
    return out;
}

bool leaves_no_temporaries(const test::TempDir& d) {
    for (const auto& e : fs::directory_iterator(d.path()))
        if (e.path().filename().string().find(".tmp") != std::string::npos) return false;
    return true;
}

}  // namespace

// 1. String IDs at 2 ranks: non-root ranks wrote integer identity maps, a different dataset per rank.
TEST(Hardening, StringIdsImportIntactOnTwoRanks) {
    test::TempDir d;
    test::write_text(d.file("r.csv"), "1,10,3\nabc,10,4\n2,xyz,5\n");
    const auto r = run(program(2) + " import --format csv --input " + d.file("r.csv") + " --out " + d.file("r.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    const auto [users, items] = read_id_maps(d.file("r.h5"), Comm::self());
    ASSERT_FALSE(users.is_integer());
    EXPECT_EQ(users.strs(), (std::vector<std::string>{"1", "2", "abc"}));
    EXPECT_EQ(items.strs(), (std::vector<std::string>{"10", "xyz"}));
    // Many string IDs at 2 ranks (this hung in H5Fclose).
    std::string text;
    for (int i = 0; i < 3000; ++i) text += "AP8IX4EA" + std::to_string(i) + ",B88762" + std::to_string(i % 97) + ",1\n";
    test::write_text(d.file("many.csv"), text);
    const auto m = run("timeout 60 " + program(2) + " import --format csv --input " + d.file("many.csv") + " --out " + d.file("many.h5"));
    ASSERT_EQ(m.code, 0) << m.err;
    EXPECT_EQ(read_id_maps(d.file("many.h5"), Comm::self()).first.size(), 3000);
}

// 2. An empty /model/user_factors with n_factors 8 was accepted, then dereferenced.
TEST(Hardening, AModelWithoutItsFactorsIsRefusedNotDereferenced) {
    test::TempDir d;
    const std::string m = small_model(d);
    const std::string bad = edited_copy(d, m, "bad.h5", [](h5::File& f) {
        H5Ldelete(f.id(), "/model/user_factors", H5P_DEFAULT);
        f.write_vector("/model/user_factors", std::vector<double>{}, 8);
    });
    test::write_text(d.file("pairs.txt"), "0 1\n");
    const auto r = run(program() + " predict --model " + bad + " --pairs " + d.file("pairs.txt") + " --out " + d.file("p.tsv"));
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("user_factors"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(d.file("p.tsv")));
    EXPECT_TRUE(leaves_no_temporaries(d));
}

// 3. Arrays not checked against the header.
TEST(Hardening, ModelArraysAreCheckedAgainstTheHeader) {
    test::TempDir d;
    const std::string m = small_model(d);
    test::write_text(d.file("pairs.txt"), "0 1\n");
    const auto refused = [&](const std::string& file, const std::string& why, const std::string& extra = "") {
        const auto r = run(program() + " predict --model " + file + " --pairs " + d.file("pairs.txt") + " --out " +
                           d.file("p.tsv") + extra);
        EXPECT_EQ(r.code, 1) << file << ": " << r.err;
        EXPECT_NE(r.err.find(why), std::string::npos) << file << ": " << r.err;
    };
    refused(edited_copy(d, m, "counts.h5", [](h5::File& f) {
                H5Ldelete(f.id(), "/model/user_counts", H5P_DEFAULT);
                f.write_vector("/model/user_counts", std::vector<std::int64_t>{1, 2});
            }),
            "user_counts", " --cold-start fallback");
    refused(edited_copy(d, m, "ids.h5", [](h5::File& f) {
                H5Ldelete(f.id(), "/ids/users", H5P_DEFAULT);
                std::vector<std::int64_t> ids(100);
                for (int i = 0; i < 100; ++i) ids[i] = i;
                f.write_vector("/ids/users", ids);
            }),
            "/ids/users");
    refused(edited_copy(d, m, "range.h5", [](h5::File& f) { f.group("/model").set_attr("rating_min", 9.0); }), "rating_min");
    const std::string seen = edited_copy(d, m, "seen.h5", [](h5::File& f) {
        auto ptr = f.read_vector<std::int64_t>("/seen/ptr");
        std::swap(ptr[3], ptr[10]);
        H5Ldelete(f.id(), "/seen/ptr", H5P_DEFAULT);
        f.write_vector("/seen/ptr", ptr);
    });
    test::write_text(d.file("f.txt"), "5000 2 5\n");
    const auto r = run(program() + " foldin --model " + seen + " --ratings " + d.file("f.txt") + " --out " + d.file("f.h5"));
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("/seen/ptr"), std::string::npos) << r.err;
}

// 4. Fold-in appended new IDs unsorted and then could not find them; IDs past int64 merged users.
TEST(Hardening, FoldedInUsersCanBeFoundAndBadRatingsAreRefused) {
    test::TempDir d;
    const std::string m = small_model(d);
    test::write_text(d.file("f.txt"), "5000 2 5\n0 3 4\n2000 1 3\n");
    const auto f = run(program() + " foldin --model " + m + " --ratings " + d.file("f.txt") + " --out " + d.file("f.h5"));
    ASSERT_EQ(f.code, 0) << f.err;
    for (const char* u : {"5000", "0", "2000"}) {
        const auto r = run(program() + " recommend --model " + d.file("f.h5") + " --user " + u + " --top 3");
        EXPECT_EQ(r.code, 0) << r.err;
        EXPECT_EQ(r.out.find("not in the model"), std::string::npos) << u << ": " << r.out;
    }
    const auto bad = [&](const std::string& text, const std::string& why) {
        test::write_text(d.file("b.txt"), text);
        const auto r = run(program() + " foldin --model " + m + " --ratings " + d.file("b.txt") + " --out " + d.file("b.h5"));
        EXPECT_NE(r.code, 0) << text;
        EXPECT_NE(r.err.find(why), std::string::npos) << text << ": " << r.err;
        EXPECT_FALSE(fs::exists(d.file("b.h5")));
    };
    bad("99999999999999999999 2 5\n", "does not fit a 64-bit integer");
    bad("7000 2 1e308\n", "outside the model's rating range");
    bad("7000 2 x\n7001 2 4\n", ":1: rating is not a number");
    // With no --out, fold-in does not overwrite its input.
    test::write_text(d.file("ok.txt"), "7000 2 5\n");
    const auto same = run(program() + " foldin --model " + m + " --ratings " + d.file("ok.txt"));
    EXPECT_EQ(same.code, 2) << same.err;
}

// 7. An output that is an input, or not a regular file.
TEST(Hardening, AnOutputThatIsAnInputOrNotARegularFileIsRefused) {
    test::TempDir d;
    const std::string m = small_model(d);
    const auto before = fs::file_size(d.file("g.h5"));
    const auto refused = [&](const std::string& args, const std::string& why) {
        const auto r = run(program() + " " + args);
        EXPECT_EQ(r.code, 2) << args << ": " << r.err;
        EXPECT_NE(r.err.find(why), std::string::npos) << args << ": " << r.err;
    };
    refused("train --factors 4 --iters 1 --train " + d.file("g.h5") + " --out " + d.file("g.h5"), "is also an input");
    refused("predict --model " + m + " --pairs " + d.file("g.h5") + " --out " + m, "is also an input");
    refused("split " + d.file("g.h5") + " --out-train " + d.file("g.h5") + " --out-test " + d.file("t.h5"), "is also an input");
    test::write_text(d.file("r.csv"), "1,2,3\n");
    refused("import --input " + d.file("r.csv") + " --out " + d.file("r.csv"), "is also an input");
    EXPECT_EQ(fs::file_size(d.file("g.h5")), before);
    EXPECT_EQ(test::read_text(d.file("r.csv")), "1,2,3\n");
    ASSERT_EQ(::mkfifo(d.file("fifo").c_str(), 0600), 0);
    refused("train --factors 4 --iters 1 --train " + d.file("g.h5") + " --out " + d.file("fifo"), "not a regular file");
    fs::create_symlink(d.file("elsewhere.h5"), d.file("link.h5"));
    refused("train --factors 4 --iters 1 --train " + d.file("g.h5") + " --out " + d.file("link.h5"), "not a regular file");
    // '-' is standard output for text outputs.
    test::write_text(d.file("pairs.txt"), "0 1\n");
    const auto out = run(program() + " predict --model " + m + " --pairs " + d.file("pairs.txt") + " --out -");
    ASSERT_EQ(out.code, 0) << out.err;
    EXPECT_EQ(out.out.substr(0, 25), "user\titem\tprediction\n0\t1\t");
    EXPECT_FALSE(fs::exists("-"));
}

// 8. A directory given as a text input was read as an empty file.
TEST(Hardening, ADirectoryAsATextInputIsRefused) {
    test::TempDir d;
    const std::string m = small_model(d);
    fs::create_directory(d.file("dir"));
    const auto p = run(program() + " predict --model " + m + " --pairs " + d.file("dir") + " --out " + d.file("p.tsv"));
    EXPECT_EQ(p.code, 1);
    EXPECT_NE(p.err.find("is a directory"), std::string::npos) << p.err;
    const auto f = run(program() + " foldin --model " + m + " --ratings " + d.file("dir") + " --out " + d.file("f.h5"));
    EXPECT_EQ(f.code, 1);
    EXPECT_NE(f.err.find("is a directory"), std::string::npos) << f.err;
}

namespace {
// A store imported from a small csv, in `d`.
std::string small_store(const test::TempDir& d, const std::string& name = "s.h5") {
    test::write_text(d.file("s.csv"), "1,10,3\n1,11,4\n2,10,5\n2,12,1\n3,11,2\n3,12,4\n");
    EXPECT_EQ(run(program() + " import --input " + d.file("s.csv") + " --out " + d.file(name)).code, 0);
    return d.file(name);
}
void replace_vector(h5::File& f, const std::string& name, const auto& v) {
    H5Ldelete(f.id(), name.c_str(), H5P_DEFAULT);
    f.write_vector(name, v);
}
}  // namespace

// 5. Stores are validated on read.
TEST(Hardening, StoresAreValidatedOnRead) {
    test::TempDir d;
    const std::string s = small_store(d);
    const auto refused = [&](const std::string& file, const std::string& why) {
        const auto r = run(program() + " train --factors 2 --iters 1 --train " + file + " --out " + d.file("m.h5"));
        EXPECT_EQ(r.code, 1) << file << ": " << r.err;
        EXPECT_NE(r.err.find(why), std::string::npos) << file << ": " << r.err;
    };
    refused(edited_copy(d, s, "dup.h5", [](h5::File& f) { replace_vector(f, "/ids/users", std::vector<std::int64_t>{1, 1, 3}); }),
            "appears twice");
    refused(edited_copy(d, s, "nan.h5", [](h5::File& f) {
                auto v = f.read_vector<double>("/ratings/value");
                v[2] = std::nan("");
                replace_vector(f, "/ratings/value", v);
            }),
            "rating 2 is not a number within");
    refused(edited_copy(d, s, "range.h5", [](h5::File& f) {
                auto v = f.read_vector<double>("/ratings/value");
                v[4] = 99;
                replace_vector(f, "/ratings/value", v);
            }),
            "rating 4 is not a number within");
    refused(edited_copy(d, s, "float.h5", [](h5::File& f) {
                const auto u = f.read_vector<std::int32_t>("/ratings/user");
                replace_vector(f, "/ratings/user", std::vector<double>(u.begin(), u.end()));
            }),
            "/ratings/user holds floating-point values");
    const std::string split = d.file("split.h5");
    ASSERT_EQ(run(program() + " generate --users 30 --items 20 --density 0.3 --test-fraction 0.2 --out " + split).code, 0);
    refused(edited_copy(d, split, "flag.h5", [](h5::File& f) {
                auto t = f.read_vector<std::uint8_t>("/split/is_test");
                t[0] = 2;
                replace_vector(f, "/split/is_test", t);
            }),
            "is neither 0 nor 1");
    // Reversed IDs are a valid map (a permutation): training and lookups work.
    const std::string rev = edited_copy(d, s, "rev.h5", [](h5::File& f) {
        replace_vector(f, "/ids/users", std::vector<std::int64_t>{3, 2, 1});
    });
    ASSERT_EQ(run(program() + " train --factors 2 --iters 2 --lambda 0.5 --train " + rev + " --out " + d.file("r.h5")).code, 0);
    const auto rec = run(program() + " recommend --model " + d.file("r.h5") + " --user 3 --top 1");
    EXPECT_EQ(rec.code, 0) << rec.err;
    EXPECT_EQ(rec.out.find("not in the model"), std::string::npos) << rec.out;
    // A model's k of 2^32 + 8 is not read as 8.
    ASSERT_EQ(run(program() + " train --factors 2 --iters 1 --train " + s + " --out " + d.file("k.h5")).code, 0);
    const std::string k = edited_copy(d, d.file("k.h5"), "k2.h5", [](h5::File& f) {
        f.group("/model").set_attr("n_factors", (std::int64_t{1} << 32) + 2);
    });
    test::write_text(d.file("pairs.txt"), "1 10\n");
    const auto p = run(program() + " predict --model " + k + " --pairs " + d.file("pairs.txt") + " --out " + d.file("p.tsv"));
    EXPECT_EQ(p.code, 1);
    EXPECT_NE(p.err.find("n_factors = 4294967298 is out of range"), std::string::npos) << p.err;
}

// 9. Small inputs must not cost huge memory or disk.
TEST(Hardening, SmallInputsCannotClaimHugeResources) {
    test::TempDir d;
    test::write_text(d.file("long.csv"), "a,b,1\n" + std::string(100000, 'x') + ",b,2\n");
    const auto r = run(program() + " import --input " + d.file("long.csv") + " --out " + d.file("l.h5"));
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find(":2: user ID of 100000 bytes is longer than the 256"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(d.file("l.h5")));
    // A header claiming 2^31 - 1 users (the IDs dataset allocated but never written).
    const std::string s = small_store(d);
    const std::string huge = edited_copy(d, s, "huge.h5", [](h5::File& f) {
        H5Ldelete(f.id(), "/ids/users", H5P_DEFAULT);
        h5::Layout chunked;
        chunked.chunked = true;
        chunked.chunk_rows = 1 << 16;
        chunked.deflate = 0;
        f.create_dataset<std::int64_t>("/ids/users", std::int64_t{INT32_MAX}, 0, chunked);
        f.set_attr("n_users", std::int64_t{INT32_MAX});
    });
    EXPECT_LT(fs::file_size(huge), 1u << 20);
    const auto info = run("timeout 60 " + program() + " info " + huge);
    EXPECT_EQ(info.code, 1) << info.err;
    EXPECT_NE(info.err.find("MiB of memory available"), std::string::npos) << info.err;
}

// 10. One line with the reason, exit 2 for every bad value, no source location without
// --verbose, no MPI_Abort banner for a user error under mpirun.
TEST(Hardening, ErrorsAreOneLineWithTheReasonAndTheRightExitCode) {
    test::TempDir d;
    const std::string m = small_model(d);
    const auto usage = [&](const std::string& args, const std::string& why) {
        const auto r = run(program() + " " + args);
        EXPECT_EQ(r.code, 2) << args << ": " << r.err;
        EXPECT_NE(r.err.find(why), std::string::npos) << args << ": " << r.err;
        EXPECT_EQ(r.err.find(".cpp:"), std::string::npos) << "a source location without --verbose: " << r.err;
    };
    usage("recommend --model " + m + " --user 1 --top 0", "top: must be >= 1");
    usage("split " + d.file("g.h5") + " --test-fraction 1.5 --out-train " + d.file("a.h5") + " --out-test " + d.file("b.h5"),
          "test-fraction");
    usage("train --factors 0 --train " + d.file("g.h5") + " --out " + d.file("x.h5"), "factors");
    usage("train --iters 0 --train " + d.file("g.h5") + " --out " + d.file("x.h5"), "iters: must be >= 1");
    const auto verbose = run(program() + " --verbose info " + d.file("missing.h5"));
    EXPECT_EQ(verbose.code, 1);
    EXPECT_NE(verbose.err.find("No such file or directory"), std::string::npos) << verbose.err;
    EXPECT_NE(verbose.err.find(".cpp:"), std::string::npos) << verbose.err;
    // Every rank finds the bad value: one line, no abort (mpirun -q leaves only the program's words).
    const auto two = run(std::string(DISTCF_MPIEXEC) + " -q -n 2 --oversubscribe" + (::geteuid() == 0 ? " --allow-run-as-root " : " ") +
                         DISTCF_BIN + " recommend --model " + m + " --user 1 --top 0");
    EXPECT_EQ(two.code, 2) << two.err;
    EXPECT_EQ(two.err, "distcf: error: top: must be >= 1, got 0\n");
}

// 10, 11. A write that fails (the file-size limit stands in for a full disk) says why, and leaves
// no temporary file on any rank.
TEST(Hardening, AFailedWriteSaysWhyAndLeavesNothing) {
    test::TempDir d;
    for (int np : {1, 2}) {
        // Each rank under the limit (mpirun's own shared memory must not be).
        const std::string limited = "bash -c 'trap \"\" XFSZ; ulimit -f 200; exec " + std::string(DISTCF_BIN) +
                                    " generate --users 3000 --items 400 --density 0.3 --compression 0 --out " + d.file("big.h5") + "'";
        const auto r = run(std::string(DISTCF_MPIEXEC) + " -q -n " + std::to_string(np) + " --oversubscribe" +
                           (::geteuid() == 0 ? " --allow-run-as-root " : " ") + limited);
        EXPECT_NE(r.code, 0) << np;
        EXPECT_NE(r.err.find("File too large"), std::string::npos) << np << ": " << r.err;
        EXPECT_NE(r.err.find(d.file("big.h5") + ": cannot write"), std::string::npos) << "the message names the output: " << r.err;
        EXPECT_FALSE(fs::exists(d.file("big.h5")));
        EXPECT_TRUE(leaves_no_temporaries(d)) << np << " ranks";
    }
}

namespace {
std::string this_host() {
    char h[256] = {0};
    ::gethostname(h, sizeof h - 1);
    std::string s(h);
    std::replace(s.begin(), s.end(), '.', '_');
    return s;
}
}  // namespace

// 11. Temporaries that killed runs left are removed by a later write of the same output and by
// `distcf clean`; those of live processes are kept.
TEST(Hardening, StaleTemporariesAreRemovedAndLiveOnesKept) {
    test::TempDir d;
    // PID 4194305 is above Linux's pid_max: no process has it.
    const std::string stale_g = d.file(".g.h5.distcf-tmp." + this_host() + ".4194305.7");
    const std::string stale_x = d.file(".x.h5.distcf-tmp." + this_host() + ".4194305.8");
    const std::string live = d.file(".y.h5.distcf-tmp." + this_host() + "." + std::to_string(::getpid()) + ".9");
    const std::string other_host = d.file(".z.h5.distcf-tmp.elsewhere.4194305.9");
    for (const auto& p : {stale_g, stale_x, live, other_host}) test::write_text(p, "partial");
    ASSERT_EQ(run(program() + " generate --users 30 --items 20 --out " + d.file("g.h5")).code, 0);
    EXPECT_FALSE(fs::exists(stale_g)) << "the write of g.h5 did not remove its stale temporary";
    EXPECT_TRUE(fs::exists(stale_x));
    const auto c = run(program() + " clean " + d.path().string());
    ASSERT_EQ(c.code, 0) << c.err;
    EXPECT_NE(c.out.find("clean: 1 stale temporary"), std::string::npos) << c.out;
    EXPECT_FALSE(fs::exists(stale_x));
    EXPECT_TRUE(fs::exists(live));
    EXPECT_TRUE(fs::exists(other_host));
}

// 11, 13. Killed during training, a run resumes from its last checkpoint to the same model; the
// checkpoint says it is unfinished; --resume without one says so.
TEST(Hardening, AKilledRunResumesToTheSameModel) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 3000 --items 600 --density 0.1 --out " + d.file("g.h5")).code, 0);
    const std::string base = program() + " train --train " + d.file("g.h5") + " --factors 24 --iters 25 --lambda 0.1";
    ASSERT_EQ(run(base + " --out " + d.file("full.h5")).code, 0);
    const std::string ck = d.file("ck.h5");
    // Its temporary directory inside d: a killed process leaves its (empty) MPI session tree.
    fs::create_directories(d.file("tmp"));
    const auto killed = run("TMPDIR=" + d.file("tmp") + " bash -c '" + base + " --checkpoint-every 1 --out " + ck + " > /dev/null & pid=$!; " +
                            "for i in $(seq 2000); do [ -f " + ck + " ] && break; sleep 0.01; done; kill -9 $pid; wait $pid; " +
                            "echo killed'");
    EXPECT_NE(killed.out.find("killed"), std::string::npos);
    ASSERT_TRUE(fs::exists(ck)) << "no checkpoint was written before the kill";
    // Killed as soon as its first checkpoint appeared, 24 iterations before its end.
    ASSERT_EQ(h5::File::open(ck, Comm::self()).attr_int("complete"), 0) << "the run ended before the kill";
    const auto p = run(program() + " evaluate --model " + ck + " --test " + d.file("g.h5"));
    EXPECT_NE(p.err.find("is a checkpoint of a run that has not finished"), std::string::npos) << p.err;
    const auto r = run(base + " --checkpoint-every 1 --resume --out " + ck);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("resuming from"), std::string::npos) << r.out;
    const auto read = [](const std::string& f, const std::string& ds) { return h5::File::open(f, Comm::self()).read_vector<double>(ds); };
    EXPECT_EQ(read(d.file("full.h5"), "/model/user_factors"), read(ck, "/model/user_factors"));
    EXPECT_EQ(h5::File::open(ck, Comm::self()).attr_int("complete"), 1);
    EXPECT_TRUE(leaves_no_temporaries(d));
    const auto fresh = run(program() + " train --train " + d.file("g.h5") + " --factors 4 --iters 1 --resume --out " + d.file("new.h5"));
    EXPECT_NE(fresh.out.find("no checkpoint at"), std::string::npos) << fresh.out;
}

// 13. Numbers that meant nothing, said nothing.
TEST(Hardening, QuietNumbersAreGoneOrExplained) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --implicit --users 200 --items 80 --density 0.3 --test-fraction 0.2 --out " + d.file("i.h5")).code, 0);
    ASSERT_EQ(run(program() + " train --method ials --factors 6 --iters 4 --train " + d.file("i.h5") + " --out " + d.file("i.m.h5")).code, 0);
    // Implicit ALS predicts preferences in [0, 1], not clipped counts.
    test::write_text(d.file("pairs.txt"), "0 1\n0 2\n1 3\n2 4\n");
    ASSERT_EQ(run(program() + " predict --model " + d.file("i.m.h5") + " --pairs " + d.file("pairs.txt") + " --out " + d.file("p.tsv")).code, 0);
    std::istringstream in(test::read_text(d.file("p.tsv")));
    std::string u, i, header;
    std::getline(in, header);
    EXPECT_EQ(header, "user\titem\tprediction");
    double pred = 0;
    int distinct_from_one = 0;
    while (in >> u >> i >> pred) {
        EXPECT_GE(pred, 0.0);
        EXPECT_LE(pred, 1.0);
        distinct_from_one += pred < 0.999;
    }
    EXPECT_GT(distinct_from_one, 0) << "every preference clipped to 1";
    const auto e = run(program() + " evaluate --model " + d.file("i.m.h5") + " --test " + d.file("i.h5"));
    EXPECT_EQ(e.code, 2);
    EXPECT_NE(e.err.find("predicts preferences, not ratings"), std::string::npos) << e.err;
    // Evaluating on the training ratings says so.
    const std::string m = small_model(d);
    const auto self = run(program() + " evaluate --model " + m + " --test " + d.file("g.h5") + " --json");
    EXPECT_EQ(self.code, 0);
    EXPECT_EQ(self.err.find("training ratings of this model"), std::string::npos) << "the test side is not training data";
    ASSERT_EQ(run(program() + " generate --users 60 --items 40 --density 0.3 --out " + d.file("all.h5")).code, 0);
    ASSERT_EQ(run(program() + " train --factors 4 --iters 2 --train " + d.file("all.h5") + " --out " + d.file("all.m.h5")).code, 0);
    const auto fit = run(program() + " evaluate --model " + d.file("all.m.h5") + " --test " + d.file("all.h5"));
    EXPECT_NE(fit.err.find("are training ratings of this model"), std::string::npos) << fit.err;
    // Test ratings that cannot be scored are counted, not silently left out.
    test::write_text(d.file("t.csv"), "0,1,4\n9999,1,3\n");
    ASSERT_EQ(run(program() + " import --input " + d.file("t.csv") + " --out " + d.file("t.h5")).code, 0);
    const auto t = run(program() + " train --factors 4 --iters 1 --train " + d.file("all.h5") + " --test " + d.file("t.h5") +
                       " --out " + d.file("x.h5"));
    ASSERT_EQ(t.code, 0) << t.err;
    EXPECT_NE(t.out.find("1 more test ratings have a user or item the training data lack"), std::string::npos) << t.out;
}

// Found by the pairs fuzzer: a quoted empty ID ("") was taken for a user.
TEST(Hardening, AnEmptyIdInAPairsFileIsRefused) {
    test::TempDir d;
    test::write_text(d.file("p.txt"), "1 2\n\"\" 2\n");
    try {
        read_pairs(d.file("p.txt"), false);
        FAIL() << "an empty ID was accepted";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find(":2: empty user ID"), std::string::npos) << e.what();
    }
}

// 13. info on interaction counts: bins by powers of two, no "oracle RMSE" of counts against ratings.
TEST(Hardening, InfoOnCountsBinsByPowersOfTwoAndGivesNoOracle) {
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --implicit --users 600 --items 150 --density 0.3 --out " + d.file("i.h5")).code, 0);
    const auto r = run(program() + " info --json " + d.file("i.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["values_are_counts"].get<bool>());
    EXPECT_FALSE(j.contains("oracle_rmse")) << r.out;
    const auto edges = j["histogram"]["edges"].get<std::vector<double>>();
    ASSERT_GE(edges.size(), 3u);
    EXPECT_EQ(edges[1], 1.0);
    EXPECT_EQ(edges[2], 2.0);
}

TEST(Hardening, ASingletonKeepsItsOpenMpiSessionFilesToItself) {
    // Open MPI names every isolated singleton's session directory alike, <tmp>/ompi.<host>.<uid>/
    // jf.0/1/0, and removes the chain at exit, so two started together could pull it from under
    // each other ("orte_session_dir failed"). Here that shared path is blocked outright -- a file
    // where a directory must go -- and the program starts anyway, and leaves nothing behind.
    test::TempDir d;
    char host[256] = {};
    ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
    const std::string full = host, shortname = full.substr(0, full.find('.'));
    for (const std::string& h : {full, shortname}) {
        const std::filesystem::path jf = d.path() / ("ompi." + h + "." + std::to_string(getuid())) / "jf.0";
        std::filesystem::create_directories(jf);
        test::write_text((jf / "1").string(), "");
    }
    // The data live elsewhere: only the session files may come and go under TMPDIR.
    test::TempDir data;
    ASSERT_EQ(run(program() + " generate --users 30 --items 20 --density 0.3 --out " + data.file("g.h5") + " -q").code, 0);
    const auto before = std::distance(std::filesystem::directory_iterator(d.path()), std::filesystem::directory_iterator{});
    // The SVD's ScaLAPACK grid is what makes a singleton start MPI (it defers it otherwise).
    const auto r = run("env -u OMPI_MCA_orte_tmpdir_base TMPDIR=" + d.path().string() + " " + program() +
                       " train --method svd --ranks 1,2 --train " + data.file("g.h5") + " --out " + data.file("m.h5") + " -q");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(std::filesystem::exists(data.file("m.h5")));
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(d.path()), std::filesystem::directory_iterator{}), before);
}

TEST(Hardening, ASingletonThatNeverStartsMpiMakesNoSessionDirectory) {
    // Its own session directory is made when MPI starts, not at every start: made and removed, it
    // cost a run the discard of the directory's block on a file system mounted with discard (up to
    // 6 ms of a 0.15 s MovieLens u1 run). A directory's modification time shows any entry made
    // and removed in it.
    test::TempDir d, data;
    ASSERT_EQ(run(program() + " generate --users 30 --items 20 --density 0.3 --out " + data.file("g.h5") + " -q").code, 0);
    const auto before = std::filesystem::last_write_time(d.path());
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // past the file system's clock tick
    const auto r = run("env -u OMPI_MCA_orte_tmpdir_base TMPDIR=" + d.path().string() + " " + program() +
                       " train --method bpmf --samples 5 --train " + data.file("g.h5") + " --out " + data.file("m.h5") + " -q");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(std::filesystem::last_write_time(d.path()), before) << "something was made in TMPDIR and removed";
    // The SVD's ScaLAPACK grid starts MPI: then the directory is made (and removed).
    const auto svd = run("env -u OMPI_MCA_orte_tmpdir_base TMPDIR=" + d.path().string() + " " + program() +
                         " train --method svd --ranks 1,2 --train " + data.file("g.h5") + " --out " + data.file("s.h5") + " -q");
    ASSERT_EQ(svd.code, 0) << svd.err;
    EXPECT_NE(std::filesystem::last_write_time(d.path()), before);
}

TEST(Hardening, ASingletonStartsMpiOnlyWhenItNeedsMpiItself) {
    // Started without mpirun, ALS, Bayesian MF, reading and writing stores need no MPI: the
    // program skips MPI_Init (33 ms of a 0.3 s MovieLens u1 run), and none of Open MPI's
    // components load (the dynamic loader's account, LD_DEBUG=files). The SVD's ScaLAPACK grid
    // needs MPI, and starts it; a launched job starts it at once. Every model is the same either way
    // (the MPI suites run each method at 1 rank under mpirun).
    test::TempDir d;
    ASSERT_EQ(run(program() + " generate --users 30 --items 20 --density 0.3 --test-fraction 0.2 --out " + d.file("g.h5") + " -q").code, 0);
    const auto loads = [](const test::RunResult& r) { return r.err.find("/mca_") != std::string::npos; };
    const std::string train = " train --train " + d.file("g.h5") + " -q --out ";
    auto r = run("LD_DEBUG=files " + program() + train + d.file("als.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    if (r.err.find("generating link map") == std::string::npos) GTEST_SKIP() << "no LD_DEBUG in this dynamic loader";
    EXPECT_FALSE(loads(r)) << r.err;
    r = run("LD_DEBUG=files " + program() + train + d.file("bpmf.h5") + " --method bpmf --samples 5");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_FALSE(loads(r)) << r.err;
    r = run("LD_DEBUG=files " + program() + train + d.file("svd.h5") + " --method svd --ranks 1,2");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(loads(r)) << r.err;
    r = run(std::string(DISTCF_MPIEXEC) + " -n 1 --oversubscribe" + (::geteuid() == 0 ? " --allow-run-as-root" : "") +
            " env LD_DEBUG=files " + DISTCF_BIN + train + d.file("als1.h5"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(loads(r));
    // The same model, deferred or not.
    const auto a = test::run("h5diff -q " + d.file("als.h5") + " " + d.file("als1.h5") + " /model/user_factors");
    EXPECT_EQ(a.code, 0) << a.out << a.err;
}
