#include "distcf/app/model_file.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"

namespace distcf {

void write_seen(const h5::File& f, const Csr& by_user, std::int64_t n_users, const Comm& comm) {
    const std::int64_t nnz = by_user.nnz(), offset = comm.exscan_sum(nnz), total = comm.sum(nnz);
    f.require_group("/seen");
    // Not compressed: deflating u1's 80,000 items took 2 ms of a 0.15 s run, for 0.3 MB saved.
    const h5::Layout plain{.chunked = false};
    const auto ptr = f.create_dataset<std::int64_t>("/seen/ptr", n_users + 1, 0, plain);
    const auto items = f.create_dataset<std::int32_t>("/seen/items", total, 0, plain);
    // Every rank writes its rows' starts; the last rank also writes the final end.
    const bool last = comm.rank() == comm.size() - 1;
    std::vector<std::int64_t> p(by_user.ptr.begin(), by_user.ptr.end() - (last ? 0 : 1));
    for (auto& x : p) x += offset;
    ptr.write_rows(by_user.row0, static_cast<std::int64_t>(p.size()), p.data());
    items.write_rows(offset, nnz, by_user.col.data());
}

bool has_seen(const h5::File& f) { return f.exists("/seen/ptr"); }

SeenItems read_seen(const h5::File& f, std::int64_t u0, std::int64_t u1, std::int64_t n_items) {
    SeenItems s;
    s.row0 = u0;
    if (!has_seen(f)) {
        s.ptr.assign(static_cast<std::size_t>(u1 - u0) + 1, 0);
        return s;
    }
    const auto fail = [&](const std::string& why) { DISTCF_THROW(InputError, f.file_path() + ": " + why); };
    const h5::Dataset ptr = f.dataset("/seen/ptr"), items = f.dataset("/seen/items");
    if (u1 + 1 > ptr.rows()) fail("/seen/ptr has " + std::to_string(ptr.rows()) + " entries, the model has more users");
    s.ptr = ptr.read_rows<std::int64_t>(u0, u1 - u0 + 1);
    for (std::size_t r = 0; r + 1 < s.ptr.size(); ++r)
        if (s.ptr[r + 1] < s.ptr[r]) fail("/seen/ptr decreases at user " + std::to_string(u0 + static_cast<std::int64_t>(r)));
    const std::int64_t b = s.ptr.front();
    if (b < 0 || s.ptr.back() > items.rows()) fail("/seen/ptr points outside /seen/items");
    s.items = items.read_rows<std::int32_t>(b, s.ptr.back() - b);
    for (auto& x : s.ptr) x -= b;
    for (std::size_t r = 0; r + 1 < s.ptr.size(); ++r)
        for (auto q = s.ptr[r]; q < s.ptr[r + 1]; ++q)
            if (s.items[q] < 0 || s.items[q] >= n_items || (q > s.ptr[r] && s.items[q] <= s.items[q - 1]))
                fail("/seen/items of user " + std::to_string(u0 + static_cast<std::int64_t>(r)) +
                     " are not ascending item indices below n_items");
    return s;
}

namespace {

void write_param(const h5::Location& g, const std::string& name, const ParamValue& v) {
    std::visit([&](const auto& x) { g.set_attr(name, x); }, v);
}

ParamValue read_param(const h5::Location& g, const std::string& name) {
    switch (g.attr_kind(name)) {
        case h5::Location::AttrKind::Integer: return g.attr_int(name);
        case h5::Location::AttrKind::Real: return g.attr_double(name);
        case h5::Location::AttrKind::String: return g.attr_string(name);
        default: DISTCF_THROW(InputError, g.file_path() + ": /model attribute '" + name + "' is not a number or a word");
    }
}

// Format version 1 kept `formulation` and `lambda` beside the parameters, and every parameter as
// a double under other names; this translates them into version 2's record.
ParamRecord version1_params(const h5::Location& g, const std::string& method) {
    std::map<std::string, double> old;
    for (const auto& name : g.attr_names())
        if (name.rfind("param_", 0) == 0) old[name.substr(6)] = g.attr_double(name);
    const auto get = [&](const char* n, double fallback) { return old.count(n) ? old[n] : fallback; };
    const std::string formulation = g.has_attr("formulation") ? g.attr_string("formulation") : "";
    const auto estimator = [](const std::string& f) { return std::string(f == "seed" ? "notebook" : f.empty() ? "regularized" : f); };
    const std::int64_t k = g.attr_int("rank");
    ParamRecord r;
    if (method == "als") {
        r.set("formulation", std::string(formulation == "seed" ? "notebook" : "biased"));
        r.set("factors", k);
        r.set("lambda", g.attr_double("lambda"));
        r.set("iters", static_cast<std::int64_t>(get("iters", 20)));
        r.set("tol", get("tol", 0.0));
        r.set("rng_seed", static_cast<std::int64_t>(get("seed", 42)));
        r.set("init_sd", get("init_sd", 0.1));
        const int code = static_cast<int>(get("row_solve", 0));
        r.set("row_solve", std::string(code == 1 ? "primal" : code == 2 ? "dual" : "auto"));
    } else if (method == "ials") {
        r.set("factors", k);
        r.set("lambda", g.attr_double("lambda"));
        r.set("confidence", formulation.empty() ? std::string("linear") : formulation);
        r.set("alpha", get("alpha", 40.0));
        r.set("epsilon", get("epsilon", 1.0));
        const auto cg = static_cast<std::int64_t>(get("cg_steps", 0));
        r.set("solver", std::string(cg > 0 ? "cg" : "cholesky"));
        if (cg > 0) r.set("cg_steps", cg);
    } else if (method == "baseline") {
        r.set("estimator", estimator(formulation));
        if (old.count("baseline_lambda_user")) r.set("lambda_user", old["baseline_lambda_user"]);
        if (old.count("baseline_lambda_item")) r.set("lambda_item", old["baseline_lambda_item"]);
        if (old.count("baseline_rounds")) r.set("rounds", static_cast<std::int64_t>(old["baseline_rounds"]));
    } else if (method == "svd") {
        r.set("baseline_estimator", estimator(formulation));
        for (const char* n : {"block_size", "oversample", "power_iters"})
            if (old.count(n)) r.set(n, static_cast<std::int64_t>(old[n]));
    } else {
        DISTCF_THROW(InputError, g.file_path() + ": model format_version 1 has no method '" + method + "'");
    }
    return r;
}

// Every array against the header, before anything uses them: a file edited or cut short must fail
// here with a message naming what is wrong, never later with a wrong answer or a crash.
// `held_users`: the user rows read (all of them unless the model was read for some users).
void validate(const std::string& path, const FactorModel& m, std::int64_t held_users) {
    const auto fail = [&](const std::string& why) { DISTCF_THROW(InputError, path + ": " + why); };
    if (m.n_users < 0 || m.n_items < 0 || m.n_factors < 0)
        fail("negative n_users, n_items or n_factors in /model");
    if (!(std::isfinite(m.rating_min) && std::isfinite(m.rating_max) && m.rating_min < m.rating_max))
        fail("/model rating_min " + std::to_string(m.rating_min) + " must be below rating_max " + std::to_string(m.rating_max));
    if (!std::isfinite(m.mu) || !std::isfinite(m.global_mean)) fail("/model mu or global_mean is not finite");
    if (!(std::isfinite(m.factor_scale) && m.factor_scale > 0)) fail("/model factor_scale must be a positive number");
    const auto sized = [&](std::size_t have, std::int64_t want, const char* name, bool may_be_empty) {
        if ((may_be_empty && have == 0) || static_cast<std::int64_t>(have) == want) return;
        fail(std::string(name) + " has " + std::to_string(have) + " values, the header needs " + std::to_string(want));
    };
    sized(m.U.size(), held_users * m.n_factors, "/model/user_factors", false);
    sized(m.user_bias.size(), held_users, "/model/user_bias", true);
    sized(m.V.size(), m.n_items * m.n_factors, "/model/item_factors", false);
    sized(m.item_bias.size(), m.n_items, "/model/item_bias", true);
    sized(m.user_counts.size(), m.n_users, "/model/user_counts", false);
    sized(m.item_counts.size(), m.n_items, "/model/item_counts", false);
    const auto finite = [&](const std::vector<double>& v, const char* name) {
        for (std::size_t e = 0; e < v.size(); ++e)
            if (!std::isfinite(v[e])) fail(std::string(name) + " holds a value that is not finite (at " + std::to_string(e) + ")");
    };
    finite(m.U, "/model/user_factors");
    finite(m.V, "/model/item_factors");
    finite(m.user_bias, "/model/user_bias");
    finite(m.item_bias, "/model/item_bias");
    for (const auto* counts : {&m.user_counts, &m.item_counts})
        for (auto c : *counts)
            if (c < 0) fail(std::string(counts == &m.user_counts ? "/model/user_counts" : "/model/item_counts") + " holds a negative count");
}

}  // namespace

namespace {

// Whether every value is a float's: then float32 storage holds it exactly. Checked a block at a
// time with no exit inside one, so that the compiler vectorizes the block (a test and branch per
// value took 1 ms of Bayesian MF's u1 model, 1.9M values).
bool floats_only(const std::vector<double>& v) {
    constexpr std::size_t kBlock = 1024;
    for (std::size_t b = 0; b < v.size(); b += kBlock) {
        const std::size_t e = std::min(v.size(), b + kBlock);
        bool same = true;
        for (std::size_t j = b; j < e; ++j) same &= static_cast<double>(static_cast<float>(v[j])) == v[j];
        if (!same) return false;
    }
    return true;
}

// A factor array (rows x width; width 0: 1-D) of a model holding every row (rank 0's reach the
// file) or each rank's own block starting at `begin` (every rank writes its rows): the same file.
// Arrays whose every value is a float's (single-precision factors; Bayesian MF's kept samples,
// rounded when kept) are stored as float32: half the bytes to write, to read back and -- on a
// file system mounted with discard -- to discard when the next run replaces the file, and nothing
// lost (HDF5 converts on reading; the values read are the ones written).
void write_factor_rows(const h5::File& f, const std::string& name, const std::vector<double>& v, bool blocks,
                       std::int64_t rows, std::int64_t begin, std::int64_t width) {
    const Comm comm = f.comm();
    const bool any_values = comm.any(!v.empty());  // none: a side without biases, empty on every rank
    const bool as_float = any_values && !comm.any(!floats_only(v));  // the same on every rank
    const std::int64_t w = std::max<std::int64_t>(width, 1);
    if (!blocks || !any_values) {  // every rank holds the whole array: rank 0 writes it
        rows = static_cast<std::int64_t>(v.size()) / w;
        begin = 0;
    }
    const h5::Layout contiguous{.chunked = false};  // as write_vector lays it out
    const std::int64_t mine = blocks || comm.rank() == 0 ? static_cast<std::int64_t>(v.size()) / w : 0;
    if (!as_float) {
        f.create_dataset<double>(name, rows, width, contiguous).write_rows(begin, mine, v.data());
        return;
    }
    // Converted here a slab at a time, not by HDF5 (its conversion took longer than writing the
    // doubles: 9 ms against 6 for Bayesian MF's u1 model); the copy never holds more than a slab,
    // and every rank makes the same number of collective writes. One process: 1 MiB (one buffer,
    // warm in cache); a parallel file: 64 MiB (each collective write has its own fixed cost).
    const h5::Dataset d = f.create_dataset<float>(name, rows, width, contiguous);
    const std::int64_t bytes = std::int64_t{1} << (f.parallel() ? 26 : 20);
    const std::int64_t slab = std::max<std::int64_t>(1, bytes / (4 * w));
    const std::int64_t calls = comm.max<std::int64_t>((mine + slab - 1) / slab);
    std::vector<float> buf;
    for (std::int64_t c = 0; c < calls; ++c) {
        const std::int64_t r0 = std::min(c * slab, mine), n = std::min(slab, mine - r0);
        buf.assign(v.begin() + r0 * w, v.begin() + (r0 + n) * w);
        d.write_rows(begin + r0, n, buf.data());
    }
}

}  // namespace

void save_model(const std::string& path, const FactorModel& m, const IdMap& users, const IdMap& items,
                const Provenance& prov, const Comm& comm, const std::function<void(h5::File&)>& extra,
                const Csr* seen_by_user) {
    AtomicOutput out(path, comm);
    {
        h5::File f = h5::File::create(out.temp_path(), comm, out.target());
        f.set_attr("format", std::string("distcf-model"));
        f.set_attr("format_version", kModelFormatVersion);
        f.set_attr("complete", std::int64_t{m.complete ? 1 : 0});
        prov.write(f);
        {  // the group closes before the file does (File::close refuses open objects)
            const auto g = f.create_group("/model");
            g.set_attr("method", m.method);
            g.set_attr("n_factors", std::int64_t{m.n_factors});
            g.set_attr("k_selected", std::int64_t{m.k_selected});
            g.set_attr("factor_scale", m.factor_scale);
            g.set_attr("n_users", m.n_users);
            g.set_attr("n_items", m.n_items);
            g.set_attr("mu", m.mu);
            g.set_attr("global_mean", m.global_mean);
            g.set_attr("rating_min", m.rating_min);
            g.set_attr("rating_max", m.rating_max);
            g.set_attr("iterations_done", m.iterations_done);
            g.set_attr("best_iteration", m.best_iteration);
            for (const auto& [name, v] : m.params.values()) write_param(g, "param_" + name, v);
        }
        const std::int64_t k = std::max(m.n_factors, 1);
        const bool blocks = comm.any(!holds_every_row(m));  // the same on every rank: collective writes
        write_factor_rows(f, "/model/user_bias", m.user_bias, blocks, m.n_users, m.rows.user_begin, 0);
        write_factor_rows(f, "/model/item_bias", m.item_bias, blocks, m.n_items, m.rows.item_begin, 0);
        write_factor_rows(f, "/model/user_factors", m.U, blocks, m.n_users, m.rows.user_begin, k);
        write_factor_rows(f, "/model/item_factors", m.V, blocks, m.n_items, m.rows.item_begin, k);
        f.write_vector("/model/user_counts", m.user_counts);
        f.write_vector("/model/item_counts", m.item_counts);
        f.write_vector("/history/objective", m.history.objective);
        f.write_vector("/history/train_rmse", m.history.train_rmse);
        f.write_vector("/history/test_rmse", m.history.test_rmse);
        f.write_vector("/history/seconds", m.history.seconds);
        f.write_vector("/history/gflops", m.history.gflops);
        write_ids(f, "/ids/users", users);
        write_ids(f, "/ids/items", items);
        if (seen_by_user) write_seen(f, *seen_by_user, m.n_users, comm);
        if (!m.state.empty()) {  // a method's own arrays: /state/names lists them
            std::vector<std::string> names;
            for (const auto& [name, v] : m.state) {
                names.push_back(name);
                f.write_vector("/state/" + name, v);
            }
            f.write_strings("/state/names", names);
        }
        if (extra) extra(f);
        f.close();
    }
    out.commit();
}

FactorModel load_model(const std::string& path, const Comm& comm, IdMap* users, IdMap* items, const UserRowChooser& users_only) {
    h5::File f = h5::File::open(path, comm);
    if (!f.has_attr("format") || f.attr_string("format") != "distcf-model")
        DISTCF_THROW(InputError, path + ": not a distcf model file (root attribute format != 'distcf-model')");
    const std::int64_t version = f.attr_int("format_version");
    if (version != 1 && version != kModelFormatVersion)
        DISTCF_THROW(InputError, path + ": model format_version " + std::to_string(version) +
                                     " is not supported (this distcf reads versions 1 and 2)");
    FactorModel m;
    if (f.has_attr("complete")) m.complete = f.attr_int("complete") != 0;
    const auto g = f.group("/model");
    m.method = g.attr_string("method");
    // Checked before the narrowing casts below (2^32 + 8 must not read as 8).
    const auto small = [&](const char* name) {
        const std::int64_t v = g.attr_int(name);
        if (v < 0 || v > 1 << 20) DISTCF_THROW(InputError, path + ": /model " + std::string(name) + " = " + std::to_string(v) + " is out of range");
        return static_cast<int>(v);
    };
    if (version == 1) {
        m.n_factors = small("rank");
        m.params = version1_params(g, m.method);
        if (g.has_attr("param_k_selected")) m.k_selected = static_cast<int>(g.attr_double("param_k_selected"));
    } else {
        m.n_factors = small("n_factors");
        m.k_selected = small("k_selected");
        m.factor_scale = g.attr_double("factor_scale");
        for (const auto& name : g.attr_names())
            if (name.rfind("param_", 0) == 0) m.params.set(name.substr(6), read_param(g, name));
    }
    m.n_users = g.attr_int("n_users");
    m.n_items = g.attr_int("n_items");
    m.mu = g.attr_double("mu");
    m.global_mean = g.attr_double("global_mean");
    m.rating_min = g.attr_double("rating_min");
    m.rating_max = g.attr_double("rating_max");
    m.iterations_done = g.attr_int("iterations_done");
    if (g.has_attr("best_iteration")) m.best_iteration = g.attr_int("best_iteration");
    m.user_counts = f.read_vector<std::int64_t>("/model/user_counts");
    m.item_counts = f.read_vector<std::int64_t>("/model/item_counts");
    m.item_bias = f.read_vector<double>("/model/item_bias");
    m.V = f.read_vector<double>("/model/item_factors");
    std::int64_t held_users = m.n_users;
    if (users_only) {
        if (static_cast<std::int64_t>(m.user_counts.size()) != m.n_users)
            DISTCF_THROW(InputError, path + ": /model/user_counts has " + std::to_string(m.user_counts.size()) +
                                         " values, the header needs " + std::to_string(m.n_users));
        const auto [b, e] = users_only(m.user_counts);
        // Every rank reads its rows in the same collective calls (its range may be empty).
        if (b < 0 || e > m.n_users || b > e) DISTCF_THROW(InternalError, "load_model: user rows outside the model");
        const auto rows_of = [&](const char* name) {
            const h5::Dataset d = f.dataset(name);  // the same extent on every rank: the same branch
            if (d.rows() == 0) return std::vector<double>{};  // no biases, or no factors (the baseline)
            if (d.rows() != m.n_users)
                DISTCF_THROW(InputError, path + ": " + name + " has " + std::to_string(d.rows()) + " rows, the header says " +
                                             std::to_string(m.n_users) + " users");
            return d.read_rows<double>(b, e - b);
        };
        m.user_bias = rows_of("/model/user_bias");
        m.U = rows_of("/model/user_factors");
        m.rows.user_begin = b;
        held_users = e - b;
    } else {
        m.user_bias = f.read_vector<double>("/model/user_bias");
        m.U = f.read_vector<double>("/model/user_factors");
    }
    m.history.objective = f.read_vector<double>("/history/objective");
    m.history.train_rmse = f.read_vector<double>("/history/train_rmse");
    m.history.test_rmse = f.read_vector<double>("/history/test_rmse");
    m.history.seconds = f.read_vector<double>("/history/seconds");
    m.history.gflops = f.read_vector<double>("/history/gflops");
    validate(path, m, held_users);
    if (f.exists("/state/names"))
        for (const auto& name : f.read_strings("/state/names")) m.state[name] = f.read_vector<double>("/state/" + name);
    // The ID maps' lengths are checked against the header whether or not the caller reads them.
    const std::int64_t nu = f.dataset("/ids/users").rows(), ni = f.dataset("/ids/items").rows();
    if (nu != m.n_users || ni != m.n_items)
        DISTCF_THROW(InputError, path + ": /ids/users has " + std::to_string(nu) + " IDs and /ids/items " +
                                     std::to_string(ni) + ", the header says " + std::to_string(m.n_users) +
                                     " users and " + std::to_string(m.n_items) + " items");
    if (users) *users = read_ids(f, "/ids/users");
    if (items) *items = read_ids(f, "/ids/items");
    return m;
}

void warm_start(FactorModel& m, const std::string& path, const Comm& comm) {
    h5::File f = h5::File::open(path, comm);
    const std::string base = f.exists("/init/user_factors") ? "/init" : "/model";
    if (!f.exists(base + "/user_factors"))
        DISTCF_THROW(InputError, path + ": no /init or /model factors to start from");
    auto U = f.read_vector<double>(base + "/user_factors");
    auto V = f.read_vector<double>(base + "/item_factors");
    if (static_cast<std::int64_t>(U.size()) != m.n_users * m.n_factors ||
        static_cast<std::int64_t>(V.size()) != m.n_items * m.n_factors)
        DISTCF_THROW(InputError, path + ": " + base + " factors do not match " + std::to_string(m.n_users) + " users, " +
                                     std::to_string(m.n_items) + " items and " + std::to_string(m.n_factors) + " factors");
    m.U = std::move(U);
    m.V = std::move(V);
    if (base == "/model" && f.exists("/model/item_bias") && !m.item_bias.empty()) {
        auto bi = f.read_vector<double>("/model/item_bias");
        if (bi.size() == m.item_bias.size()) m.item_bias = std::move(bi);
    }
}

}  // namespace distcf
