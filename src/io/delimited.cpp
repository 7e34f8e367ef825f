#include "distcf/io/delimited.hpp"

#include <ostream>

namespace distcf {

FieldSplitter::FieldSplitter(std::string delimiter) : delim_(std::move(delimiter)) {}

std::string FieldSplitter::shown_delimiter() const {
    if (delim_.empty()) return "spaces, tabs or commas";
    return delim_ == "\t" ? "\\t" : delim_;
}

bool FieldSplitter::at_delimiter(std::string_view s, std::size_t pos, std::size_t& len) const {
    if (delim_.empty()) {
        std::size_t e = pos;
        while (e < s.size() && (s[e] == ' ' || s[e] == '\t' || s[e] == ',')) ++e;
        len = e - pos;
        return len > 0;
    }
    len = delim_.size();
    return s.compare(pos, delim_.size(), delim_) == 0;
}

std::string_view FieldSplitter::trim(std::string_view s) const {
    const bool tab_is_space = delim_ != "\t";
    const auto space = [&](char c) { return c == ' ' || (tab_is_space && c == '\t'); };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

bool FieldSplitter::split(std::string_view line, std::vector<std::string_view>& fields, std::string& error,
                          std::size_t max_fields) {
    fields.clear();
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (delim_.empty()) {  // loose form: leading and trailing separators mean nothing
        std::size_t b = 0, e = line.size();
        while (b < e && (line[b] == ' ' || line[b] == '\t' || line[b] == ',')) ++b;
        while (e > b && (line[e - 1] == ' ' || line[e - 1] == '\t' || line[e - 1] == ',')) --e;
        line = line.substr(b, e - b);
        if (line.empty()) return true;
    }
    const bool quoted_anywhere = line.find('"') != std::string_view::npos;
    if (quoted_anywhere) {
        buffer_.clear();
        buffer_.reserve(line.size());  // views into buffer_ stay valid: it never reallocates below
    }
    std::size_t pos = 0;
    while (true) {
        // Skip spaces before a possible opening quote.
        std::size_t q = pos;
        while (q < line.size() && (line[q] == ' ' || (delim_ != "\t" && line[q] == '\t'))) ++q;
        std::size_t len = 0;
        if (fields.size() == max_fields) return true;  // columns past those wanted are not looked at
        if (q < line.size() && line[q] == '"') {
            const std::size_t start = buffer_.size();
            std::size_t i = q + 1;
            bool closed = false;
            while (i < line.size()) {
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        buffer_.push_back('"');
                        i += 2;
                        continue;
                    }
                    closed = true;
                    ++i;
                    break;
                }
                buffer_.push_back(line[i++]);
            }
            if (!closed) {
                error = "a quoted field is not closed (column " + std::to_string(fields.size() + 1) + ")";
                return false;
            }
            while (i < line.size() && !at_delimiter(line, i, len) && line[i] == ' ') ++i;
            fields.emplace_back(buffer_.data() + start, buffer_.size() - start);
            if (i >= line.size()) return true;
            if (!at_delimiter(line, i, len)) {
                error = "text after the closing quote of column " + std::to_string(fields.size());
                return false;
            }
            pos = i + len;
            continue;
        }
        std::size_t e = pos;
        while (e < line.size() && !at_delimiter(line, e, len)) ++e;
        fields.push_back(trim(line.substr(pos, e - pos)));
        if (e >= line.size()) return true;
        pos = e + len;
    }
}

void write_field(std::ostream& out, std::string_view field, char delimiter) {
    if (delimiter != ',' || field.find_first_of(",\"\r\n") == std::string_view::npos) {
        out << field;
        return;
    }
    out << '"';
    for (char c : field) {
        if (c == '"') out << '"';  // a quote is doubled
        out << c;
    }
    out << '"';
}

}  // namespace distcf
