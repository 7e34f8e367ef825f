#include "distcf/la/scalapack.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "distcf/error.hpp"

extern "C" {
int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);
void Cblacs_gridinit(int* context, const char* order, int rows, int cols);
void Cblacs_gridinfo(int context, int* rows, int* cols, int* my_row, int* my_col);
void Cblacs_gridexit(int context);
int numroc_(const int* n, const int* nb, const int* iproc, const int* isrcproc, const int* nprocs);
void descinit_(int* desc, const int* m, const int* n, const int* mb, const int* nb, const int* irsrc, const int* icsrc,
               const int* ictxt, const int* lld, int* info);
void pdgesvd_(const char* jobu, const char* jobvt, const int* m, const int* n, double* a, const int* ia, const int* ja,
              const int* desca, double* s, double* u, const int* iu, const int* ju, const int* descu, double* vt,
              const int* ivt, const int* jvt, const int* descvt, double* work, const int* lwork, int* info);
}

namespace distcf::scalapack {

namespace {
int to_int(std::int64_t v, const char* what) {
    if (v < 0 || v > 2147483647) DISTCF_THROW(LinalgError, std::string(what) + ": " + std::to_string(v) + " exceeds ScaLAPACK's 32-bit indices");
    return static_cast<int>(v);
}
}  // namespace

GridShape square_grid(int ranks) {
    GridShape g;
    for (int r = static_cast<int>(std::sqrt(static_cast<double>(ranks))); r >= 1; --r)
        if (ranks % r == 0) {
            g.rows = r;
            g.cols = ranks / r;
            break;
        }
    return g;
}

BlacsGrid::BlacsGrid(const Comm& comm, GridShape shape) : comm_(comm.view()), shape_(shape) {
    if (shape.rows * shape.cols != comm.size())
        DISTCF_THROW(LinalgError, "BlacsGrid: a " + std::to_string(shape.rows) + " x " + std::to_string(shape.cols) +
                                      " grid needs " + std::to_string(shape.rows * shape.cols) + " ranks, the communicator has " +
                                      std::to_string(comm.size()));
    system_handle_ = Csys2blacs_handle(comm.raw());
    context_ = system_handle_;
    Cblacs_gridinit(&context_, "Row", shape.rows, shape.cols);
    int rows = 0, cols = 0;
    Cblacs_gridinfo(context_, &rows, &cols, &my_row_, &my_col_);
    if (rows != shape.rows || cols != shape.cols || my_row_ < 0) {
        Cfree_blacs_system_handle(system_handle_);
        DISTCF_THROW(LinalgError, "Cblacs_gridinit: could not make a " + std::to_string(shape.rows) + " x " +
                                      std::to_string(shape.cols) + " grid");
    }
    // Where each grid position lives, from the grid itself rather than an assumed ordering.
    const std::vector<int> pos = comm.allgather(my_row_ * shape.cols + my_col_);
    rank_of_.assign(pos.size(), -1);
    for (std::size_t r = 0; r < pos.size(); ++r) rank_of_[static_cast<std::size_t>(pos[r])] = static_cast<int>(r);
}

BlacsGrid::~BlacsGrid() {
    if (context_ >= 0) Cblacs_gridexit(context_);
    if (system_handle_ >= 0) Cfree_blacs_system_handle(system_handle_);
}

DistMatrix::DistMatrix(const BlacsGrid& grid, std::int64_t m, std::int64_t n, int mb, int nb)
    : grid_(&grid), m_(m), n_(n), mb_(mb), nb_(nb) {
    if (mb < 1 || nb < 1) DISTCF_THROW(LinalgError, "DistMatrix: block sizes must be >= 1");
    const int M = to_int(m, "rows"), N = to_int(n, "columns"), zero = 0;
    const int pr = grid.shape().rows, pc = grid.shape().cols, myr = grid.my_row(), myc = grid.my_col();
    lr_ = numroc_(&M, &mb_, &myr, &zero, &pr);
    lc_ = numroc_(&N, &nb_, &myc, &zero, &pc);
    const int lld = std::max(1, lr_), ctx = grid.context();
    int info = 0;
    descinit_(desc_.data(), &M, &N, &mb_, &nb_, &zero, &zero, &ctx, &lld, &info);
    if (info != 0) DISTCF_THROW(LinalgError, "descinit: INFO = " + std::to_string(info) + " (argument " + std::to_string(-info) + " is invalid)");
    a_.assign(static_cast<std::size_t>(lld) * static_cast<std::size_t>(std::max(lc_, 0)), 0.0);
}

std::int64_t DistMatrix::global_row(int li) const noexcept {
    const std::int64_t pr = grid_->shape().rows;
    return (li / mb_) * pr * mb_ + grid_->my_row() * std::int64_t{mb_} + li % mb_;
}

std::int64_t DistMatrix::global_col(int lj) const noexcept {
    const std::int64_t pc = grid_->shape().cols;
    return (lj / nb_) * pc * nb_ + grid_->my_col() * std::int64_t{nb_} + lj % nb_;
}

std::vector<double> DistMatrix::gather_columns(std::int64_t cols) const {
    cols = std::min(cols, n_);
    std::vector<double> out(static_cast<std::size_t>(m_ * cols), 0.0);
    for (int lj = 0; lj < lc_; ++lj) {
        const std::int64_t j = global_col(lj);
        if (j >= cols) continue;
        for (int li = 0; li < lr_; ++li) out[static_cast<std::size_t>(global_row(li) * cols + j)] = local(li, lj);
    }
    grid_->comm().allreduce(out, MPI_SUM);
    return out;
}

std::vector<double> DistMatrix::gather_rows_transposed(std::int64_t rows) const {
    rows = std::min(rows, m_);
    std::vector<double> out(static_cast<std::size_t>(n_ * rows), 0.0);
    for (int lj = 0; lj < lc_; ++lj) {
        const std::int64_t j = global_col(lj);
        for (int li = 0; li < lr_; ++li) {
            const std::int64_t i = global_row(li);
            if (i < rows) out[static_cast<std::size_t>(j * rows + i)] = local(li, lj);
        }
    }
    grid_->comm().allreduce(out, MPI_SUM);
    return out;
}

SvdResult pdgesvd(DistMatrix& A, DistMatrix* U, DistMatrix* VT) {
    const int M = static_cast<int>(A.rows()), N = static_cast<int>(A.cols()), one = 1;
    const int r = std::min(M, N);
    if ((U == nullptr) != (VT == nullptr)) DISTCF_THROW(LinalgError, "pdgesvd: want both singular-vector sets or neither");
    if (U && (U->rows() != M || U->cols() != r || VT->rows() != r || VT->cols() != N))
        DISTCF_THROW(LinalgError, "pdgesvd: U must be m x min(m, n) and VT min(m, n) x n");
    SvdResult out;
    out.s.assign(static_cast<std::size_t>(r), 0.0);
    const char* job = U ? "V" : "N";
    double dummy = 0;
    int dummy_desc[9] = {1, A.grid().context(), 1, 1, 1, 1, 0, 0, 1};
    double* u = U ? U->data() : &dummy;
    double* vt = VT ? VT->data() : &dummy;
    const int* du = U ? U->desc() : dummy_desc;
    const int* dvt = VT ? VT->desc() : dummy_desc;
    int info = 0, lwork = -1;
    double query = 0;
    pdgesvd_(job, job, &M, &N, A.data(), &one, &one, A.desc(), out.s.data(), u, &one, &one, du, vt, &one, &one, dvt,
             &query, &lwork, &info);
    if (info != 0) DISTCF_THROW(LinalgError, "pdgesvd (workspace query): INFO = " + std::to_string(info));
    lwork = static_cast<int>(query) + 1;
    std::vector<double> work(static_cast<std::size_t>(lwork));
    pdgesvd_(job, job, &M, &N, A.data(), &one, &one, A.desc(), out.s.data(), u, &one, &one, du, vt, &one, &one, dvt,
             work.data(), &lwork, &info);
    if (info < 0) DISTCF_THROW(LinalgError, "pdgesvd: argument " + std::to_string(-info) + " is invalid");
    if (info == r + 1) DISTCF_THROW(LinalgError, "pdgesvd: the singular values differ across the process grid (heterogeneous ranks)");
    if (info > 0) DISTCF_THROW(LinalgError, "pdgesvd: the bidiagonal QR iteration did not converge (INFO = " + std::to_string(info) + ")");
    return out;
}

}  // namespace distcf::scalapack
