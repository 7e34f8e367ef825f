#include "distcf/io/h5.hpp"

#include <filesystem>

#include <cerrno>

#include "distcf/util/resources.hpp"

#include <exception>

#include <algorithm>
#include <cstring>

namespace distcf::h5 {

namespace {

// The reason behind a failed call: the deepest message of HDF5's error stack ("No space left on
// device" comes from there on a full disk), else the OS's for errno.
std::string reason(int err) {
    std::string deepest;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD,
             [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
                 if (e->desc && *e->desc) *static_cast<std::string*>(data) = e->desc;
                 return 0;
             },
             &deepest);
    H5Eclear2(H5E_DEFAULT);
    if (deepest.find("errno") == std::string::npos && err != 0) {
        const std::string os = std::strerror(err);
        return deepest.empty() ? os : deepest + " (" + os + ")";
    }
    return deepest;
}

[[noreturn]] void fail(const std::string& what, const char* file, int line) {
    const std::string why = reason(errno);
    throw H5Error(why.empty() ? what : what + ": " + why, file, line);
}

// errno is cleared first: a value left by an earlier, unrelated call must not pass for the reason.
#define DISTCF_H5(expr, what)                                   \
    ([&]() {                                                  \
        errno = 0;                                            \
        auto rc__ = (expr);                                   \
        if (rc__ < 0) fail((what), __FILE__, __LINE__);       \
        return rc__;                                          \
    }())

Handle plist(hid_t cls) { return Handle(DISTCF_H5(H5Pcreate(cls), "H5Pcreate"), H5Pclose); }

Handle file_access(const Comm& comm) {
    Handle fapl = plist(H5P_FILE_ACCESS);
    if (comm.size() > 1) {
        DISTCF_H5(H5Pset_fapl_mpio(fapl.id(), comm.raw(), MPI_INFO_NULL), "H5Pset_fapl_mpio");
        DISTCF_H5(H5Pset_all_coll_metadata_ops(fapl.id(), true), "H5Pset_all_coll_metadata_ops");
        DISTCF_H5(H5Pset_coll_metadata_write(fapl.id(), true), "H5Pset_coll_metadata_write");
    }
    return fapl;
}

Handle scalar_space() { return Handle(DISTCF_H5(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose); }

Handle string_type(std::size_t len) {
    Handle t(DISTCF_H5(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
    DISTCF_H5(H5Tset_size(t.id(), std::max<std::size_t>(len, 1)), "H5Tset_size");
    DISTCF_H5(H5Tset_strpad(t.id(), H5T_STR_NULLPAD), "H5Tset_strpad");
    return t;
}

}  // namespace

void silence_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

Handle& Handle::operator=(Handle&& o) noexcept {
    if (this != &o) {
        reset();
        id_ = o.id_;
        closer_ = o.closer_;
        o.id_ = H5I_INVALID_HID;
    }
    return *this;
}

void Handle::reset() noexcept {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
}

// ---- File ----------------------------------------------------------------------------------

File File::create(const std::string& path, const Comm& comm, const std::string& shown_as) {
    silence_errors();
    Handle fapl = file_access(comm);
    errno = 0;
    hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id());
    if (id < 0) fail((shown_as.empty() ? path : shown_as) + ": cannot create the file", __FILE__, __LINE__);
    File f;
    f.h_ = Handle(id, H5Fclose);
    f.path_ = shown_as.empty() ? path : shown_as;
    f.comm_ = comm.view();
    return f;
}

File File::open(const std::string& path, const Comm& comm, bool writable) {
    silence_errors();
    // Check first so that a missing or non-HDF5 file gets a plain message.
    const htri_t is_h5 = H5Fis_hdf5(path.c_str());
    if (is_h5 <= 0) {
        H5Eclear2(H5E_DEFAULT);
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec)) DISTCF_THROW(InputError, path + ": is a directory, not a file");
        errno = 0;
        FILE* probe = std::fopen(path.c_str(), "rb");
        if (!probe) DISTCF_THROW(InputError, path + ": cannot open (" + std::string(std::strerror(errno)) + ")");
        std::fclose(probe);
        DISTCF_THROW(InputError, path + ": not an HDF5 file");
    }
    Handle fapl = file_access(comm);
    hid_t id = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.id());
    if (id < 0) DISTCF_THROW(InputError, path + ": cannot open HDF5 file (H5Fopen)");
    File f;
    f.h_ = Handle(id, H5Fclose);
    f.path_ = path;
    f.comm_ = comm.view();
    return f;
}

File::~File() {
    if (std::uncaught_exceptions() > 0 && h_ && parallel()) h_.release();
}

void File::close() {
    if (!h_) return;
    // A dataset, group or attribute handle still open would keep the file open past H5Fclose, its
    // last writes unflushed (and an atomic output renamed before they land): refuse, loudly.
    const ssize_t open = H5Fget_obj_count(h_.id(), H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL);
    if (open < 0) fail(path_ + ": H5Fget_obj_count", __FILE__, __LINE__);
    if (open > 0)
        fail(path_ + ": closing the file with " + std::to_string(open) + " object(s) of it still open", __FILE__, __LINE__);
    h_.reset();
}

// ---- Location ------------------------------------------------------------------------------

bool Location::exists(const std::string& name) const {
    // Walk the path so that an intermediate missing group is "absent", not an error.
    std::size_t pos = 0;
    while (true) {
        pos = name.find('/', pos + 1);
        const std::string prefix = name.substr(0, pos);
        if (!prefix.empty() && prefix != "/") {
            const htri_t e = H5Lexists(id(), prefix.c_str(), H5P_DEFAULT);
            if (e <= 0) return false;
        }
        if (pos == std::string::npos) return true;
    }
}

Location Location::group(const std::string& name) const {
    hid_t g = H5Gopen2(id(), name.c_str(), H5P_DEFAULT);
    if (g < 0) DISTCF_THROW(InputError, path_ + ": group " + name + " not found");
    return Location(Handle(g, H5Gclose), path_, comm_);
}

Location Location::create_group(const std::string& name) const {
    Handle lcpl = plist(H5P_LINK_CREATE);
    DISTCF_H5(H5Pset_create_intermediate_group(lcpl.id(), 1), "H5Pset_create_intermediate_group");
    hid_t g = H5Gcreate2(id(), name.c_str(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) fail(path_ + ": cannot create group " + name + " (H5Gcreate2)", __FILE__, __LINE__);
    return Location(Handle(g, H5Gclose), path_, comm_);
}

Location Location::require_group(const std::string& name) const {
    return exists(name) ? group(name) : create_group(name);
}

Dataset make_dataset(const Location& loc, const std::string& name, hid_t type, std::int64_t rows, std::int64_t cols,
                       const Layout& layout) {
    hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)};
    const int nd = cols > 0 ? 2 : 1;
    Handle space(DISTCF_H5(H5Screate_simple(nd, dims, nullptr), "H5Screate_simple"), H5Sclose);
    Handle dcpl = plist(H5P_DATASET_CREATE);
    if (layout.chunked && rows > 0) {
        const std::int64_t width = cols > 0 ? cols : 1;
        // Chunks of about chunk_rows elements; at least one row.
        std::int64_t crow = std::max<std::int64_t>(1, std::min<std::int64_t>(rows, layout.chunk_rows / width));
        hsize_t chunk[2] = {static_cast<hsize_t>(crow), static_cast<hsize_t>(std::max<std::int64_t>(cols, 1))};
        DISTCF_H5(H5Pset_chunk(dcpl.id(), nd, chunk), "H5Pset_chunk");
        if (layout.deflate > 0) {
            DISTCF_H5(H5Pset_shuffle(dcpl.id()), "H5Pset_shuffle");
            DISTCF_H5(H5Pset_deflate(dcpl.id(), static_cast<unsigned>(layout.deflate)), "H5Pset_deflate");
        }
    }
    if (loc.parallel()) DISTCF_H5(H5Pset_alloc_time(dcpl.id(), H5D_ALLOC_TIME_EARLY), "H5Pset_alloc_time");
    Handle lcpl = plist(H5P_LINK_CREATE);
    DISTCF_H5(H5Pset_create_intermediate_group(lcpl.id(), 1), "H5Pset_create_intermediate_group");
    hid_t d = H5Dcreate2(loc.id(), name.c_str(), type, space.id(), lcpl.id(), dcpl.id(), H5P_DEFAULT);
    if (d < 0) fail(loc.file_path() + ": cannot create dataset " + name + " (H5Dcreate2)", __FILE__, __LINE__);
    return Dataset(Handle(d, H5Dclose), name, loc);
}

Dataset Location::dataset(const std::string& name) const {
    if (!exists(name)) DISTCF_THROW(InputError, path_ + ": dataset " + name + " not found");
    hid_t d = H5Dopen2(id(), name.c_str(), H5P_DEFAULT);
    if (d < 0) DISTCF_THROW(InputError, path_ + ": cannot open dataset " + name);
    return Dataset(Handle(d, H5Dclose), name, *this);
}

void Location::write_strings(const std::string& name, const std::vector<std::string>& values) const {
    std::size_t len = 1;
    for (const auto& s : values) len = std::max(len, s.size());
    std::vector<char> buf(values.size() * len, '\0');
    for (std::size_t i = 0; i < values.size(); ++i) std::memcpy(buf.data() + i * len, values[i].data(), values[i].size());
    Handle type = string_type(len);
    hsize_t dims[1] = {values.size()};
    Handle space(DISTCF_H5(H5Screate_simple(1, dims, nullptr), "H5Screate_simple"), H5Sclose);
    Handle lcpl = plist(H5P_LINK_CREATE);
    DISTCF_H5(H5Pset_create_intermediate_group(lcpl.id(), 1), "H5Pset_create_intermediate_group");
    Handle d(DISTCF_H5(H5Dcreate2(id(), name.c_str(), type.id(), space.id(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT),
                     path_ + ": cannot create dataset " + name),
             H5Dclose);
    Handle dxpl = plist(H5P_DATASET_XFER);
    if (parallel()) DISTCF_H5(H5Pset_dxpl_mpio(dxpl.id(), H5FD_MPIO_COLLECTIVE), "H5Pset_dxpl_mpio");
    Handle mem(DISTCF_H5(H5Screate_simple(1, dims, nullptr), "H5Screate_simple"), H5Sclose);
    if (comm().rank() != 0 || values.empty()) {
        DISTCF_H5(H5Sselect_none(mem.id()), "H5Sselect_none");
        DISTCF_H5(H5Sselect_none(space.id()), "H5Sselect_none");
    }
    DISTCF_H5(H5Dwrite(d.id(), type.id(), mem.id(), space.id(), dxpl.id(), buf.data()), path_ + ": cannot write " + name);
}

std::vector<std::string> Location::read_strings(const std::string& name) const {
    if (!exists(name)) DISTCF_THROW(InputError, path_ + ": dataset " + name + " not found");
    Handle d(DISTCF_H5(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), path_ + ": H5Dopen2 " + name), H5Dclose);
    Handle fspace(DISTCF_H5(H5Dget_space(d.id()), "H5Dget_space"), H5Sclose);
    hsize_t dims[1] = {0};
    if (H5Sget_simple_extent_ndims(fspace.id()) != 1) DISTCF_THROW(InputError, path_ + ": " + name + " must be 1-D");
    DISTCF_H5(H5Sget_simple_extent_dims(fspace.id(), dims, nullptr), "H5Sget_simple_extent_dims");
    Handle ftype(DISTCF_H5(H5Dget_type(d.id()), "H5Dget_type"), H5Tclose);
    if (H5Tget_class(ftype.id()) != H5T_STRING) DISTCF_THROW(InputError, path_ + ": " + name + " is not a string dataset");
    const auto n = static_cast<std::int64_t>(dims[0]);
    std::vector<std::string> out(static_cast<std::size_t>(n));
    if (H5Tis_variable_str(ftype.id()) > 0) {
        Handle mtype(DISTCF_H5(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
        DISTCF_H5(H5Tset_size(mtype.id(), H5T_VARIABLE), "H5Tset_size");
        std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
        if (n) DISTCF_H5(H5Dread(d.id(), mtype.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), path_ + ": H5Dread " + name);
        for (std::int64_t i = 0; i < n; ++i) out[i] = ptrs[i] ? ptrs[i] : "";
        if (n) H5Dvlen_reclaim(mtype.id(), fspace.id(), H5P_DEFAULT, ptrs.data());
        return out;
    }
    const std::size_t len = H5Tget_size(ftype.id());
    Handle mtype = string_type(len);
    std::vector<char> buf(static_cast<std::size_t>(n) * len);
    if (n) DISTCF_H5(H5Dread(d.id(), mtype.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), path_ + ": H5Dread " + name);
    for (std::int64_t i = 0; i < n; ++i) {
        const char* s = buf.data() + i * len;
        out[i].assign(s, strnlen(s, len));
    }
    return out;
}

namespace {
void write_attr(hid_t loc, const std::string& name, hid_t type, const void* v, const std::string& path) {
    if (H5Aexists(loc, name.c_str()) > 0) DISTCF_H5(H5Adelete(loc, name.c_str()), path + ": H5Adelete " + name);
    Handle space = scalar_space();
    Handle a(DISTCF_H5(H5Acreate2(loc, name.c_str(), type, space.id(), H5P_DEFAULT, H5P_DEFAULT), path + ": H5Acreate2 " + name),
             H5Aclose);
    DISTCF_H5(H5Awrite(a.id(), type, v), path + ": H5Awrite " + name);
}

Handle open_attr(hid_t loc, const std::string& name, const std::string& path) {
    if (H5Aexists(loc, name.c_str()) <= 0) DISTCF_THROW(InputError, path + ": attribute '" + name + "' is missing");
    return Handle(DISTCF_H5(H5Aopen(loc, name.c_str(), H5P_DEFAULT), path + ": H5Aopen " + name), H5Aclose);
}
}  // namespace

void Location::set_attr(const std::string& name, const std::string& v) const {
    Handle t = string_type(v.size());
    write_attr(id(), name, t.id(), v.data(), path_);
}
void Location::set_attr(const std::string& name, double v) const { write_attr(id(), name, H5T_NATIVE_DOUBLE, &v, path_); }
void Location::set_attr(const std::string& name, std::int64_t v) const { write_attr(id(), name, H5T_NATIVE_INT64, &v, path_); }

bool Location::has_attr(const std::string& name) const { return H5Aexists(id(), name.c_str()) > 0; }

std::string Location::attr_string(const std::string& name) const {
    Handle a = open_attr(id(), name, path_);
    Handle ftype(DISTCF_H5(H5Aget_type(a.id()), "H5Aget_type"), H5Tclose);
    if (H5Tget_class(ftype.id()) != H5T_STRING) DISTCF_THROW(InputError, path_ + ": attribute '" + name + "' is not a string");
    if (H5Tis_variable_str(ftype.id()) > 0) {
        Handle mtype(DISTCF_H5(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
        DISTCF_H5(H5Tset_size(mtype.id(), H5T_VARIABLE), "H5Tset_size");
        char* p = nullptr;
        DISTCF_H5(H5Aread(a.id(), mtype.id(), &p), path_ + ": H5Aread " + name);
        std::string s = p ? p : "";
        H5free_memory(p);
        return s;
    }
    const std::size_t len = H5Tget_size(ftype.id());
    Handle mtype = string_type(len);
    std::string s(len, '\0');
    DISTCF_H5(H5Aread(a.id(), mtype.id(), s.data()), path_ + ": H5Aread " + name);
    s.resize(strnlen(s.data(), len));
    return s;
}

std::vector<std::string> Location::attr_names() const {
    H5O_info_t info;
    DISTCF_H5(H5Oget_info2(id(), &info, H5O_INFO_NUM_ATTRS), path_ + ": H5Oget_info2");
    std::vector<std::string> names;
    for (hsize_t k = 0; k < info.num_attrs; ++k) {
        const ssize_t len = H5Aget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, k, nullptr, 0, H5P_DEFAULT);
        if (len < 0) DISTCF_THROW(H5Error, path_ + ": H5Aget_name_by_idx " + std::to_string(k));
        std::string name(static_cast<std::size_t>(len) + 1, '\0');
        DISTCF_H5(H5Aget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, k, name.data(), name.size(), H5P_DEFAULT),
                  path_ + ": H5Aget_name_by_idx");
        name.resize(static_cast<std::size_t>(len));
        names.push_back(std::move(name));
    }
    return names;
}

double Location::attr_double(const std::string& name) const {
    Handle a = open_attr(id(), name, path_);
    double v = 0;
    DISTCF_H5(H5Aread(a.id(), H5T_NATIVE_DOUBLE, &v), path_ + ": H5Aread " + name);
    return v;
}

Location::AttrKind Location::attr_kind(const std::string& name) const {
    Handle a = open_attr(id(), name, path_);
    Handle ftype(DISTCF_H5(H5Aget_type(a.id()), "H5Aget_type"), H5Tclose);
    switch (H5Tget_class(ftype.id())) {
        case H5T_INTEGER: return AttrKind::Integer;
        case H5T_FLOAT: return AttrKind::Real;
        case H5T_STRING: return AttrKind::String;
        default: return AttrKind::Other;
    }
}

std::int64_t Location::attr_int(const std::string& name) const {
    Handle a = open_attr(id(), name, path_);
    Handle ftype(DISTCF_H5(H5Aget_type(a.id()), "H5Aget_type"), H5Tclose);
    if (H5Tget_class(ftype.id()) != H5T_INTEGER) DISTCF_THROW(InputError, path_ + ": attribute '" + name + "' is not an integer");
    std::int64_t v = 0;
    DISTCF_H5(H5Aread(a.id(), H5T_NATIVE_INT64, &v), path_ + ": H5Aread " + name);
    return v;
}

// ---- Dataset -------------------------------------------------------------------------------

Dataset::Dataset(Handle h, std::string name, const Location& loc)
    : h_(std::move(h)), name_(std::move(name)), file_(loc.file_path()), parallel_(loc.parallel()) {
    Handle space(DISTCF_H5(H5Dget_space(h_.id()), "H5Dget_space"), H5Sclose);
    const int nd = DISTCF_H5(H5Sget_simple_extent_ndims(space.id()), "H5Sget_simple_extent_ndims");
    if (nd < 1 || nd > 2) DISTCF_THROW(InputError, file_ + ": dataset " + name_ + " must be 1-D or 2-D");
    hsize_t d[2] = {0, 0};
    DISTCF_H5(H5Sget_simple_extent_dims(space.id(), d, nullptr), "H5Sget_simple_extent_dims");
    dims_.assign(d, d + nd);
}

std::size_t Dataset::elements_to_read(std::int64_t nrows, std::size_t element_bytes) const {
    const std::int64_t width = std::max<std::int64_t>(cols(), 1);
    if (nrows < 0 || nrows > rows()) DISTCF_THROW(H5Error, file_ + ": " + name_ + ": rows outside the dataset");
    std::int64_t n = 0, bytes = 0;
    if (__builtin_mul_overflow(nrows, width, &n) || __builtin_mul_overflow(n, static_cast<std::int64_t>(element_bytes), &bytes))
        DISTCF_THROW(InputError, file_ + ": " + name_ + " claims " + std::to_string(nrows) + " x " + std::to_string(width) +
                                     " elements: more than any memory holds");
    // Memory is asked for (a read of /proc) only where it could be short: small reads are many.
    constexpr std::int64_t kAlwaysFits = std::int64_t{64} << 20;
    const std::int64_t avail = bytes > kAlwaysFits ? available_memory_bytes() : -1;
    if (avail > 0 && bytes > avail)
        DISTCF_THROW(InputError, file_ + ": reading " + name_ + " needs " + std::to_string(bytes >> 20) + " MiB, more than the " +
                                     std::to_string(avail >> 20) + " MiB of memory available");
    return static_cast<std::size_t>(n);
}

hid_t Dataset::type_class() const {
    Handle t(DISTCF_H5(H5Dget_type(h_.id()), "H5Dget_type"), H5Tclose);
    return H5Tget_class(t.id());
}

std::size_t Dataset::element_bytes() const {
    Handle t(DISTCF_H5(H5Dget_type(h_.id()), "H5Dget_type"), H5Tclose);
    return H5Tget_size(t.id());
}

void Dataset::io(std::int64_t row0, std::int64_t nrows, void* data, hid_t type, bool write, bool collective) const {
    if (row0 < 0 || nrows < 0 || row0 + nrows > rows())
        DISTCF_THROW(H5Error, file_ + ": rows [" + std::to_string(row0) + ", " + std::to_string(row0 + nrows) +
                                  ") outside dataset " + name_ + " of " + std::to_string(rows()) + " rows");
    if (rows() == 0 || (dims_.size() > 1 && cols() == 0)) return;  // an empty dataset: nothing to move (on every rank)
    if (!collective && nrows == 0) return;
    const int nd = rank();
    hsize_t start[2] = {static_cast<hsize_t>(row0), 0};
    hsize_t count[2] = {static_cast<hsize_t>(nrows), static_cast<hsize_t>(cols())};
    Handle fspace(DISTCF_H5(H5Dget_space(h_.id()), "H5Dget_space"), H5Sclose);
    Handle mspace(DISTCF_H5(H5Screate_simple(nd, count, nullptr), "H5Screate_simple"), H5Sclose);
    if (nrows == 0) {
        DISTCF_H5(H5Sselect_none(fspace.id()), "H5Sselect_none");
        DISTCF_H5(H5Sselect_none(mspace.id()), "H5Sselect_none");
    } else {
        DISTCF_H5(H5Sselect_hyperslab(fspace.id(), H5S_SELECT_SET, start, nullptr, count, nullptr), "H5Sselect_hyperslab");
    }
    // HDF5 rejects a null buffer even for an empty selection.
    static double dummy = 0.0;
    if (data == nullptr) data = &dummy;
    Handle dxpl = plist(H5P_DATASET_XFER);
    // Collective in a parallel file, reads too: every rank calls with its own hyperslab.
    if (parallel_)
        DISTCF_H5(H5Pset_dxpl_mpio(dxpl.id(), collective ? H5FD_MPIO_COLLECTIVE : H5FD_MPIO_INDEPENDENT), "H5Pset_dxpl_mpio");
    if (write)
        DISTCF_H5(H5Dwrite(h_.id(), type, mspace.id(), fspace.id(), dxpl.id(), data), file_ + ": cannot write " + name_);
    else
        DISTCF_H5(H5Dread(h_.id(), type, mspace.id(), fspace.id(), dxpl.id(), data), file_ + ": H5Dread " + name_);
}

}  // namespace distcf::h5
