#pragma once
/// @file delimited.hpp
/// @brief The one splitter of delimited text lines, used by every text input (rating imports,
/// prediction pairs, fold-in ratings), with the quoting rules of RFC 4180:
///   - a field that starts with a double quote runs to the matching closing quote; delimiters and
///     the other quote character inside are data, and "" stands for one ";
///   - nothing but spaces may follow the closing quote before the next delimiter;
///   - a quote inside an unquoted field is data.
/// Unquoted fields are trimmed of spaces (and tabs, unless the delimiter is a tab); fields are
/// never dropped, so an empty first field keeps every column in place. A line ending in "\r" is
/// taken without it. Records do not span lines: a quoted field left open at the end of the line
/// is an error (RFC 4180 allows line breaks inside quotes; no distcf input needs them).

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace distcf {

class FieldSplitter {
public:
    /// `delimiter`: the exact separator ("," "\t" "::" ...); empty: any run of spaces, tabs and
    /// commas separates (the loose form of pairs files), with quoting as above.
    explicit FieldSplitter(std::string delimiter);

    /// Splits `line` into `fields` (views into `line` or into this splitter's buffer, valid until
    /// the next call). Returns false with `error` set on a malformed line. At most `max_fields`
    /// fields are split; columns past them are not looked at.
    bool split(std::string_view line, std::vector<std::string_view>& fields, std::string& error,
               std::size_t max_fields = 64);

    const std::string& delimiter() const { return delim_; }
    /// The delimiter as a message shows it ("\t" as \t).
    std::string shown_delimiter() const;

private:
    bool at_delimiter(std::string_view s, std::size_t pos, std::size_t& len) const;
    std::string_view trim(std::string_view s) const;

    std::string delim_;
    std::string buffer_;  // unescaped quoted fields
};

/// Writes one field of delimited output: with ',' as the delimiter a field holding a comma, a
/// quote or a line break is quoted (RFC 4180, quotes doubled); otherwise it is written as it is.
void write_field(std::ostream& out, std::string_view field, char delimiter);

}  // namespace distcf
