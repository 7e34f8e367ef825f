#pragma once
/// @file signals.hpp
/// @brief Stop requests by signal: SLURM sends SIGUSR1 (`--signal=USR1@SECONDS`) before a job's
/// time limit and SIGTERM at it; a long run notes the request and stops at its next safe point
/// (an iteration's end) after writing a checkpoint, instead of dying mid-write.

namespace distcf {

/// While alive, SIGUSR1 and SIGTERM set a flag instead of their default action (terminate); the
/// previous handlers come back on destruction. One at a time per process.
class StopSignals {
  public:
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
    /// The signal received (0: none yet).
    int received() const;
    /// "SIGUSR1", "SIGTERM", ...
    static const char* name(int signal);
};

}  // namespace distcf
