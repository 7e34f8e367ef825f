#include "distcf/data/ratings.hpp"

#include <algorithm>
#include <numeric>

#include "distcf/error.hpp"

namespace distcf {

IdMap IdMap::integers(std::vector<std::int64_t> ids) {
    IdMap m;
    m.integer_ = true;
    m.ints_ = std::move(ids);
    m.sorted_ = std::is_sorted(m.ints_.begin(), m.ints_.end());
    if (m.sorted_) {
        const auto dup = std::adjacent_find(m.ints_.begin(), m.ints_.end());
        if (dup != m.ints_.end()) DISTCF_THROW(InputError, "IDs: '" + std::to_string(*dup) + "' appears twice");
    } else {
        m.build_index();  // checks for duplicates too
    }
    return m;
}

IdMap IdMap::strings(std::vector<std::string> ids) {
    IdMap m;
    m.integer_ = false;
    m.strs_ = std::move(ids);
    if (std::is_sorted(m.strs_.begin(), m.strs_.end())) {  // imported stores: no index needed to check
        const auto dup = std::adjacent_find(m.strs_.begin(), m.strs_.end());
        if (dup != m.strs_.end()) DISTCF_THROW(InputError, "IDs: '" + *dup + "' appears twice");
    } else {
        m.build_index();
    }
    return m;
}

IdMap IdMap::identity(std::int64_t n) {
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), std::int64_t{0});
    return integers(std::move(v));
}

std::uint64_t IdMap::digest() const {
    std::uint64_t h = 1469598103934665603ULL ^ (integer_ ? 1 : 2);  // FNV-1a over the IDs
    const auto mix = [&](const void* p, std::size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ULL;
    };
    if (integer_) {
        mix(ints_.data(), ints_.size() * sizeof(std::int64_t));
    } else {
        for (const auto& s : strs_) {
            const std::uint64_t n = s.size();
            mix(&n, sizeof n);
            mix(s.data(), s.size());
        }
    }
    return h;
}

std::string IdMap::label(std::int64_t i) const {
    if (i < 0 || i >= size()) DISTCF_THROW(InputError, "IdMap: index " + std::to_string(i) + " out of range");
    return integer_ ? std::to_string(ints_[static_cast<std::size_t>(i)]) : strs_[static_cast<std::size_t>(i)];
}

void IdMap::build_index() const {
    if (!index_.empty() || size() == 0) return;
    index_.reserve(static_cast<std::size_t>(size()));
    for (std::int64_t i = 0; i < size(); ++i)
        if (!index_.emplace(label(i), i).second) {
            const std::string id = label(i);
            index_.clear();
            DISTCF_THROW(InputError, "IDs: '" + id + "' appears twice");
        }
}

std::optional<std::int64_t> IdMap::find(const std::string& external) const {
    if (integer_) {
        // Canonical integer text; binary search the sorted IDs.
        std::int64_t v = 0;
        try {
            std::size_t pos = 0;
            v = std::stoll(external, &pos);
            if (pos != external.size()) return std::nullopt;
        } catch (...) {
            return std::nullopt;
        }
        if (!sorted_) {  // a model grown by fold-in keeps its new users at the end
            build_index();
            const auto h = index_.find(std::to_string(v));
            if (h == index_.end()) return std::nullopt;
            return h->second;
        }
        auto it = std::lower_bound(ints_.begin(), ints_.end(), v);
        if (it != ints_.end() && *it == v) return it - ints_.begin();
        return std::nullopt;
    }
    build_index();
    auto it = index_.find(external);
    if (it == index_.end()) return std::nullopt;
    return it->second;
}

void RatingSlice::reserve(std::size_t n) {
    user.reserve(n);
    item.reserve(n);
    value.reserve(n);
}

std::vector<std::int64_t> row_pointers(std::int64_t row0, std::int64_t nrows, const std::vector<std::int32_t>& rows,
                                       const char* what) {
    std::vector<std::int64_t> ptr(static_cast<std::size_t>(nrows) + 1, 0);
    for (auto r : rows) {
        const std::int64_t lr = r - row0;
        if (lr < 0 || lr >= nrows) DISTCF_THROW(InputError, std::string(what) + ": row " + std::to_string(r) + " outside this block");
        ++ptr[static_cast<std::size_t>(lr) + 1];
    }
    for (std::int64_t i = 0; i < nrows; ++i) ptr[i + 1] += ptr[i];
    return ptr;
}

Csr build_csr(std::int64_t row0, std::int64_t nrows, const std::vector<std::int32_t>& rows,
              const std::vector<std::int32_t>& cols, const std::vector<double>& vals) {
    Csr c;
    c.row0 = row0;
    c.ptr = row_pointers(row0, nrows, rows, "build_csr");
    c.col.resize(rows.size());
    c.val.resize(rows.size());
    std::vector<std::int64_t> fill(c.ptr.begin(), c.ptr.end() - 1);
    for (std::size_t k = 0; k < rows.size(); ++k) {
        const auto pos = fill[static_cast<std::size_t>(rows[k] - row0)]++;
        c.col[pos] = cols[k];
        c.val[pos] = vals[k];
    }
    sort_rows(c);
    return c;
}

void sort_rows(Csr& c) {
    const std::int64_t nrows = c.rows();
#pragma omp parallel for schedule(dynamic, 256)
    for (std::int64_t i = 0; i < nrows; ++i) {
        const auto b = c.ptr[i], e = c.ptr[i + 1];
        bool sorted = true;
        for (auto k = b + 1; k < e && sorted; ++k) sorted = c.col[k - 1] <= c.col[k];
        if (sorted) continue;
        std::vector<std::pair<std::int32_t, double>> tmp;
        tmp.reserve(static_cast<std::size_t>(e - b));
        for (auto k = b; k < e; ++k) tmp.emplace_back(c.col[k], c.val[k]);
        std::sort(tmp.begin(), tmp.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
        for (auto k = b; k < e; ++k) {
            c.col[k] = tmp[static_cast<std::size_t>(k - b)].first;
            c.val[k] = tmp[static_cast<std::size_t>(k - b)].second;
        }
    }
}

}  // namespace distcf
