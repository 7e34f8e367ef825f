#pragma once
/// @file error.hpp
/// @brief Typed exceptions of distcf. Every error names where it was raised (file and line).
///
/// The CLI maps them to exit codes: UsageError -> 2, every other Error -> 1.

#include <stdexcept>
#include <string>

namespace distcf {

/// Base of every distcf error: a message plus the source location that raised it.
class Error : public std::runtime_error {
public:
    Error(const std::string& what, const char* file, int line);
    /// Source file that raised the error.
    const std::string& file() const noexcept { return file_; }
    /// Source line that raised the error.
    int line() const noexcept { return line_; }

private:
    std::string file_;
    int line_;
};

/// Bad user input: a malformed data file, an inconsistent HDF5 store, an invalid parameter.
class InputError : public Error {
    using Error::Error;
};
/// A parameter's value out of its range or of the wrong kind (validate() of a parameter struct):
/// named by its field; the program exits with 2, as for a bad command line.
class ParameterError : public InputError {
    using InputError::InputError;
};
/// Bad command line (unknown option, missing argument): exit code 2.
class UsageError : public Error {
    using Error::Error;
};
/// A failed MPI call.
class MpiError : public Error {
    using Error::Error;
};
/// A failed HDF5 call.
class H5Error : public Error {
    using Error::Error;
};
/// A failed LAPACK / ScaLAPACK / BLACS call (non-zero INFO).
class LinalgError : public Error {
    using Error::Error;
};
/// Work stopped on request (a signal such as SLURM's warning before the time limit) after saving
/// what lets it continue: not a failure of the input. The program exits with 3.
class Interrupted : public Error {
    using Error::Error;
};
/// An operating-system call that failed (rename, open, ...).
class SystemError : public Error {
    using Error::Error;
};
/// A broken invariant between the program's own parts (a bug, never bad input).
class InternalError : public Error {
    using Error::Error;
};

}  // namespace distcf

/// Throw an error of type T with a message and the current file/line.
#define DISTCF_THROW(T, msg) throw T((msg), __FILE__, __LINE__)

/// Throw an InputError unless the condition holds.
#define DISTCF_REQUIRE(cond, msg)                                \
    do {                                                         \
        if (!(cond)) DISTCF_THROW(::distcf::InputError, (msg));  \
    } while (0)
