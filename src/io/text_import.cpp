#include "distcf/io/text_import.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/delimited.hpp"
#include "distcf/util/progress.hpp"

namespace distcf {

TextFormat parse_text_format(const std::string& s) {
    if (s == "movielens100k") return TextFormat::MovieLens100k;
    if (s == "movielens") return TextFormat::MovieLens;
    if (s == "csv") return TextFormat::Csv;
    DISTCF_THROW(InputError, "format: unknown value '" + s + "' (movielens100k, movielens or csv)");
}

DuplicatePolicy parse_duplicate_policy(const std::string& s) {
    if (s == "error") return DuplicatePolicy::Error;
    if (s == "last") return DuplicatePolicy::Last;
    if (s == "mean") return DuplicatePolicy::Mean;
    DISTCF_THROW(InputError, "duplicates: unknown value '" + s + "' (error, last or mean)");
}

void ImportOptions::validate() const {
    if (format == TextFormat::Csv) {
        int user = 0, item = 0, rating = 0, time = 0;
        for (const auto& c : columns) {
            if (c == "user") ++user;
            else if (c == "item") ++item;
            else if (c == "rating") ++rating;
            else if (c == "time") ++time;
            else if (c != "_") DISTCF_THROW(ParameterError, "columns: unknown column '" + c + "' (user, item, rating, time or _)");
        }
        if (user != 1 || item != 1 || rating != 1 || time > 1)
            DISTCF_THROW(ParameterError, "columns: must name user, item and rating exactly once (time at most once)");
    }
    if (rating_range && !(rating_range->first < rating_range->second) )
        DISTCF_THROW(ParameterError, "rating-range: LO must be below HI");
    if (rating_range && !(std::isfinite(rating_range->first) && std::isfinite(rating_range->second)))
        DISTCF_THROW(ParameterError, "rating-range: bounds must be finite");
    if (block_bytes < 1024) DISTCF_THROW(ParameterError, "block_bytes: must be at least 1024");
}

namespace {

constexpr std::int32_t kNone = -1;

/// External ID -> provisional index in order of first appearance. Small non-negative integers
/// go through a direct table (the common case: MovieLens), the rest through a hash map.
class IdIndexer {
public:
    bool integer_ids = true;  // false once a non-integer ID was seen (csv only)

    std::int32_t add_int(std::int64_t id) {
        if (id >= 0 && id < kTableLimit) {
            const auto i = static_cast<std::size_t>(id);
            if (i >= table_.size()) table_.resize(std::max<std::size_t>(i + 1, table_.size() * 2), kNone);
            if (table_[i] == kNone) table_[i] = fresh(id);
            return table_[i];
        }
        auto [it, inserted] = map_.try_emplace(id, 0);
        if (inserted) it->second = fresh(id);
        return it->second;
    }

    std::int32_t add_string(std::string_view s) {
        auto it = smap_.find(std::string(s));
        if (it != smap_.end()) return it->second;
        check_room();
        const auto idx = static_cast<std::int32_t>(sext_.size());
        sext_.emplace_back(s);
        smap_.emplace(sext_.back(), idx);
        return idx;
    }

    /// Switch from integer to string IDs, keeping provisional indices.
    void to_strings() {
        if (!integer_ids) return;
        integer_ids = false;
        for (auto v : ext_) add_string(std::to_string(v));
        table_.clear();
        map_.clear();
        ext_.clear();
    }

    std::size_t size() const { return integer_ids ? ext_.size() : sext_.size(); }

    /// Final IdMap (ascending IDs) and the map provisional index -> final index.
    std::pair<IdMap, std::vector<std::int32_t>> finish() {
        const std::size_t n = size();
        std::vector<std::int32_t> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::vector<std::int32_t> final_of(n);
        if (integer_ids) {
            std::sort(order.begin(), order.end(), [&](auto a, auto b) { return ext_[a] < ext_[b]; });
            std::vector<std::int64_t> ids(n);
            for (std::size_t k = 0; k < n; ++k) {
                ids[k] = ext_[order[k]];
                final_of[order[k]] = static_cast<std::int32_t>(k);
            }
            return {IdMap::integers(std::move(ids)), std::move(final_of)};
        }
        std::sort(order.begin(), order.end(), [&](auto a, auto b) { return sext_[a] < sext_[b]; });
        std::vector<std::string> ids(n);
        for (std::size_t k = 0; k < n; ++k) {
            ids[k] = sext_[order[k]];
            final_of[order[k]] = static_cast<std::int32_t>(k);
        }
        return {IdMap::strings(std::move(ids)), std::move(final_of)};
    }

private:
    static constexpr std::int64_t kTableLimit = std::int64_t{1} << 26;
    void check_room() const {
        if (size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
            DISTCF_THROW(InputError, "more than 2^31-1 distinct IDs");
    }
    std::int32_t fresh(std::int64_t id) {
        check_room();
        ext_.push_back(id);
        return static_cast<std::int32_t>(ext_.size() - 1);
    }
    std::vector<std::int32_t> table_;
    std::unordered_map<std::int64_t, std::int32_t> map_;
    std::vector<std::int64_t> ext_;
    std::unordered_map<std::string, std::int32_t> smap_;
    std::vector<std::string> sext_;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::string shown(std::string_view s) {
    std::string out(s.substr(0, 40));
    if (s.size() > 40) out += "...";
    return "'" + out + "'";
}

enum Role { kUser = 0, kItem = 1, kRating = 2, kTime = 3, kRoles = 4 };

class Parser {
public:
    Parser(const std::string& path, const ImportOptions& o) : path_(path), o_(o) {
        switch (o.format) {
            case TextFormat::MovieLens100k:
                delim_ = o.delimiter.empty() ? "\t" : o.delimiter;
                set_roles({"user", "item", "rating", "time"});
                time_optional_ = true;
                integer_only_ = true;
                break;
            case TextFormat::MovieLens:
                // ratings.csv (header userId,movieId,rating,timestamp) or ratings.dat (::).
                delim_ = o.delimiter;
                set_roles({"user", "item", "rating", "time"});
                time_optional_ = true;
                integer_only_ = true;
                break;
            case TextFormat::Csv:
                delim_ = o.delimiter.empty() ? "," : o.delimiter;
                set_roles(o.columns);
                integer_only_ = false;
                break;
        }
        header_ = o.header;
    }

    ImportedRatings run() {
        require_regular_input(path_);
        std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path_.c_str(), "rb"), &std::fclose);
        if (!f) DISTCF_THROW(InputError, path_ + ": cannot open (no such file or not readable)");
        std::vector<char> buf(o_.block_bytes);
        std::string carry;
        std::error_code size_error;
        const auto bytes = std::filesystem::file_size(path_, size_error);
        Progress progress("import: parse", size_error ? -1 : static_cast<std::int64_t>(bytes), "bytes");
        while (true) {
            const std::size_t got = std::fread(buf.data(), 1, buf.size(), f.get());
            if (got == 0) break;
            progress.add(static_cast<std::int64_t>(got));
            std::string_view chunk(buf.data(), got);
            std::size_t start = 0;
            if (!carry.empty()) {
                const auto nl = chunk.find('\n');
                if (nl == std::string_view::npos) {
                    carry.append(chunk);
                    continue;
                }
                carry.append(chunk.substr(0, nl));
                line(carry);
                carry.clear();
                start = nl + 1;
            }
            while (start < got) {
                const void* p = std::memchr(buf.data() + start, '\n', got - start);
                if (!p) {
                    carry.assign(buf.data() + start, got - start);
                    break;
                }
                const std::size_t end = static_cast<const char*>(p) - buf.data();
                line(std::string_view(buf.data() + start, end - start));
                start = end + 1;
            }
        }
        if (std::ferror(f.get())) DISTCF_THROW(InputError, path_ + ": read error");
        progress.finish();
        if (!carry.empty()) line(carry);
        if (value_.empty()) DISTCF_THROW(InputError, path_ + ": no ratings found (empty file)");
        return finish();
    }

private:
    void set_roles(const std::vector<std::string>& cols) {
        std::fill(std::begin(col_of_), std::end(col_of_), -1);
        for (std::size_t c = 0; c < cols.size(); ++c) {
            if (cols[c] == "user") col_of_[kUser] = static_cast<int>(c);
            else if (cols[c] == "item") col_of_[kItem] = static_cast<int>(c);
            else if (cols[c] == "rating") col_of_[kRating] = static_cast<int>(c);
            else if (cols[c] == "time") col_of_[kTime] = static_cast<int>(c);
        }
        needed_ = 1 + std::max({col_of_[kUser], col_of_[kItem], col_of_[kRating]});
    }

    [[noreturn]] void fail(const std::string& why) const {
        DISTCF_THROW(InputError, path_ + ":" + std::to_string(lineno_) + ": " + why);
    }

    std::int64_t parse_int(std::string_view s, const char* what) const {
        std::int64_t v = 0;
        const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc::result_out_of_range)
            fail(std::string(what) + " " + shown(s) + " does not fit a 64-bit integer");
        if (ec != std::errc() || p != s.data() + s.size() || s.empty())
            fail(std::string("field '") + what + "' is not an integer: " + shown(s) + hint());
        return v;
    }

    std::string hint() const {
        if (lineno_ == 1 && !header_) return " (a header line? pass --header)";
        if (fields_seen_ == 1) return " (wrong --delimiter?)";
        return "";
    }

    std::int32_t id(IdIndexer& ix, std::string_view s, const char* what) {
        if (s.empty()) fail(std::string("field '") + what + "' is empty");
        // Stores keep IDs as fixed-length strings: one huge ID would make every ID that long.
        constexpr std::size_t kMaxIdBytes = 256;
        if (s.size() > kMaxIdBytes)
            fail(std::string(what) + " ID of " + std::to_string(s.size()) + " bytes is longer than the " +
                 std::to_string(kMaxIdBytes) + " an ID may have");
        if (integer_only_) return ix.add_int(parse_int(s, what));
        if (ix.integer_ids) {
            std::int64_t v = 0;
            const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            if (ec == std::errc() && p == s.data() + s.size()) return ix.add_int(v);
            ix.to_strings();
        }
        return ix.add_string(s);
    }

    void line(std::string_view raw) {
        ++lineno_;
        std::string_view text = trim(raw);
        if (text.empty()) return;
        if (lineno_ == 1 && o_.format == TextFormat::MovieLens && delim_.empty()) {
            // ratings.csv starts with its header; ratings.dat has none and uses '::'.
            if (text.substr(0, 6) == "userId") {
                delim_ = ",";
                header_ = true;
            } else {
                delim_ = "::";
            }
        }
        if (lineno_ == 1 && header_) return;
        // One splitter for every text input (RFC 4180 quoting); the line is not trimmed first, so
        // an empty first field keeps the columns in place.
        if (!splitter_ || splitter_->delimiter() != delim_) splitter_.emplace(delim_);
        const int want = std::max(needed_, col_of_[kTime] + 1);
        std::string error;
        if (!splitter_->split(raw, fields_, error, static_cast<std::size_t>(want))) fail(error);
        const int nf = static_cast<int>(fields_.size());
        const auto& field = fields_;
        fields_seen_ = nf;
        const bool has_time = col_of_[kTime] >= 0 && nf > col_of_[kTime];
        if (nf < needed_ || (col_of_[kTime] >= 0 && !has_time && !time_optional_)) {
            fail("expected " + std::to_string(want) + " fields separated by '" + splitter_->shown_delimiter() +
                 "', found " + std::to_string(nf) + (nf == 1 ? " (wrong --delimiter?)" : " (missing column)"));
        }
        const std::int32_t u = id(users_, field[col_of_[kUser]], "user");
        const std::int32_t i = id(items_, field[col_of_[kItem]], "item");
        const std::string_view rs = field[col_of_[kRating]];
        double r = 0;
        const auto [p, ec] = std::from_chars(rs.data(), rs.data() + rs.size(), r);
        if (ec == std::errc::result_out_of_range) fail("rating " + shown(rs) + " is out of the range of a double");
        if (ec != std::errc() || p != rs.data() + rs.size() || rs.empty())
            fail("field 'rating' is not a number: " + shown(rs) + hint());
        if (!std::isfinite(r)) fail("rating is not finite: " + shown(rs));
        if (o_.rating_range && (r < o_.rating_range->first || r > o_.rating_range->second))
            fail("rating " + std::string(rs) + " outside --rating-range [" + fmt(o_.rating_range->first) + ", " +
                 fmt(o_.rating_range->second) + "]");
        if (has_time) {
            if (value_.size() != time_.size()) fail("field 'time' is missing on earlier lines but present here");
            time_.push_back(parse_int(field[col_of_[kTime]], "time"));
        } else if (!time_.empty()) {
            fail("field 'time' is missing (earlier lines have it)");
        }
        user_.push_back(u);
        item_.push_back(i);
        value_.push_back(r);
        line_.push_back(lineno_);
    }

    static std::string fmt(double v) {
        char b[32];
        std::snprintf(b, sizeof b, "%g", v);
        return b;
    }

    ImportedRatings finish() {
        ImportedRatings out;
        auto [umap, ufinal] = users_.finish();
        auto [imap, ifinal] = items_.finish();
        const std::size_t n = value_.size();
        const std::size_t nu = static_cast<std::size_t>(umap.size());
        // Counting sort by user (stable: file order kept), then each user's ratings by item.
        std::vector<std::int64_t> start(nu + 1, 0);
        for (auto& u : user_) {
            u = ufinal[static_cast<std::size_t>(u)];
            ++start[static_cast<std::size_t>(u) + 1];
        }
        for (auto& i : item_) i = ifinal[static_cast<std::size_t>(i)];
        for (std::size_t k = 0; k < nu; ++k) start[k + 1] += start[k];
        std::vector<std::int64_t> order(n);
        {
            std::vector<std::int64_t> fill(start.begin(), start.end() - 1);
            for (std::size_t k = 0; k < n; ++k) order[fill[static_cast<std::size_t>(user_[k])]++] = static_cast<std::int64_t>(k);
        }
        for (std::size_t u = 0; u < nu; ++u)
            std::stable_sort(order.begin() + start[u], order.begin() + start[u + 1],
                             [&](auto a, auto b) { return item_[a] < item_[b]; });

        RatingSlice& s = out.ratings;
        s.reserve(n);
        const bool with_time = !time_.empty();
        out.value_min = std::numeric_limits<double>::infinity();
        out.value_max = -out.value_min;
        for (std::size_t k = 0; k < n;) {
            const auto first = order[k];
            std::size_t e = k + 1;
            while (e < n && user_[order[e]] == user_[first] && item_[order[e]] == item_[first]) ++e;
            if (e - k > 1 && o_.duplicates == DuplicatePolicy::Error) {
                lineno_ = line_[order[k + 1]];
                fail("duplicate rating for user " + umap.label(user_[first]) + " and item " + imap.label(item_[first]) +
                     " (first at line " + std::to_string(line_[first]) + "; see --duplicates)");
            }
            double v = value_[order[e - 1]];  // last in file order
            if (o_.duplicates == DuplicatePolicy::Mean) {
                double sum = 0;
                for (auto j = k; j < e; ++j) sum += value_[order[j]];
                v = sum / static_cast<double>(e - k);
            }
            s.push(user_[first], item_[first], v);
            if (with_time) s.time.push_back(time_[order[e - 1]]);
            out.value_min = std::min(out.value_min, v);
            out.value_max = std::max(out.value_max, v);
            k = e;
        }
        out.users = std::move(umap);
        out.items = std::move(imap);
        out.lines = lineno_;
        return out;
    }

    std::string path_;
    const ImportOptions& o_;
    std::string delim_;
    std::optional<FieldSplitter> splitter_;
    std::vector<std::string_view> fields_;
    bool header_ = false;
    bool time_optional_ = false;
    bool integer_only_ = true;
    int col_of_[kRoles];
    int needed_ = 3;
    int fields_seen_ = 0;
    std::int64_t lineno_ = 0;
    IdIndexer users_, items_;
    std::vector<std::int32_t> user_, item_;
    std::vector<double> value_;
    std::vector<std::int64_t> time_;
    std::vector<std::int64_t> line_;
};

}  // namespace

ImportedRatings import_text(const std::string& path, const ImportOptions& options) {
    options.validate();
    return Parser(path, options).run();
}

}  // namespace distcf
