#pragma once
/// @file comm.hpp
/// @brief Thin RAII wrapper over an MPI communicator with checked collective calls.
///
/// Raw MPI calls live here and in comm.cpp only. Every call's return code is checked and a failure
/// becomes an MpiError naming the call, file and line. Counts and displacements are 64-bit in the
/// interface; where MPI takes an int, a transfer larger than the message limit (2^31 - 1 elements,
/// `set_message_limit` lowers it for tests) goes in rounds of at most the limit, each with int
/// counts and displacements, so 33.5M users x 64 factors in one Allgatherv is no overflow.
///
/// A process started without mpirun or srun is the whole job, and starts MPI only when something
/// needs MPI itself (main registers how: `mpi::defer_start`): MPI_Init and MPI_Finalize of such a
/// singleton took 33 ms of a 0.3 s MovieLens u1 run on a 2-core VM. Until then every communicator
/// is that one process: rank 0 of 1, and a collective is what it is on one rank (a copy, or
/// nothing). `raw()`, which hands the communicator to MPI itself (ScaLAPACK's BLACS), starts MPI
/// first; the results are the same either way (tested: a singleton's ALS model is the same bits as
/// one trained under `mpirun -n 1`).

#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "distcf/error.hpp"
#include "distcf/mpi/partition.hpp"

namespace distcf::mpi {

/// Throws MpiError unless rc == MPI_SUCCESS.
void check(int rc, const char* call, const char* file, int line);

/// MPI datatype of a C++ arithmetic type.
template <class T>
MPI_Datatype type_of() {
    if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
    else if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
    else if constexpr (std::is_same_v<T, std::int64_t>) return MPI_INT64_T;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
    else if constexpr (std::is_same_v<T, std::int32_t>) return MPI_INT32_T;
    else if constexpr (std::is_same_v<T, std::uint32_t>) return MPI_UINT32_T;
    else if constexpr (std::is_same_v<T, char>) return MPI_CHAR;
    else if constexpr (std::is_same_v<T, unsigned char>) return MPI_UNSIGNED_CHAR;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return MPI_UINT8_T;
    else static_assert(sizeof(T) == 0, "no MPI datatype for this type");
}

/// Converts a 64-bit count to MPI's int, or throws.
int to_int_count(std::int64_t n, const char* what);

/// Whether MPI has been started in this process (MPI_Initialized; true after MPI_Finalize too).
bool started();

/// How a process that is a job of its own starts MPI when something first needs it: `start`
/// calls MPI_Init_thread (main registers it: main alone names the world communicator).
void defer_start(std::function<void()> start);

/// Starts MPI now if it was deferred; throws MpiError when it was neither started nor deferred.
void start_deferred();

}  // namespace distcf::mpi

#define DISTCF_MPI_CALL(call) ::distcf::mpi::check((call), #call, __FILE__, __LINE__)

namespace distcf {

/// A communicator handle. Owning handles (from dup/split) free the communicator on destruction;
/// a view (Comm::view) never does. Move-only.
class Comm {
public:
    /// Non-owning view of an existing communicator (e.g. the one main() got from MPI).
    static Comm view(MPI_Comm c) { return Comm(c, false); }
    /// A view of MPI_COMM_SELF.
    static Comm self() { return Comm(MPI_COMM_SELF, false); }
    /// Wall-clock seconds (a monotonic clock, as MPI_Wtime; this one needs no MPI started).
    static double wtime();

    Comm(Comm&& o) noexcept : comm_(o.comm_), owned_(o.owned_), limit_(o.limit_) { o.owned_ = false; }
    Comm& operator=(Comm&& o) noexcept;
    Comm(const Comm&) = delete;
    Comm& operator=(const Comm&) = delete;
    ~Comm();

    /// An owned duplicate (separate message space).
    Comm dup() const;
    /// An owned sub-communicator (MPI_Comm_split).
    Comm split(int color, int key) const;
    /// How many ranks of this communicator share this rank's node (MPI_Comm_split_type SHARED):
    /// what divides a node's memory between them.
    int ranks_on_node() const;

    /// Another non-owning handle of this communicator (its message limit too).
    Comm view() const {
        Comm c(comm_, false);
        c.limit_ = limit_;
        return c;
    }
    /// The communicator, for MPI itself (the BLACS grid): starts MPI first if it was deferred.
    MPI_Comm raw() const {
        if (alone()) mpi::start_deferred();
        return comm_;
    }
    int rank() const;
    int size() const;
    bool is_root() const { return rank() == 0; }

    void barrier() const;
    /// The most elements one MPI call moves per buffer (default 2^31 - 1, MPI's int); larger
    /// transfers go in rounds. Lowered only to test the rounds on small data.
    void set_message_limit(std::int64_t elements) { limit_ = std::max<std::int64_t>(1, std::min<std::int64_t>(elements, kIntMax)); }
    std::int64_t message_limit() const { return limit_; }

    /// Broadcast n elements from root (in rounds past the message limit).
    template <class T>
    void bcast(T* data, std::int64_t n, int root = 0) const {
        if (alone()) return;
        for (std::int64_t o = 0; o < n; o += limit_)  // n is the same on every rank: the same rounds
            DISTCF_MPI_CALL(MPI_Bcast(data + o, static_cast<int>(std::min(limit_, n - o)), mpi::type_of<T>(), root, comm_));
    }
    /// Broadcast a vector (its size too) from root.
    template <class T>
    void bcast(std::vector<T>& v, int root = 0) const {
        std::int64_t n = static_cast<std::int64_t>(v.size());
        bcast(&n, 1, root);
        v.resize(static_cast<std::size_t>(n));
        if (n) bcast(v.data(), n, root);
    }
    /// Broadcast a scalar from root.
    template <class T>
    T bcast_value(T v, int root = 0) const {
        bcast(&v, 1, root);
        return v;
    }
    void bcast(std::string& s, int root = 0) const;

    /// In-place reduction over n elements.
    template <class T>
    void allreduce(T* data, std::int64_t n, MPI_Op op) const {
        if (alone()) return;
        for (std::int64_t o = 0; o < n; o += limit_)  // element-wise: rounds change no bits
            DISTCF_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, data + o, static_cast<int>(std::min(limit_, n - o)), mpi::type_of<T>(), op, comm_));
    }
    template <class T>
    void allreduce(std::vector<T>& v, MPI_Op op) const { allreduce(v.data(), static_cast<std::int64_t>(v.size()), op); }
    template <class T>
    T sum(T v) const { allreduce(&v, 1, MPI_SUM); return v; }
    /// Element-wise sums over the ranks, in place (MPI_SUM: the association depends on the rank
    /// count -- use ordered_sum where bits must not).
    template <class T>
    void sum_in_place(T* data, std::int64_t n) const { allreduce(data, n, MPI_SUM); }
    template <class T>
    void sum_in_place(std::vector<T>& v) const { allreduce(v, MPI_SUM); }
    template <class T>
    T max(T v) const { allreduce(&v, 1, MPI_MAX); return v; }
    template <class T>
    T min(T v) const { allreduce(&v, 1, MPI_MIN); return v; }
    /// True on every rank iff true on some rank.
    bool any(bool v) const { return max<int>(v ? 1 : 0) != 0; }
    /// Exclusive prefix sum: 0 on rank 0.
    template <class T>
    T exscan_sum(T v) const {
        T out{};
        if (alone()) return out;
        DISTCF_MPI_CALL(MPI_Exscan(&v, &out, 1, mpi::type_of<T>(), MPI_SUM, comm_));
        return rank() == 0 ? T{} : out;
    }
    /// Gathers one value from every rank, on every rank.
    template <class T>
    std::vector<T> allgather(T v) const {
        if (alone()) return {v};
        std::vector<T> out(static_cast<std::size_t>(size()));
        DISTCF_MPI_CALL(MPI_Allgather(&v, 1, mpi::type_of<T>(), out.data(), 1, mpi::type_of<T>(), comm_));
        return out;
    }

    /// Allgatherv of a row-partitioned matrix stored row-major with `width` values per row:
    /// `all` holds every row (total() * width values); this rank's block is already in place
    /// at its offset and is sent from there.
    template <class T>
    void allgather_blocks(T* all, const BlockPartition& part, std::int64_t width) const {
        if (alone()) return;  // the one block is in place
        const int P = size();
        if (part.total() * width <= limit_) {  // one call: every count and displacement fits
            std::vector<int> counts(static_cast<std::size_t>(P)), displs(counts.size());
            for (int p = 0; p < P; ++p) {
                counts[p] = static_cast<int>(part.size(p) * width);
                displs[p] = static_cast<int>(part.begin(p) * width);
            }
            DISTCF_MPI_CALL(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, counts.data(), displs.data(),
                                           mpi::type_of<T>(), comm_));
            return;
        }
        // Past the limit: each rank's block in turn, broadcast from its owner in rounds (64-bit
        // offsets into `all`; the same bits land as with one Allgatherv).
        for (int p = 0; p < P; ++p) bcast(all + part.begin(p) * width, part.size(p) * width, p);
    }

    /// Concatenation of every rank's vector, in rank order, on every rank.
    template <class T>
    std::vector<T> allgatherv(const std::vector<T>& mine) const {
        auto n = allgather<std::int64_t>(static_cast<std::int64_t>(mine.size()));
        std::vector<std::int64_t> off(n.size() + 1, 0);
        for (std::size_t p = 0; p < n.size(); ++p) off[p + 1] = off[p] + n[p];
        std::vector<T> all(static_cast<std::size_t>(off.back()));
        std::copy(mine.begin(), mine.end(), all.begin() + off[static_cast<std::size_t>(rank())]);
        allgather_blocks(all.data(), BlockPartition(off), 1);
        return all;
    }

    /// Personalised all-to-all: send[sdispl[p] .. +scount[p]) goes to rank p. Returns what arrived,
    /// in source-rank order; `rcount` receives how many came from each rank.
    template <class T>
    std::vector<T> alltoallv(const std::vector<T>& send, const std::vector<std::int64_t>& scount,
                             std::vector<std::int64_t>* rcount_out = nullptr) const {
        std::vector<std::int64_t> rcount(static_cast<std::size_t>(size()));
        if (alone()) rcount = scount;
        else DISTCF_MPI_CALL(MPI_Alltoall(scount.data(), 1, MPI_INT64_T, rcount.data(), 1, MPI_INT64_T, comm_));
        std::int64_t n = 0;
        for (auto c : rcount) n += c;
        std::vector<T> recv(static_cast<std::size_t>(n));
        alltoallv(send.data(), scount, recv.data(), rcount);
        if (rcount_out) *rcount_out = std::move(rcount);
        return recv;
    }

    /// The same with counts known on both sides (an exchange plan reused every half-step): no
    /// count exchange, and the caller's buffers, so a repeated exchange allocates nothing. What
    /// rank p sends lands at recv + rdispl[p] (packed in rank order when rdispl is null), so rows
    /// can arrive straight where they are kept.
    template <class T>
    void alltoallv(const T* send, const std::vector<std::int64_t>& scount, T* recv, const std::vector<std::int64_t>& rcount,
                   const std::vector<std::int64_t>* rdispl = nullptr) const {
        if (alone()) {  // what this rank sends itself
            std::copy(send, send + scount[0], recv + (rdispl ? (*rdispl)[0] : 0));
            return;
        }
        const int P = size();
        std::vector<std::int64_t> soff(static_cast<std::size_t>(P) + 1, 0), roff(soff.size(), 0);
        for (int p = 0; p < P; ++p) {
            soff[p + 1] = soff[p] + scount[p];
            roff[p + 1] = roff[p] + rcount[p];
        }
        if (rdispl) std::copy(rdispl->begin(), rdispl->end(), roff.begin());
        std::int64_t rend = 0;  // one past the last element received
        for (int p = 0; p < P; ++p) rend = std::max(rend, roff[p] + rcount[p]);
        const std::int64_t most = max(std::max(soff[P], rend));
        std::vector<int> sc(P), sd(P), rc(P), rd(P);
        if (most <= limit_) {  // one call
            for (int p = 0; p < P; ++p) {
                sc[p] = static_cast<int>(scount[p]);
                sd[p] = static_cast<int>(soff[p]);
                rc[p] = static_cast<int>(rcount[p]);
                rd[p] = static_cast<int>(roff[p]);
            }
            DISTCF_MPI_CALL(MPI_Alltoallv(send, sc.data(), sd.data(), mpi::type_of<T>(), recv, rc.data(), rd.data(),
                                          mpi::type_of<T>(), comm_));
            return;
        }
        // Rounds: in round r every pair exchanges its segment's piece [r L, (r + 1) L), packed
        // into buffers of at most P L <= limit elements so that every int stays in range.
        const std::int64_t L = std::max<std::int64_t>(1, limit_ / P);
        std::int64_t longest = 0;
        for (int p = 0; p < P; ++p) longest = std::max({longest, scount[p], rcount[p]});
        const std::int64_t rounds = max((longest + L - 1) / L);
        std::vector<T> sbuf, rbuf;
        for (std::int64_t r = 0; r < rounds; ++r) {
            sbuf.clear();
            int s_at = 0, r_at = 0;
            for (int p = 0; p < P; ++p) {
                const std::int64_t s0 = std::min(scount[p], r * L), s1 = std::min(scount[p], (r + 1) * L);
                const std::int64_t r0 = std::min(rcount[p], r * L), r1 = std::min(rcount[p], (r + 1) * L);
                sbuf.insert(sbuf.end(), send + soff[p] + s0, send + soff[p] + s1);
                sc[p] = static_cast<int>(s1 - s0);
                sd[p] = s_at;
                rc[p] = static_cast<int>(r1 - r0);
                rd[p] = r_at;
                s_at += sc[p];
                r_at += rc[p];
            }
            rbuf.resize(static_cast<std::size_t>(r_at));
            DISTCF_MPI_CALL(MPI_Alltoallv(sbuf.data(), sc.data(), sd.data(), mpi::type_of<T>(), rbuf.data(), rc.data(),
                                          rd.data(), mpi::type_of<T>(), comm_));
            for (int p = 0; p < P; ++p)
                std::copy(rbuf.begin() + rd[p], rbuf.begin() + rd[p] + rc[p], recv + roff[p] + std::min(rcount[p], r * L));
        }
    }

private:
    static constexpr std::int64_t kIntMax = 2147483647;
    /// MPI not started (deferred): this process is the whole job.
    static bool alone() { return !mpi::started(); }
    Comm(MPI_Comm c, bool owned) : comm_(c), owned_(owned) {}
    MPI_Comm comm_ = MPI_COMM_NULL;
    bool owned_ = false;
    std::int64_t limit_ = kIntMax;
};

/// Sum of per-row values held in row blocks (this rank holds rows part.begin(me)..end(me)), added
/// in global row order on every rank: the result is bit-identical for any number of ranks, unlike
/// MPI_SUM, whose association depends on the rank count.
double ordered_sum(const std::vector<double>& my_rows, const BlockPartition& part, const Comm& comm);

}  // namespace distcf
