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

std::vector<TextPair> read_pairs(const std::string& path, bool with_rating) {
    require_regular_input(path);
    std::ifstream in(path);
    if (!in) DISTCF_THROW(InputError, path + ": cannot open (no such file or not readable)");
    std::vector<TextPair> pairs;
    FieldSplitter splitter("");
    std::vector<std::string_view> f;
    std::string line, error;
    const std::size_t need = with_rating ? 3 : 2;
    for (std::int64_t no = 1; std::getline(in, line); ++no) {
        const auto at = [&](const std::string& why) { return path + ":" + std::to_string(no) + ": " + why; };
        if (!splitter.split(line, f, error, need)) DISTCF_THROW(InputError, at(error));
        if (f.empty()) continue;
        if (f.size() < need) DISTCF_THROW(InputError, at(std::string("expected '") + (with_rating ? "user item rating" : "user item") + "'"));
        // A header names its columns: in a file with ratings, a first line none of whose fields is a
        // number (a pairs file of string IDs has no number on any line: no header is guessed there).
        if (with_rating && no == 1 && std::none_of(f.begin(), f.end(), is_number)) continue;
        if (f[0].empty() || f[1].empty()) DISTCF_THROW(InputError, at(std::string("empty ") + (f[0].empty() ? "user" : "item") + " ID"));
        TextPair p{std::string(f[0]), std::string(f[1]), 0.0, no};
        if (with_rating) {
            const std::string text(f[2]);
            char* end = nullptr;
            p.rating = std::strtod(text.c_str(), &end);
            if (end == text.c_str() || *end) DISTCF_THROW(InputError, at("rating is not a number: '" + text + "'"));
            if (!std::isfinite(p.rating)) DISTCF_THROW(InputError, at("rating is not finite: '" + text + "'"));
        }
        pairs.push_back(std::move(p));
    }
    return pairs;
}

}  // namespace distcf
