#include "distcf/io/item_info.hpp"

#include <array>
#include <fstream>
#include <vector>

#include "distcf/error.hpp"

namespace distcf {

namespace {

// The 19 genre flags of u.item, in the order of ML-100K's u.genre.
constexpr std::array<const char*, 19> kMl100kGenres = {
    "unknown", "Action",    "Adventure", "Animation", "Children's", "Comedy",  "Crime",    "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "Musical",   "Mystery",   "Romance",    "Sci-Fi",  "Thriller", "War",         "Western"};

std::vector<std::string> split(const std::string& line, const std::string& sep) {
    std::vector<std::string> out;
    std::size_t b = 0;
    for (std::size_t e; (e = line.find(sep, b)) != std::string::npos; b = e + sep.size()) out.push_back(line.substr(b, e - b));
    out.push_back(line.substr(b));
    return out;
}

// movies.csv: movieId,title,genres where a title with commas is double-quoted ("" inside).
std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                out.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                out.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.emplace_back();
        } else {
            out.back() += c;
        }
    }
    return out;
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::map<std::string, ItemInfo> read_item_info(const std::string& path) {
    std::ifstream in(path);
    if (!in) DISTCF_THROW(InputError, path + ": cannot open (no such file or not readable)");
    const bool u_item = ends_with(path, "u.item"), csv = ends_with(path, ".csv");
    std::map<std::string, ItemInfo> out;
    std::string line;
    for (std::int64_t no = 1; std::getline(in, line); ++no) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || (csv && no == 1 && line.rfind("movieId", 0) == 0)) continue;
        const auto f = u_item ? split(line, "|") : csv ? split_csv(line) : split(line, "::");
        const std::size_t need = u_item ? 5 + kMl100kGenres.size() : 3;
        if (f.size() < need)
            DISTCF_THROW(InputError, path + ":" + std::to_string(no) + ": expected " + std::to_string(need) + " fields, found " +
                                         std::to_string(f.size()));
        ItemInfo info;
        info.title = f[1];
        if (u_item) {
            for (std::size_t g = 0; g < kMl100kGenres.size(); ++g)
                if (f[5 + g] == "1") {
                    if (!info.genres.empty()) info.genres += '|';
                    info.genres += kMl100kGenres[g];
                }
        } else {
            info.genres = f[2];
        }
        out[f[0]] = std::move(info);
    }
    return out;
}

}  // namespace distcf
