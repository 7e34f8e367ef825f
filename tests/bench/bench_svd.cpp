// Dense SVD timing for scripts/bench_svd.sh: ScaLAPACK pdgesvd of an m x n Gaussian matrix over
// all ranks (filled in place, block-cyclic: no rank holds the whole matrix), or, with --lapack,
// Armadillo's svd_econ (LAPACK dgesdd) of the same matrix on one rank.
//   mpirun -n P distcf_bench_svd M N [--lapack] [--block NB]
#include <mpi.h>

#include <armadillo>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "distcf/data/rng.hpp"
#include "distcf/error.hpp"
#include "distcf/la/scalapack.hpp"
#include "distcf/util/resources.hpp"

using namespace distcf;

namespace {
double entry(std::int64_t i, std::int64_t j) {
    // Uniform in [-1, 1) from (i, j): the same matrix for any grid.
    return static_cast<double>(random_word(1, Stream::Sketch, static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(j)) >> 11) *
               0x1.0p-52 - 1.0;
}

int run(int argc, char** argv, const Comm& world) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: distcf_bench_svd M N [--lapack] [--block NB]\n");
        return 2;
    }
    const std::int64_t m = std::atoll(argv[1]), n = std::atoll(argv[2]);
    bool lapack = false;
    int nb = 64;
    for (int a = 3; a < argc; ++a) {
        if (!std::strcmp(argv[a], "--lapack")) lapack = true;
        else if (!std::strcmp(argv[a], "--block") && a + 1 < argc) nb = std::atoi(argv[++a]);
    }
    if (lapack) {
        if (world.rank() != 0) return 0;
        arma::mat A(static_cast<arma::uword>(m), static_cast<arma::uword>(n));
        for (std::int64_t j = 0; j < n; ++j)
            for (std::int64_t i = 0; i < m; ++i) A(static_cast<arma::uword>(i), static_cast<arma::uword>(j)) = entry(i, j);
        arma::mat U, V;
        arma::vec s;
        const double t0 = MPI_Wtime();
        if (!arma::svd_econ(U, s, V, A)) DISTCF_THROW(LinalgError, "arma::svd_econ failed");
        const double t = MPI_Wtime() - t0;
        std::printf("lapack (Armadillo svd_econ), 1 rank: %lld x %lld in %.2f s; s[0] = %.12g; peak RSS %.0f MB\n",
                    static_cast<long long>(m), static_cast<long long>(n), t, s(0), peak_rss_bytes() / 1e6);
        return 0;
    }
    const scalapack::BlacsGrid grid(world, scalapack::square_grid(world.size()));
    scalapack::DistMatrix A(grid, m, n, nb, nb);
    for (int lj = 0; lj < A.local_cols(); ++lj)
        for (int li = 0; li < A.local_rows(); ++li) A.local(li, lj) = entry(A.global_row(li), A.global_col(lj));
    const std::int64_t r = std::min(m, n);
    scalapack::DistMatrix U(grid, m, r, nb, nb), VT(grid, r, n, nb, nb);
    world.barrier();
    const double t0 = MPI_Wtime();
    const auto s = scalapack::pdgesvd(A, &U, &VT);
    world.barrier();
    const double t = MPI_Wtime() - t0;
    const double rss = static_cast<double>(world.max(peak_rss_bytes()));
    if (world.rank() == 0)
        std::printf("scalapack pdgesvd, %d rank(s) (%d x %d grid, block %d): %lld x %lld in %.2f s; s[0] = %.12g; peak RSS per rank %.0f MB\n",
                    world.size(), grid.shape().rows, grid.shape().cols, nb, static_cast<long long>(m),
                    static_cast<long long>(n), t, s.s[0], rss / 1e6);
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int code = 0;
    {
        const Comm world = Comm::view(MPI_COMM_WORLD);
        try {
            code = run(argc, argv, world);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "distcf_bench_svd: %s\n", e.what());
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
    MPI_Finalize();
    return code;
}
