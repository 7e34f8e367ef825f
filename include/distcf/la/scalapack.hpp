#pragma once
/// @file scalapack.hpp
/// @brief Thin RAII wrappers over BLACS and ScaLAPACK: a process grid made from a communicator,
/// block-cyclic matrices with their descriptors, and pdgesvd with its INFO turned into errors.

#include <array>
#include <cstdint>
#include <vector>

#include "distcf/mpi/comm.hpp"

namespace distcf::scalapack {

/// Process-grid shape: rows x cols = the rank count, as square as it allows (rows <= cols).
struct GridShape {
    int rows = 1, cols = 1;
};
GridShape square_grid(int ranks);

/// A BLACS context over every rank of a communicator, row-major. Released on destruction.
class BlacsGrid {
public:
    BlacsGrid(const Comm& comm, GridShape shape);
    ~BlacsGrid();
    BlacsGrid(const BlacsGrid&) = delete;
    BlacsGrid& operator=(const BlacsGrid&) = delete;

    int context() const noexcept { return context_; }
    GridShape shape() const noexcept { return shape_; }
    int my_row() const noexcept { return my_row_; }
    int my_col() const noexcept { return my_col_; }
    /// The communicator rank of grid position (row, col).
    int rank_of(int row, int col) const { return rank_of_[static_cast<std::size_t>(row * shape_.cols + col)]; }
    const Comm& comm() const noexcept { return comm_; }

private:
    Comm comm_;  // a view: the caller's Comm may be a temporary (Comm::self())
    GridShape shape_;
    int system_handle_ = -1, context_ = -1, my_row_ = -1, my_col_ = -1;
    std::vector<int> rank_of_;
};

/// An m x n matrix distributed 2-D block-cyclically (mb x nb blocks) over a grid; the local
/// part is column-major with leading dimension max(1, local_rows).
class DistMatrix {
public:
    DistMatrix(const BlacsGrid& grid, std::int64_t m, std::int64_t n, int mb, int nb);

    std::int64_t rows() const noexcept { return m_; }
    std::int64_t cols() const noexcept { return n_; }
    int local_rows() const noexcept { return lr_; }
    int local_cols() const noexcept { return lc_; }
    int ld() const noexcept { return desc_[8]; }
    const int* desc() const noexcept { return desc_.data(); }
    double* data() noexcept { return a_.data(); }
    const double* data() const noexcept { return a_.data(); }
    const BlacsGrid& grid() const noexcept { return *grid_; }

    /// Grid position owning global (i, j), 0-based.
    int owner_row(std::int64_t i) const noexcept { return static_cast<int>((i / mb_) % grid_->shape().rows); }
    int owner_col(std::int64_t j) const noexcept { return static_cast<int>((j / nb_) % grid_->shape().cols); }
    /// Local index of a global row/column this process owns, and back.
    int local_row(std::int64_t i) const noexcept { return static_cast<int>((i / (std::int64_t{mb_} * grid_->shape().rows)) * mb_ + i % mb_); }
    int local_col(std::int64_t j) const noexcept { return static_cast<int>((j / (std::int64_t{nb_} * grid_->shape().cols)) * nb_ + j % nb_); }
    std::int64_t global_row(int li) const noexcept;
    std::int64_t global_col(int lj) const noexcept;
    double& local(int li, int lj) noexcept { return a_[static_cast<std::size_t>(lj) * ld() + li]; }
    double local(int li, int lj) const noexcept { return a_[static_cast<std::size_t>(lj) * ld() + li]; }

    /// Every rank gets the whole matrix restricted to rows [0, m) x columns [0, cols), as a
    /// row-major m x cols array (each entry comes from its one owner; the sum is exact). Collective.
    std::vector<double> gather_columns(std::int64_t cols) const;
    /// The same for the leading `rows` rows, returned transposed: n x rows, row-major.
    std::vector<double> gather_rows_transposed(std::int64_t rows) const;

private:
    const BlacsGrid* grid_;
    std::int64_t m_, n_;
    int mb_, nb_, lr_, lc_;
    std::array<int, 9> desc_{};
    std::vector<double> a_;
};

/// Singular values (descending) and, when wanted, the left vectors U (m x min) and right vectors
/// V^T (min x n) of A, by ScaLAPACK pdgesvd. A is overwritten. Collective over A's grid.
struct SvdResult {
    std::vector<double> s;
};
SvdResult pdgesvd(DistMatrix& A, DistMatrix* U, DistMatrix* VT);

}  // namespace distcf::scalapack
