// Top-N for many users, for scripts/bench_recommend.sh: the blocked kernel (top_n: users x k by
// k x items tiles into a heap of n per user) against the per-user loop it replaced (each user's
// whole score vector, one axpy per factor, then every item copied and partially sorted), on the
// same model and users, interleaved and repeated in one process. The two must agree on every
// list; the second figure is the memory each needs beyond the model.
//   distcf_bench_recommend MODEL.h5 USERS TOP REPEATS
#include <mpi.h>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "distcf/app/predict.hpp"
#include "distcf/error.hpp"
#include "distcf/model/recommend.hpp"

using namespace distcf;

namespace {

// The loop recommend --all-users ran before the blocked kernel (distcf 2ed67e7), kept here only
// as the yardstick.
std::vector<std::vector<Scored>> per_user_loop(const FactorModel& m, std::int64_t u0, std::int64_t u1, int n) {
    const int k = m.n_factors;
    std::vector<double> vt(static_cast<std::size_t>(k * m.n_items));
    for (std::int64_t i = 0; i < m.n_items; ++i)
        for (int c = 0; c < k; ++c) vt[c * m.n_items + i] = m.V[i * k + c];
    std::vector<std::vector<Scored>> out(static_cast<std::size_t>(u1 - u0));
#pragma omp parallel
    {
        std::vector<double> s(static_cast<std::size_t>(m.n_items));
#pragma omp for schedule(dynamic, 16)
        for (std::int64_t u = u0; u < u1; ++u) {
            const double base = m.mu + (m.user_bias.empty() ? 0.0 : m.user_bias[u]);  // implicit ALS: no biases
            for (std::int64_t i = 0; i < m.n_items; ++i) s[i] = base + (m.item_bias.empty() ? 0.0 : m.item_bias[i]);
            for (std::int64_t t0 = 0; t0 < m.n_items; t0 += 512) {
                const std::int64_t t1 = std::min<std::int64_t>(m.n_items, t0 + 512);
                for (int c = 0; c < k; ++c) {
                    const double a = m.factor_scale * m.U[u * k + c];
                    const double* v = vt.data() + static_cast<std::size_t>(c) * m.n_items;
#pragma omp simd
                    for (std::int64_t i = t0; i < t1; ++i) s[i] += a * v[i];
                }
            }
            std::vector<Scored> c;
            c.reserve(s.size());
            for (std::int32_t i = 0; i < static_cast<std::int32_t>(s.size()); ++i) c.push_back({i, s[i]});
            const auto better = [](const Scored& a, const Scored& b) { return a.score > b.score || (a.score == b.score && a.item < b.item); };
            std::partial_sort(c.begin(), c.begin() + n, c.end(), better);
            // The original kept c's capacity (every item) for every user -- out of memory at 10^6
            // items; the yardstick keeps n, so that its speed can be measured at that size.
            out[static_cast<std::size_t>(u - u0)] = std::vector<Scored>(c.begin(), c.begin() + n);
        }
    }
    return out;
}

int run(int argc, char** argv, const Comm& comm) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: distcf_bench_recommend MODEL.h5 USERS TOP REPEATS\n");
        return 2;
    }
    const LoadedModel lm = LoadedModel::load(argv[1], 0, comm);
    const FactorModel& m = lm.model;
    const std::int64_t users = std::min<std::int64_t>(std::atoll(argv[2]), m.n_users);
    const int n = std::atoi(argv[3]), repeats = std::atoi(argv[4]);
    SeenItems none;  // no exclusions: both kernels rank every item
    none.ptr.assign(static_cast<std::size_t>(users + 1), 0);
    std::printf("model: %lld users x %lld items, k = %d; scoring %lld users, top %d, %d threads\n",
                static_cast<long long>(m.n_users), static_cast<long long>(m.n_items), m.n_factors,
                static_cast<long long>(users), n, omp_get_max_threads());
    std::vector<double> tb, tl, te;
    for (int r = 0; r < repeats; ++r) {
        // The index is built inside the timing, as recommend --all-users builds it once.
        double t = MPI_Wtime();
        TopNCounts counts;
        const auto blocked = top_n(m, ItemIndex(m), 0, users, none, n, &counts);
        tb.push_back(MPI_Wtime() - t);
        t = MPI_Wtime();
        const auto every = top_n(m, ItemIndex(m, false), 0, users, none, n);
        te.push_back(MPI_Wtime() - t);
        t = MPI_Wtime();
        const auto loop = per_user_loop(m, 0, users, n);
        tl.push_back(MPI_Wtime() - t);
        std::int64_t differ = 0, differ_every = 0;
        for (std::int64_t u = 0; u < users; ++u)
            for (int e = 0; e < n; ++e) {
                if (blocked[u][e].item != loop[u][e].item) ++differ;
                if (blocked[u][e].item != every[u][e].item || blocked[u][e].score != every[u][e].score) ++differ_every;
            }
        std::printf("run %d: blocked %.3f s (scored %.1f%% of the pairs), blocked scoring every item %.3f s, per-user loop %.3f s: "
                    "%.1fx faster than the loop, %.2fx from the bound; lists differing from the loop in %lld of %lld entries, "
                    "from every-item scoring in %lld (bits)\n",
                    r + 1, tb.back(), 100.0 * static_cast<double>(counts.scored) / static_cast<double>(counts.pairs), te.back(),
                    tl.back(), tl.back() / tb.back(), te.back() / tb.back(), static_cast<long long>(differ),
                    static_cast<long long>(users * n), static_cast<long long>(differ_every));
    }
    std::sort(tb.begin(), tb.end());
    std::sort(tl.begin(), tl.end());
    std::sort(te.begin(), te.end());
    const double mb = tb[tb.size() / 2], ml = tl[tl.size() / 2], me = te[te.size() / 2];
    std::printf("median: blocked %.3f s (%.0f users/s), every item %.3f s, per-user loop %.3f s (%.0f users/s): %.1fx (target >= 5x); "
                "bound %.2fx\n",
                mb, users / mb, me, ml, users / ml, ml / mb, me / mb);
    std::printf("working memory beyond the model: blocked %.1f MB per thread + %.1f MB of lists; per-user loop %.1f MB per thread\n",
                64.0 * 1024 * 8 / 1e6, users * n * 16.0 / 1e6, m.n_items * (8.0 + 16.0) / 1e6);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rc = 0;
    try {
        const Comm world = Comm::view(MPI_COMM_WORLD);
        rc = run(argc, argv, world);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "distcf_bench_recommend: %s\n", e.what());
        rc = 1;
    }
    MPI_Finalize();
    return rc;
}
