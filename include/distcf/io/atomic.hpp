#pragma once
/// @file atomic.hpp
/// @brief Atomic output files: written under a temporary name in the target's directory and renamed
/// on success, so that a failed run never leaves a half-written output behind.

#include <string>
#include <vector>

#include "distcf/mpi/comm.hpp"

namespace distcf {

/// Collective over `comm`. The constructor checks that the target directory exists (InputError
/// otherwise), removes stale temporaries of the same target, and picks one temporary name shared
/// by all ranks (".NAME.distcf-tmp.HOST.PID.TAG"). commit() renames it to the target; without
/// commit() the destructor removes the temporary file, on every rank.
class AtomicOutput {
public:
    AtomicOutput(const std::string& target, const Comm& comm);
    AtomicOutput(const AtomicOutput&) = delete;
    AtomicOutput& operator=(const AtomicOutput&) = delete;
    ~AtomicOutput();
    /// Where to write now.
    const std::string& temp_path() const noexcept { return temp_; }
    const std::string& target() const noexcept { return target_; }
    /// Collective: every rank has closed the file; rank 0 renames it into place.
    void commit();

private:
    std::string target_;
    std::string temp_;
    Comm comm_;  // a view: the caller's Comm may be a temporary (Comm::self())
    bool committed_ = false;
};

/// Removes the temporaries in `dir` (of `target_file` only, when given) that processes of this host
/// left when they were killed while writing: named ".NAME.distcf-tmp.HOST.PID.TAG", their PID no
/// longer runs. Returns the paths removed. (`distcf clean DIR`; every AtomicOutput does it for
/// its target.)
std::vector<std::string> remove_stale_temporaries(const std::string& dir, const std::string& target_file = "");

/// Throws InputError unless the directory that would hold `path` exists.
void require_output_dir(const std::string& path);

/// The one output policy, checked before any work: `out` may not be one of the command's `inputs`
/// (the same file under any name), and an existing `out` must be a regular file -- a directory,
/// FIFO, device or symbolic link is never replaced. "-" means standard output and is accepted
/// only for text outputs (`text`). Throws UsageError naming the path.
void check_output(const std::string& out, const std::vector<std::string>& inputs, bool text = false);

/// Throws InputError unless `path` names a regular file (or a link to one) that exists: a
/// directory given as an input file is refused, not read as empty.
void require_regular_input(const std::string& path);

}  // namespace distcf
