#pragma once
/// @file params.hpp
/// @brief Typed method parameters: each method's parameter struct lists its fields once
/// (`fields(visitor)`), and that one list converts it to and from a ParamRecord -- the ordered,
/// typed (integer, real or word) form a model file keeps as attributes. Integers stay integers,
/// enumerations are stored as their names, and a value of the wrong type or an unknown name is
/// refused naming the field.

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "distcf/error.hpp"

namespace distcf {

/// One parameter's value: an integer, a real number or a word (an enumeration's name, a list).
using ParamValue = std::variant<std::int64_t, double, std::string>;

/// A method's parameters by name (sorted, so files and comparisons do not depend on the order
/// the fields were listed in).
class ParamRecord {
public:
    void set(const std::string& name, ParamValue v) { values_[name] = std::move(v); }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    const ParamValue& at(const std::string& name) const;
    std::int64_t integer(const std::string& name) const;
    double real(const std::string& name) const;  ///< an integer value reads as a real too
    const std::string& word(const std::string& name) const;
    const std::map<std::string, ParamValue>& values() const& { return values_; }
    /// Not on a temporary: `for (auto& x : f().values())` would iterate a destroyed map.
    const std::map<std::string, ParamValue>& values() const&& = delete;
    bool operator==(const ParamRecord& o) const { return values_ == o.values_; }
    /// The first name whose value differs from `o`'s ("" when equal), for messages that say which.
    std::string first_difference(const ParamRecord& o) const;

private:
    std::map<std::string, ParamValue> values_;
};

/// "name=value" for messages.
std::string to_string(const ParamValue& v);

/// Enumerations that parameters use declare their names once with DISTCF_ENUM_NAMES; the record
/// stores the name, and a file or command line naming anything else is refused with the choices.
template <class E>
struct EnumNames;  // specialised by DISTCF_ENUM_NAMES: static constexpr const char* names[]

#define DISTCF_ENUM_NAMES(E, ...)                                        \
    template <>                                                          \
    struct EnumNames<E> {                                                \
        static constexpr const char* names[] = {__VA_ARGS__};            \
    }

template <class E>
const char* enum_name(E e) {
    return EnumNames<E>::names[static_cast<int>(e)];
}

/// The value of `E` named `s`; `aliases` maps older names (e.g. "seed" -> "notebook").
template <class E>
E parse_enum(const std::string& field, const std::string& s, const std::map<std::string, std::string>& aliases = {}) {
    const auto a = aliases.find(s);
    const std::string& name = a == aliases.end() ? s : a->second;
    std::string choices;
    int i = 0;
    for (const char* n : EnumNames<E>::names) {
        if (name == n) return static_cast<E>(i);
        choices += (i ? ", " : "") + std::string(n);
        ++i;
    }
    throw InputError(field + ": must be one of " + choices + ", got '" + s + "'", __FILE__, __LINE__);
}

namespace detail {

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

std::string join_numbers(const std::vector<double>& v);
std::vector<double> split_numbers(const std::string& field, const std::string& s);

// Writes each visited field into a record.
struct ToRecord {
    ParamRecord& r;
    template <class T>
    void operator()(const char* name, const T& v) const {
        if constexpr (std::is_enum_v<T>) r.set(name, std::string(enum_name(v)));
        else if constexpr (std::is_same_v<T, bool>) r.set(name, std::int64_t{v ? 1 : 0});
        else if constexpr (std::is_integral_v<T>) r.set(name, static_cast<std::int64_t>(v));
        else if constexpr (std::is_floating_point_v<T>) r.set(name, static_cast<double>(v));
        else if constexpr (std::is_same_v<T, std::string>) r.set(name, v);
        else if constexpr (IsVector<T>::value) r.set(name, join_numbers(std::vector<double>(v.begin(), v.end())));
        else static_assert(sizeof(T) == 0, "unsupported parameter type");
    }
};

// Reads each visited field from a record when present; a wrong type is refused naming the field.
// `lenient` (files of format version 1, which kept every parameter as a double) accepts an
// integral real for an integer field.
struct FromRecord {
    const ParamRecord& r;
    bool lenient = false;
    template <class T>
    void operator()(const char* name, T& v) const {
        if (!r.has(name)) return;
        const ParamValue& x = r.at(name);
        if constexpr (std::is_enum_v<T>) {
            v = parse_enum<T>(name, word(name, x));
        } else if constexpr (std::is_integral_v<T>) {
            v = static_cast<T>(integer(name, x));
        } else if constexpr (std::is_floating_point_v<T>) {
            if (const auto* i = std::get_if<std::int64_t>(&x)) v = static_cast<T>(*i);
            else if (const auto* d = std::get_if<double>(&x)) v = static_cast<T>(*d);
            else throw InputError(std::string(name) + ": expected a number, got '" + std::get<std::string>(x) + "'", __FILE__, __LINE__);
        } else if constexpr (std::is_same_v<T, std::string>) {
            v = word(name, x);
        } else if constexpr (IsVector<T>::value) {
            v.clear();
            for (double d : split_numbers(name, word(name, x))) v.push_back(static_cast<typename T::value_type>(d));
        } else {
            static_assert(sizeof(T) == 0, "unsupported parameter type");
        }
    }
    std::int64_t integer(const char* name, const ParamValue& x) const;
    const std::string& word(const char* name, const ParamValue& x) const;
};

}  // namespace detail

/// The record of a parameter struct P (P lists its fields with `template <class V> void fields(V&&)`).
template <class P>
ParamRecord to_record(const P& p) {
    ParamRecord r;
    const_cast<P&>(p).fields(detail::ToRecord{r});  // fields() only reads through ToRecord
    return r;
}

/// P's defaults overridden by the record's values (names P does not have are refused).
template <class P>
P from_record(const ParamRecord& r, bool lenient = false) {
    P p;
    ParamRecord known;
    p.fields(detail::ToRecord{known});
    for (const auto& [name, v] : r.values())
        if (!known.has(name)) throw InputError(name + ": not a parameter of this method", __FILE__, __LINE__);
    p.fields(detail::FromRecord{r, lenient});
    return p;
}

/// How alternating methods solve each row: cholesky (exact) or cg (warm-started conjugate
/// gradient, cg_steps per row and half-step: O(n k) per step instead of O(n k^2 + k^3)); auto: cg
/// from kCgFromFactors factors on, where it is measured faster at the same accuracy
/// (docs/TUNING.md), cholesky below.
enum class RowSolverKind { Cholesky, Cg, Auto };
DISTCF_ENUM_NAMES(RowSolverKind, "cholesky", "cg", "auto");
constexpr int kCgFromFactors = 64;

/// The arithmetic of an alternating method's sweeps. double: the exact reference. single: factors,
/// Y^T Y, the exchanged rows and the conjugate-gradient kernels in float (half the bytes, twice
/// the SIMD lanes); the model file still holds doubles (the float values, exactly). Results are
/// bit-identical across rank and thread counts within a precision.
enum class Precision { Double, Single };
DISTCF_ENUM_NAMES(Precision, "double", "single");

/// Whether rows of `factors` factors are solved by conjugate gradient under `kind`: single
/// precision is conjugate gradient at every k (exact solves are double only).
constexpr bool uses_cg(RowSolverKind kind, int factors, Precision precision = Precision::Double) {
    return kind == RowSolverKind::Cg ||
           (kind == RowSolverKind::Auto && (factors >= kCgFromFactors || precision == Precision::Single));
}

}  // namespace distcf
