#include "distcf/io/atomic.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <csignal>
#include <cstdlib>
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

namespace {

constexpr const char* kTempMark = ".distcf-tmp.";

std::string host_name() {
    char h[256] = {0};
    if (::gethostname(h, sizeof h - 1) != 0) return "host";
    std::string s(h);
    std::replace(s.begin(), s.end(), '.', '_');  // the name's fields are separated by dots
    return s;
}

// ".NAME.distcf-tmp.HOST.PID.TAG": the temporary of NAME made by process PID on HOST.
std::string temp_name(const std::string& file) {
    const auto tag = std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007;
    return "." + file + kTempMark + host_name() + "." + std::to_string(::getpid()) + "." + std::to_string(tag);
}

// A temporary left by a process of this host that no longer runs. Those of other hosts (a shared
// file system) and of live processes are never touched.
bool is_stale(const std::string& name) {
    const auto mark = name.find(kTempMark);
    if (name.empty() || name[0] != '.' || mark == std::string::npos) return false;
    const std::string rest = name.substr(mark + std::strlen(kTempMark));  // HOST.PID.TAG
    const auto tag_dot = rest.rfind('.');
    if (tag_dot == std::string::npos) return false;
    const auto pid_dot = rest.rfind('.', tag_dot - 1);
    if (pid_dot == std::string::npos) return false;
    if (rest.substr(0, pid_dot) != host_name()) return false;
    char* end = nullptr;
    const long pid = std::strtol(rest.c_str() + pid_dot + 1, &end, 10);
    if (end != rest.c_str() + tag_dot || pid <= 0) return false;
    return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

}  // namespace

std::vector<std::string> remove_stale_temporaries(const std::string& dir, const std::string& target_file) {
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir.empty() ? "." : dir, ec)) {
        const std::string name = e.path().filename().string();
        if (!target_file.empty() && name.rfind("." + target_file + kTempMark, 0) != 0) continue;
        if (!e.is_regular_file(ec) || !is_stale(name)) continue;
        if (fs::remove(e.path(), ec)) removed.push_back(e.path().string());
    }
    return removed;
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

AtomicOutput::AtomicOutput(const std::string& target, const Comm& comm) : target_(target), comm_(comm.view()) {
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
            // Earlier runs killed while writing this target left their temporaries: gone now.
            remove_stale_temporaries(p.has_parent_path() ? p.parent_path().string() : ".", p.filename().string());
            temp_ = (p.has_parent_path() ? p.parent_path() / temp_name(p.filename().string())
                                         : fs::path(temp_name(p.filename().string())))
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
    // No collective calls here: this runs while an exception unwinds, possibly on some ranks only
    // -- so every rank removes the (shared) temporary: the one that failed may be the only one
    // that gets here before the job is aborted. A missing file is no error.
    std::remove(temp_.c_str());
}

}  // namespace distcf
