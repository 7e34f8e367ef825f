#include "distcf/mpi/comm.hpp"

#include <chrono>
#include <climits>
#include <utility>

namespace distcf::mpi {

void check(int rc, const char* call, const char* file, int line) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
    throw MpiError(std::string(call) + " failed: " + std::string(msg, static_cast<std::size_t>(len)), file, line);
}

int to_int_count(std::int64_t n, const char* what) {
    if (n < 0 || n > INT_MAX)
        DISTCF_THROW(MpiError, std::string(what) + " of " + std::to_string(n) +
                                   " elements does not fit an MPI int count; use more ranks");
    return static_cast<int>(n);
}

namespace {
// How this process starts MPI if it deferred it; nullptr: it did not (main decides, once).
std::function<void()> deferred_start;
}  // namespace

bool started() {
    int flag = 0;
    MPI_Initialized(&flag);
    return flag != 0;
}

void defer_start(std::function<void()> start) { deferred_start = std::move(start); }

void start_deferred() {
    if (started()) return;
    if (!deferred_start) DISTCF_THROW(MpiError, "MPI is not initialized");
    deferred_start();
}

}  // namespace distcf::mpi

namespace distcf {

Comm& Comm::operator=(Comm&& o) noexcept {
    if (this != &o) {
        if (owned_ && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
        comm_ = o.comm_;
        owned_ = o.owned_;
        limit_ = o.limit_;
        o.owned_ = false;
    }
    return *this;
}

Comm::~Comm() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owned_ && comm_ != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm_);
}

double Comm::wtime() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Comm Comm::dup() const {
    if (alone()) return view();  // one process: no other messages to keep apart
    MPI_Comm c;
    DISTCF_MPI_CALL(MPI_Comm_dup(comm_, &c));
    return Comm(c, true);
}

Comm Comm::split(int color, int key) const {
    if (alone()) return color == MPI_UNDEFINED ? Comm(MPI_COMM_NULL, false) : view();
    MPI_Comm c;
    DISTCF_MPI_CALL(MPI_Comm_split(comm_, color, key, &c));
    return Comm(c, c != MPI_COMM_NULL);
}

int Comm::ranks_on_node() const {
    if (alone()) return 1;
    MPI_Comm node = MPI_COMM_NULL;
    DISTCF_MPI_CALL(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank(), MPI_INFO_NULL, &node));
    int n = 1;
    const int rc = MPI_Comm_size(node, &n);
    MPI_Comm_free(&node);
    DISTCF_MPI_CALL(rc);
    return n;
}

int Comm::rank() const {
    int r = 0;
    if (alone()) return r;
    DISTCF_MPI_CALL(MPI_Comm_rank(comm_, &r));
    return r;
}

int Comm::size() const {
    int s = 1;
    if (alone()) return s;
    DISTCF_MPI_CALL(MPI_Comm_size(comm_, &s));
    return s;
}

void Comm::barrier() const {
    if (!alone()) DISTCF_MPI_CALL(MPI_Barrier(comm_));
}

void Comm::bcast(std::string& s, int root) const {
    std::vector<char> buf(s.begin(), s.end());
    bcast(buf, root);
    s.assign(buf.begin(), buf.end());
}

double ordered_sum(const std::vector<double>& my_rows, const BlockPartition& part, const Comm& comm) {
    const int me = comm.rank();
    if (static_cast<std::int64_t>(my_rows.size()) != part.size(me))
        DISTCF_THROW(MpiError, "ordered_sum: local rows do not match the partition");
    std::vector<double> all(static_cast<std::size_t>(part.total()));
    std::copy(my_rows.begin(), my_rows.end(), all.begin() + part.begin(me));
    comm.allgather_blocks(all.data(), part, 1);
    double s = 0.0;
    for (double v : all) s += v;
    return s;
}

}  // namespace distcf
