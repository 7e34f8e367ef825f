#pragma once
// Shared test helpers: a temporary directory common to all ranks, small file writers, running the
// distcf program, and the MovieLens location.

#include <gtest/gtest.h>
#include <mpi.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "distcf/app/generate_file.hpp"
#include "distcf/data/distribute.hpp"
#include "distcf/data/generate.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf::test {

namespace fs = std::filesystem;

/// A fresh directory, the same path on every rank of `comm`; removed at the end of the test.
class TempDir {
public:
    explicit TempDir(const Comm& comm = Comm::self()) : comm_(comm.raw()) {
        std::string p;
        if (comm.is_root()) {
            std::string tmpl = (fs::temp_directory_path() / "distcf-test-XXXXXX").string();
            p = ::mkdtemp(tmpl.data());
        }
        comm.bcast(p);
        path_ = p;
    }
    ~TempDir() {
        const Comm c = Comm::view(comm_);
        c.barrier();
        std::error_code ec;
        if (c.is_root()) fs::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const fs::path& path() const { return path_; }

private:
    MPI_Comm comm_;
    fs::path path_;
};

inline void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
}

inline std::string read_text(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct RunResult {
    int code = -1;
    std::string out;  ///< stdout
    std::string err;  ///< stderr
};

/// Runs a shell command, capturing stdout and stderr separately.
inline RunResult run(const std::string& cmd) {
    static int counter = 0;
    const std::string errfile = (fs::temp_directory_path() / ("distcf-test-stderr-" + std::to_string(::getpid()) + "-" +
                                                             std::to_string(counter++)))
                                    .string();
    RunResult r;
    // The test binary is itself an MPI process: its OMPI_*/PMIX_* variables must not reach a child
    // mpirun (keep the run-as-root permissions and MCA settings).
    const std::string scrub =
        "for v in $(env | grep -E '^(OMPI_COMM_|OMPI_FILE_|OMPI_APP_|OMPI_UNIVERSE|OMPI_FIRST|OMPI_NUM_APP|OMPI_MCA_ess|"
        "OMPI_MCA_orte|OMPI_MCA_pmix|OMPI_MCA_initial|OMPI_MCA_mpi_oversubscribe|PMIX_|OPAL_|ORTE_)' | cut -d= -f1); "
        "do unset $v; done; ";
    FILE* p = ::popen((scrub + "( " + cmd + " ) 2>" + errfile).c_str(), "r");
    if (!p) return r;
    std::array<char, 4096> buf;
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = read_text(errfile);
    std::remove(errfile.c_str());
    return r;
}

/// The distcf program, optionally under mpirun with np ranks.
inline std::string program(int np = 0) {
    if (np <= 0) return DISTCF_BIN;
    return std::string(DISTCF_MPIEXEC) + " -n " + std::to_string(np) + " --oversubscribe" +
           (::geteuid() == 0 ? " --allow-run-as-root " : " ") + DISTCF_BIN;
}

/// MPI_COMM_WORLD as the library sees it (tests are the program here).
inline const Comm& world() {
    static const Comm c = Comm::view(MPI_COMM_WORLD);
    return c;
}

/// A store generated from the seed's model (resized) with a stored test split, in a temporary
/// directory of its own. Collective over `c`.
struct GeneratedStore {
    TempDir dir;
    std::string path;
    GeneratedStore(const Comm& c, std::int64_t users, std::int64_t items, double density, double test_fraction = 0.2)
        : dir(c), path(dir.file("store.h5")) {
        GenerateParams g;
        g.users = users;
        g.items = items;
        g.density = density;
        g.test_fraction = test_fraction;
        generate_to_file(g, path, 0, false, "test store", c);
    }
};

/// This rank's blocks of a set generated from the seed's model (the default parameters, resized).
inline RatingBlocks generated_blocks(const Comm& c, std::int64_t users, std::int64_t items, double density,
                                     bool implicit = false) {
    GenerateParams g;
    g.users = users;
    g.items = items;
    g.density = density;
    g.implicit = implicit;
    const GenreModel gm = make_genre_model(g, c);
    const GeneratedBlock gb = generate_block(g, gm, c);
    return distribute(gb.ratings, g.users, g.items, implicit ? 0 : 1, implicit ? 100 : 5, c);
}

inline std::string ml100k(const std::string& file) { return std::string(DISTCF_ML100K_DIR) + "/" + file; }

}  // namespace distcf::test

/// Skips the test when MovieLens 100K is not there (its licence forbids shipping it).
#define DISTCF_REQUIRE_ML100K()                                                                  \
    do {                                                                                         \
        if (!std::filesystem::exists(::distcf::test::ml100k("u.data")))                          \
            GTEST_SKIP() << "skipped: MovieLens 100K data absent (" << DISTCF_ML100K_DIR << ")";    \
    } while (0)
