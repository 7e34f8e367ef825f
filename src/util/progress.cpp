#include "distcf/util/progress.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>

namespace distcf {

namespace {

// The process's reporting state: written once by main (configure_reporting) before any work,
// then only read. The sink is spdlog's: one locked write per event, flushed at once, so progress
// interleaves cleanly with a command's own output.
struct Reporting {
    ReportingOptions options;
    std::shared_ptr<spdlog::logger> log;
    bool redrawn = false;  // a terminal line is open (no newline yet)
    std::mutex mutex;
};

Reporting& state() {
    static Reporting r;
    return r;
}

double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// "12.3k", "4.56M": counts and rates read at a glance.
std::string human(double v) {
    char b[32];
    const char* units[] = {"", "k", "M", "G", "T"};
    int u = 0;
    while (std::fabs(v) >= 1000 && u < 4) {
        v /= 1000;
        ++u;
    }
    std::snprintf(b, sizeof b, u == 0 && v == std::floor(v) ? "%.0f%s" : "%.3g%s", v, units[u]);
    return b;
}

std::string seconds_text(double s) {
    char b[32];
    if (s < 60) std::snprintf(b, sizeof b, "%.1f s", s);
    else if (s < 3600) std::snprintf(b, sizeof b, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
    else std::snprintf(b, sizeof b, "%dh%02dm", static_cast<int>(s) / 3600, static_cast<int>(s) / 60 % 60);
    return b;
}

std::string figure_text(const Figure& f) {
    if (const auto* i = std::get_if<std::int64_t>(&f.value)) return f.name + " " + std::to_string(*i);
    if (const auto* d = std::get_if<double>(&f.value)) {
        char b[32];
        std::snprintf(b, sizeof b, "%.4g", *d);
        return f.name + " " + b;
    }
    return f.name + " " + std::get<std::string>(f.value);
}

nlohmann::json figures_json(const std::string& event, const std::vector<Figure>& figures) {
    nlohmann::json j{{"event", event}};
    for (const auto& f : figures) std::visit([&](const auto& v) { j[f.name] = v; }, f.value);
    return j;
}

// Writes one line; `open`: a terminal progress line to be redrawn (no newline).
void write(const std::string& text, bool open = false) {
    Reporting& r = state();
    const std::lock_guard<std::mutex> lock(r.mutex);
    if (!r.log) return;
    std::string line;
    if (r.options.terminal && r.redrawn) line = "\r\033[K";
    line += text;
    if (!open) line += "\n";
    r.redrawn = open;
    r.log->info(line);
    r.log->flush();
}

}  // namespace

void configure_reporting(const ReportingOptions& o) {
    Reporting& r = state();
    const std::lock_guard<std::mutex> lock(r.mutex);
    r.options = o;
    if (!o.enabled) {
        r.log.reset();
        return;
    }
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    // The line is the message alone, newline included by the caller (an in-place redraw has none).
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v", spdlog::pattern_time_type::local, std::string()));
    r.log = std::make_shared<spdlog::logger>("distcf", sink);
    r.log->set_level(spdlog::level::info);
}

bool reporting_enabled() { return static_cast<bool>(state().log); }

void report_stage(const std::string& stage, std::initializer_list<Figure> figures) {
    if (!reporting_enabled()) return;
    if (state().options.format == LogFormat::Json) {
        auto j = figures_json("stage", figures);
        j["stage"] = stage;
        write(j.dump());
        return;
    }
    std::string line = stage;
    bool first = true;
    for (const auto& f : figures) {
        line += (first ? ": " : ", ") + figure_text(f);
        first = false;
    }
    write(line);
}

void report_event(const std::string& event, const std::vector<Figure>& figures) {
    if (!reporting_enabled() || state().options.format != LogFormat::Json) return;
    write(figures_json(event, figures).dump());
}

Progress::Progress(std::string stage, std::int64_t total, std::string unit)
    : stage_(std::move(stage)), unit_(std::move(unit)), total_(total), start_(now()) {
    last_draw_ = start_;
}

Progress::~Progress() { finish(); }

void Progress::add(std::int64_t n) {
    const auto done = done_.fetch_add(n) + n;
    // The last line is finish()'s; a loop of a second or less shows only that one.
    if (!reporting_enabled() || total_ <= 0 || done >= total_ || now() - start_ < 1.0) return;
    const bool terminal = state().options.terminal && state().options.format == LogFormat::Text;
    const int decile = static_cast<int>(10 * done / total_);
    int next = next_decile_.load();
    bool due = false;
    if (terminal) {
        due = now() - last_draw_.load() >= state().options.min_interval_s;
    } else {
        while (decile >= next && next < 10 && !(due = next_decile_.compare_exchange_weak(next, decile + 1))) {
        }
    }
    if (!due || drawing_.exchange(true)) return;  // one thread draws; the others go on
    last_draw_ = now();
    draw(done, false);
    drawing_ = false;
}

void Progress::finish() {
    if (finished_) return;
    finished_ = true;
    if (reporting_enabled() && total_ > 0) draw(done_.load(), true);
}

void Progress::draw(std::int64_t done, bool last) {
    const double elapsed = now() - start_;
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    if (state().options.format == LogFormat::Json) {
        std::vector<Figure> f{{"stage", stage_}, {"done", done}, {"total", total_}, {"unit", unit_},
                              {"elapsed_s", std::round(elapsed * 1000) / 1000}, {"rate_per_s", std::round(rate)}};
        if (!last && rate > 0) f.emplace_back("eta_s", std::round(static_cast<double>(total_ - done) / rate * 10) / 10);
        write(figures_json(last ? "done" : "progress", f).dump());
        return;
    }
    const double pct = 100.0 * static_cast<double>(done) / static_cast<double>(total_);
    char head[64];
    std::snprintf(head, sizeof head, "%3.0f%%", pct);
    std::string line = stage_ + ": " + head + " " + human(static_cast<double>(done)) + "/" + human(static_cast<double>(total_)) +
                       " " + unit_ + ", " + human(rate) + " " + unit_ + "/s";
    if (last) line += ", done in " + seconds_text(elapsed);
    else if (rate > 0) line += ", ETA " + seconds_text(static_cast<double>(total_ - done) / rate);
    write(line, !last && state().options.terminal);
}

}  // namespace distcf
