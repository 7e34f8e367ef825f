#include "distcf/io/pairs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/delimited.hpp"

namespace distcf {

namespace {
bool is_number(std::string_view s) {
    const std::string t(s);
    char* end = nullptr;
    std::strtod(t.c_str(), &end);
    return !t.empty() && end != t.c_str() && *end == '\0';
}
}  // namespace

PairReader::PairReader(const std::string& path, bool with_rating) : path_(path), with_rating_(with_rating) {
    require_regular_input(path);
    in_.open(path);
    if (!in_) DISTCF_THROW(InputError, path + ": cannot open (no such file or not readable)");
}

bool PairReader::next(TextPair& p) {
    const std::size_t need = with_rating_ ? 3 : 2;
    auto& f = fields_;
    while (std::getline(in_, line_)) {
        ++no_;
        const auto at = [&](const std::string& why) { return path_ + ":" + std::to_string(no_) + ": " + why; };
        if (!splitter_.split(line_, f, error_, need)) DISTCF_THROW(InputError, at(error_));
        if (f.empty()) continue;
        if (f.size() < need) DISTCF_THROW(InputError, at(std::string("expected '") + (with_rating_ ? "user item rating" : "user item") + "'"));
        // A header names its columns: in a file with ratings, a first line none of whose fields is a
        // number (a pairs file of string IDs has no number on any line: no header is guessed there).
        if (with_rating_ && no_ == 1 && std::none_of(f.begin(), f.end(), is_number)) continue;
        if (f[0].empty() || f[1].empty()) DISTCF_THROW(InputError, at(std::string("empty ") + (f[0].empty() ? "user" : "item") + " ID"));
        p = TextPair{std::string(f[0]), std::string(f[1]), 0.0, no_};
        if (with_rating_) {
            const std::string text(f[2]);
            char* end = nullptr;
            p.rating = std::strtod(text.c_str(), &end);
            if (end == text.c_str() || *end) DISTCF_THROW(InputError, at("rating is not a number: '" + text + "'"));
            if (!std::isfinite(p.rating)) DISTCF_THROW(InputError, at("rating is not finite: '" + text + "'"));
        }
        return true;
    }
    if (in_.bad()) DISTCF_THROW(InputError, path_ + ": read error after line " + std::to_string(no_));
    return false;
}

std::vector<TextPair> read_pairs(const std::string& path, bool with_rating) {
    PairReader reader(path, with_rating);
    std::vector<TextPair> pairs;
    TextPair p;
    while (reader.next(p)) pairs.push_back(std::move(p));
    return pairs;
}

}  // namespace distcf
