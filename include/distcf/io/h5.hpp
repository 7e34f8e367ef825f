#pragma once
/// @file h5.hpp
/// @brief Thin RAII layer over the HDF5 C API (serial or MPI-IO), every call checked.
///
/// Raw H5* calls live here and in h5.cpp only. A file opened on a communicator of more than one rank
/// uses the MPI-IO driver; then every metadata operation (create, attribute write) is collective and
/// must be called by all ranks with the same arguments, while block reads/writes carry per-rank
/// hyperslabs. A one-rank communicator uses the default (POSIX) driver.

#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "distcf/error.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf::h5 {

/// Owns one hid_t and closes it with the right H5*close function.
class Handle {
public:
    using Closer = herr_t (*)(hid_t);
    Handle() = default;
    Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
    Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
    Handle& operator=(Handle&& o) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { reset(); }
    void reset() noexcept;
    /// Forgets the id without closing it.
    void release() noexcept { id_ = H5I_INVALID_HID; }
    hid_t id() const noexcept { return id_; }
    explicit operator bool() const noexcept { return id_ >= 0; }

private:
    hid_t id_ = H5I_INVALID_HID;
    Closer closer_ = nullptr;
};

/// HDF5 native type of T.
template <class T>
hid_t native_type() {
    if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
    else if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
    else if constexpr (std::is_same_v<T, std::int64_t>) return H5T_NATIVE_INT64;
    else if constexpr (std::is_same_v<T, std::int32_t>) return H5T_NATIVE_INT32;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return H5T_NATIVE_UINT8;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return H5T_NATIVE_UINT64;
    else static_assert(sizeof(T) == 0, "no HDF5 type for this type");
}

/// Storage options of a new dataset.
struct Layout {
    bool chunked = true;        ///< chunked (needed for compression)
    std::int64_t chunk_rows = 1 << 20;  ///< rows per chunk (capped at the dataset's rows)
    int deflate = 1;            ///< gzip level, 0 = none
};

class Dataset;

/// A group or file location (owns its handle). Datasets and attributes hang off it.
class Location {
public:
    Location() = default;
    Location(Handle h, std::string path, const Comm& comm) : h_(std::move(h)), path_(std::move(path)), comm_(comm.view()) {}
    hid_t id() const { return h_.id(); }
    /// Path of the file this location belongs to (for messages).
    const std::string& file_path() const { return path_; }
    /// A view of the communicator the file was opened on (a view is kept, not the caller's Comm
    /// object, which may be a temporary such as Comm::self()).
    Comm comm() const { return comm_.view(); }
    bool parallel() const { return comm().size() > 1; }

    bool exists(const std::string& name) const;
    Location group(const std::string& name) const;         ///< open
    Location create_group(const std::string& name) const;  ///< create (collective)
    Location require_group(const std::string& name) const; ///< open or create

    /// New 1-D (cols == 0) or 2-D (rows x cols) dataset of T. Collective.
    template <class T>
    Dataset create_dataset(const std::string& name, std::int64_t rows, std::int64_t cols = 0, Layout layout = {}) const;
    /// New dataset of fixed-length strings. Collective; every rank passes the same strings.
    void write_strings(const std::string& name, const std::vector<std::string>& values) const;
    std::vector<std::string> read_strings(const std::string& name) const;
    Dataset dataset(const std::string& name) const;

    /// Whole small array written by every rank with identical contents (collective; only rank 0's
    /// data reach the file).
    template <class T>
    void write_vector(const std::string& name, const std::vector<T>& v, std::int64_t cols = 0, Layout layout = {.chunked = false}) const;
    /// Whole array read by every rank.
    template <class T>
    std::vector<T> read_vector(const std::string& name) const;

    // Attributes (collective writes; every rank passes the same value).
    void set_attr(const std::string& name, const std::string& v) const;
    void set_attr(const std::string& name, double v) const;
    void set_attr(const std::string& name, std::int64_t v) const;
    void set_attr(const std::string& name, int v) const { set_attr(name, static_cast<std::int64_t>(v)); }
    bool has_attr(const std::string& name) const;
    std::string attr_string(const std::string& name) const;
    double attr_double(const std::string& name) const;
    /// Names of this object's attributes, in creation-independent (name) order.
    std::vector<std::string> attr_names() const;
    std::int64_t attr_int(const std::string& name) const;
    /// What an attribute holds, so that typed values can be read back as written.
    enum class AttrKind { Integer, Real, String, Other };
    AttrKind attr_kind(const std::string& name) const;

protected:
    Handle h_;
    std::string path_;
    Comm comm_ = Comm::view(MPI_COMM_NULL);
};

/// An HDF5 file (root group). Create truncates.
class File : public Location {
public:
    /// `shown_as`: the name messages use (the target of a file written under a temporary name).
    static File create(const std::string& path, const Comm& comm, const std::string& shown_as = "");
    static File open(const std::string& path, const Comm& comm, bool writable = false);
    /// Closes now (flushes); required before an atomic rename.
    void close();

    File() = default;
    File(File&&) = default;
    File& operator=(File&&) = default;
    /// In a parallel file H5Fclose is collective. While an exception unwinds on one rank the others
    /// may be inside another collective call, so the file is left open instead of deadlocking;
    /// main() then reports the error and calls MPI_Abort. (A temporary output is never renamed.)
    ~File();
};

/// A 1-D or 2-D dataset of fixed element type.
class Dataset {
public:
    Dataset(Handle h, std::string name, const Location& loc);
    const std::string& name() const { return name_; }
    std::int64_t rows() const { return dims_[0]; }
    std::int64_t cols() const { return dims_.size() > 1 ? dims_[1] : 0; }
    int rank() const { return static_cast<int>(dims_.size()); }
    /// True when the stored element class matches T's (integer vs float).
    template <class T>
    bool holds() const;
    /// Bytes an element takes in the file (4 for float32, 8 for float64).
    std::size_t element_bytes() const;

    /// Writes rows [row0, row0 + nrows) from data (row-major). Collective in a parallel file:
    /// every rank calls, possibly with nrows == 0.
    template <class T>
    void write_rows(std::int64_t row0, std::int64_t nrows, const T* data) const {
        io(row0, nrows, const_cast<T*>(data), native_type<T>(), true);
    }
    /// Like write_rows, but independent in a parallel file: only this rank calls, as often as it
    /// likes. Ranks then write at their own pace (on a local file system the kernel serialises
    /// writers to one file anyway, so lock-step collective rounds leave one rank waiting). The
    /// dataset must exist already, with its space allocated (as create_dataset does in parallel).
    template <class T>
    void write_rows_independent(std::int64_t row0, std::int64_t nrows, const T* data) const {
        io(row0, nrows, const_cast<T*>(data), native_type<T>(), true, false);
    }
    /// Reads rows [row0, row0 + nrows) into data. Collective in a parallel file, like write_rows.
    template <class T>
    void read_rows(std::int64_t row0, std::int64_t nrows, T* data) const {
        io(row0, nrows, data, native_type<T>(), false);
    }
    template <class T>
    std::vector<T> read_rows(std::int64_t row0, std::int64_t nrows) const {
        std::vector<T> v(elements_to_read(nrows, sizeof(T)));
        read_rows(row0, nrows, v.data());
        return v;
    }

private:
    /// nrows x cols elements, checked before anything is allocated: no overflow, and no more bytes
    /// than the memory available (a small file claiming huge extents fails here, not in the OOM
    /// killer).
    std::size_t elements_to_read(std::int64_t nrows, std::size_t element_bytes) const;
    void io(std::int64_t row0, std::int64_t nrows, void* data, hid_t type, bool write, bool collective = true) const;
    hid_t type_class() const;
    Handle h_;
    std::string name_;
    std::string file_;
    bool parallel_;
    std::vector<std::int64_t> dims_;
};

// ---- template implementations -------------------------------------------------------------

Dataset make_dataset(const Location& loc, const std::string& name, hid_t type, std::int64_t rows, std::int64_t cols,
                       const Layout& layout);

template <class T>
Dataset Location::create_dataset(const std::string& name, std::int64_t rows, std::int64_t cols, Layout layout) const {
    return make_dataset(*this, name, native_type<T>(), rows, cols, layout);
}

template <class T>
void Location::write_vector(const std::string& name, const std::vector<T>& v, std::int64_t cols, Layout layout) const {
    const std::int64_t width = cols > 0 ? cols : 1;
    const std::int64_t rows = static_cast<std::int64_t>(v.size()) / width;
    if (rows * width != static_cast<std::int64_t>(v.size()))
        DISTCF_THROW(H5Error, "write_vector " + name + ": size is not a multiple of the column count");
    if (rows == 0) layout.chunked = false;
    Dataset d = create_dataset<T>(name, rows, cols, layout);
    const bool writer = comm().rank() == 0;
    d.write_rows(0, writer ? rows : 0, v.data());
}

template <class T>
std::vector<T> Location::read_vector(const std::string& name) const {
    Dataset d = dataset(name);
    if (!d.holds<T>()) DISTCF_THROW(InputError, path_ + ": dataset " + name + " has an unexpected element type");
    return d.read_rows<T>(0, d.rows());
}

template <class T>
bool Dataset::holds() const {
    const hid_t c = type_class();
    if constexpr (std::is_floating_point_v<T>) return c == H5T_FLOAT;
    else return c == H5T_INTEGER;
}

/// Turns off HDF5's automatic error-stack printing (errors become exceptions instead).
void silence_errors();

}  // namespace distcf::h5
