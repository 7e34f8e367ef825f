#pragma once
/// @file progress.hpp
/// @brief What a long command is doing, on standard error: a line per stage with its counts, and
/// for long loops a progress line with rate and ETA -- redrawn in place on a terminal, a line per
/// ~10% otherwise -- or, with the JSON log format, one JSON object per event for pipelines.
///
/// Like a logger, the reporter is one per process, set up by the program's main before any work
/// (`configure_reporting`); code that reports needs no handle passed down. Only the rank main
/// names as the speaker writes (rank 0): a loop's progress is that rank's share, which balanced
/// partitions make representative. Library users who configure nothing get silence.

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <variant>
#include <vector>

namespace distcf {

enum class LogFormat { Text, Json };

struct ReportingOptions {
    bool enabled = false;       ///< false: nothing is written (library default, --quiet, ranks > 0)
    LogFormat format = LogFormat::Text;
    bool terminal = false;      ///< standard error is a terminal: progress redrawn in place
    double min_interval_s = 1;  ///< at most one progress redraw per this (terminal)
};
/// Set by main; a second call replaces the first.
void configure_reporting(const ReportingOptions& o);
bool reporting_enabled();

/// A named figure of an event.
struct Figure {
    std::string name;
    std::variant<std::int64_t, double, std::string> value;
    Figure(std::string n, std::int64_t v) : name(std::move(n)), value(v) {}
    Figure(std::string n, int v) : name(std::move(n)), value(static_cast<std::int64_t>(v)) {}
    Figure(std::string n, double v) : name(std::move(n)), value(v) {}
    Figure(std::string n, std::string v) : name(std::move(n)), value(std::move(v)) {}
    Figure(std::string n, const char* v) : name(std::move(n)), value(std::string(v)) {}
};

/// A stage of a command begins or ends: "generate: users 100000, items 10000". Text: one line;
/// JSON: {"event": "stage", "stage": ..., figures...}.
void report_stage(const std::string& stage, std::initializer_list<Figure> figures = {});
/// A figure-only event (an iteration of training). In the text format it is not written (the
/// command prints its own table on standard output); in JSON it is {"event": EVENT, ...}.
void report_event(const std::string& event, const std::vector<Figure>& figures);

/// Progress of a loop over `total` units ("users", "lines"): add() from any thread; rank 0's
/// thread that crosses a 10% step or the redraw interval writes. Finishing writes the last line
/// with the elapsed time and the mean rate.
class Progress {
  public:
    Progress(std::string stage, std::int64_t total, std::string unit);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    void add(std::int64_t n);
    void finish();

  private:
    void draw(std::int64_t done, bool last);
    std::string stage_, unit_;
    std::int64_t total_;
    double start_;
    std::atomic<std::int64_t> done_{0};
    std::atomic<int> next_decile_{1};
    std::atomic<double> last_draw_{0};
    std::atomic<bool> drawing_{false};
    bool finished_ = false;
};

}  // namespace distcf
