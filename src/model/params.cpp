#include "distcf/model/params.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace distcf {

const ParamValue& ParamRecord::at(const std::string& name) const {
    const auto it = values_.find(name);
    if (it == values_.end()) DISTCF_THROW(InputError, name + ": no such parameter in this model");
    return it->second;
}

std::int64_t ParamRecord::integer(const std::string& name) const { return detail::FromRecord{*this}.integer(name.c_str(), at(name)); }

double ParamRecord::real(const std::string& name) const {
    const ParamValue& x = at(name);
    if (const auto* i = std::get_if<std::int64_t>(&x)) return static_cast<double>(*i);
    if (const auto* d = std::get_if<double>(&x)) return *d;
    DISTCF_THROW(InputError, name + ": expected a number, got '" + std::get<std::string>(x) + "'");
}

const std::string& ParamRecord::word(const std::string& name) const { return detail::FromRecord{*this}.word(name.c_str(), at(name)); }

std::string ParamRecord::first_difference(const ParamRecord& o) const {
    for (const auto& [name, v] : values_) {
        const auto it = o.values_.find(name);
        if (it == o.values_.end() || it->second != v) return name;
    }
    for (const auto& [name, v] : o.values_)
        if (!has(name)) return name;
    return "";
}

std::string to_string(const ParamValue& v) {
    if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    if (const auto* d = std::get_if<double>(&v)) return detail::join_numbers({*d});
    return std::get<std::string>(v);
}

namespace detail {

std::string join_numbers(const std::vector<double>& v) {
    std::string s;
    for (double x : v) {
        char b[32];  // the shortest text that reads back as the same double
        const auto r = std::to_chars(b, b + sizeof b, x);
        s += (s.empty() ? "" : ",") + std::string(b, r.ptr);
    }
    return s;
}

std::vector<double> split_numbers(const std::string& field, const std::string& s) {
    std::vector<double> out;
    std::size_t pos = 0;
    while (pos <= s.size() && !s.empty()) {
        const auto comma = s.find(',', pos);
        const std::string part = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        double d = 0;
        const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), d);
        if (ec != std::errc() || p != part.data() + part.size() || part.empty())
            DISTCF_THROW(InputError, field + ": not a comma-separated list of numbers: '" + s + "'");
        out.push_back(d);
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return out;
}

std::int64_t FromRecord::integer(const char* name, const ParamValue& x) const {
    if (const auto* i = std::get_if<std::int64_t>(&x)) return *i;
    if (const auto* d = std::get_if<double>(&x)) {
        // Format version 1 kept every parameter as a double.
        if (lenient && std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) < 9.0e15) return static_cast<std::int64_t>(*d);
        DISTCF_THROW(InputError, std::string(name) + ": expected an integer, got " + to_string(x));
    }
    DISTCF_THROW(InputError, std::string(name) + ": expected an integer, got '" + std::get<std::string>(x) + "'");
}

const std::string& FromRecord::word(const char* name, const ParamValue& x) const {
    if (const auto* s = std::get_if<std::string>(&x)) return *s;
    DISTCF_THROW(InputError, std::string(name) + ": expected a word, got " + to_string(x));
}

}  // namespace detail

}  // namespace distcf
