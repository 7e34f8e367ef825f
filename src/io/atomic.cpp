#include "distcf/io/atomic.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "distcf/error.hpp"

namespace distcf {

namespace fs = std::filesystem;

void require_output_dir(const std::string& path) {
    if (path.empty()) DISTCF_THROW(InputError, "output path is empty");
    const fs::path p(path);
    const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        DISTCF_THROW(InputError, "cannot write " + path + ": directory '" + dir.string() + "' does not exist");
    if (fs::is_directory(p, ec)) DISTCF_THROW(InputError, "cannot write " + path + ": it is a directory");
}

void check_output(const std::string& out, const std::vector<std::string>& inputs, bool text) {
    if (out == "-") {
        if (!text) DISTCF_THROW(UsageError, "'-' (standard output) is for text outputs; this output is HDF5: name a file");
        return;
    }
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(out, ec);
    if (fs::exists(st) && !fs::is_regular_file(st))
        DISTCF_THROW(UsageError, out + ": not a regular file (a " +
                                     std::string(fs::is_symlink(st) ? "symbolic link" : fs::is_directory(st) ? "directory" : "special file") +
                                     "); refusing to replace it");
    for (const auto& in : inputs) {
        if (in.empty() || in == "-") continue;
        const bool same = fs::exists(out, ec) && fs::exists(in, ec) ? fs::equivalent(out, in, ec)
                                                                    : fs::weakly_canonical(out, ec) == fs::weakly_canonical(in, ec);
        if (same) DISTCF_THROW(UsageError, out + " is also an input of this command: writing it would destroy the input");
    }
}

void require_regular_input(const std::string& path) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st)) DISTCF_THROW(InputError, path + ": does not exist");
    if (fs::is_directory(st)) DISTCF_THROW(InputError, path + ": is a directory, not a file");
    if (!fs::is_regular_file(st)) DISTCF_THROW(InputError, path + ": not a regular file");
}

AtomicOutput::AtomicOutput(const std::string& target, const Comm& comm) : target_(target), comm_(Comm::view(comm.raw())) {
    // Rank 0 checks and names; the verdict is shared so every rank throws the same error.
    std::string error;
    if (comm.is_root()) {
        try {
            require_output_dir(target);
            std::error_code ec;
            const fs::file_status st = fs::symlink_status(target, ec);
            if (fs::exists(st) && !fs::is_regular_file(st))  // only a regular file is ever replaced
                DISTCF_THROW(InputError, target + ": not a regular file; refusing to replace it");
            const fs::path p(target);
            const auto tag = std::to_string(::getpid()) + "-" +
                             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007);
            temp_ = (p.has_parent_path() ? p.parent_path() / ("." + p.filename().string() + ".tmp-" + tag)
                                         : fs::path("." + p.filename().string() + ".tmp-" + tag))
                        .string();
        } catch (const Error& e) {
            error = e.what();
        }
    }
    comm.bcast(error);
    if (!error.empty()) throw InputError(error, __FILE__, __LINE__);
    comm.bcast(temp_);
}

void AtomicOutput::commit() {
    comm_.barrier();
    std::string error;
    if (comm_.is_root() && std::rename(temp_.c_str(), target_.c_str()) != 0)
        error = "cannot rename " + temp_ + " to " + target_ + ": " + std::strerror(errno);
    comm_.bcast(error);
    if (!error.empty()) throw SystemError(error, __FILE__, __LINE__);
    committed_ = true;
}

AtomicOutput::~AtomicOutput() {
    if (committed_) return;
    // No collective calls here: this runs while an exception unwinds, possibly on some ranks only.
    int rank = 0;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_rank(comm_.raw(), &rank);
    if (rank == 0) std::remove(temp_.c_str());
}

}  // namespace distcf
