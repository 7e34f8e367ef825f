#include "distcf/app/model_file.hpp"

#include <algorithm>
#include <map>

#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"

namespace distcf {

void write_seen(const h5::File& f, const Csr& by_user, std::int64_t n_users, const Comm& comm) {
    const std::int64_t nnz = by_user.nnz(), offset = comm.exscan_sum(nnz), total = comm.sum(nnz);
    f.require_group("/seen");
    const auto ptr = f.create_dataset<std::int64_t>("/seen/ptr", n_users + 1);
    const auto items = f.create_dataset<std::int32_t>("/seen/items", total);
    // Every rank writes its rows' starts; the last rank also writes the final end.
    const bool last = comm.rank() == comm.size() - 1;
    std::vector<std::int64_t> p(by_user.ptr.begin(), by_user.ptr.end() - (last ? 0 : 1));
    for (auto& x : p) x += offset;
    ptr.write_rows(by_user.row0, static_cast<std::int64_t>(p.size()), p.data());
    items.write_rows(offset, nnz, by_user.col.data());
}

bool has_seen(const h5::File& f) { return f.exists("/seen/ptr"); }

SeenItems read_seen(const h5::File& f, std::int64_t u0, std::int64_t u1) {
    SeenItems s;
    s.row0 = u0;
    if (!has_seen(f)) {
        s.ptr.assign(static_cast<std::size_t>(u1 - u0) + 1, 0);
        return s;
    }
    s.ptr = f.dataset("/seen/ptr").read_rows<std::int64_t>(u0, u1 - u0 + 1);
    const std::int64_t b = s.ptr.front();
    s.items = f.dataset("/seen/items").read_rows<std::int32_t>(b, s.ptr.back() - b);
    for (auto& x : s.ptr) x -= b;
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

}  // namespace

void save_model(const std::string& path, const FactorModel& m, const IdMap& users, const IdMap& items,
                const Provenance& prov, const Comm& comm, const std::function<void(h5::File&)>& extra,
                const Csr* seen_by_user) {
    AtomicOutput out(path, comm);
    {
        h5::File f = h5::File::create(out.temp_path(), comm);
        f.set_attr("format", std::string("distcf-model"));
        f.set_attr("format_version", kModelFormatVersion);
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
            for (const auto& [name, v] : m.params.values()) write_param(g, "param_" + name, v);
        }
        f.write_vector("/model/user_bias", m.user_bias);
        f.write_vector("/model/item_bias", m.item_bias);
        f.write_vector("/model/user_factors", m.U, std::max(m.n_factors, 1));
        f.write_vector("/model/item_factors", m.V, std::max(m.n_factors, 1));
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

FactorModel load_model(const std::string& path, const Comm& comm, IdMap* users, IdMap* items) {
    h5::File f = h5::File::open(path, comm);
    if (!f.has_attr("format") || f.attr_string("format") != "distcf-model")
        DISTCF_THROW(InputError, path + ": not a distcf model file (root attribute format != 'distcf-model')");
    const std::int64_t version = f.attr_int("format_version");
    if (version != 1 && version != kModelFormatVersion)
        DISTCF_THROW(InputError, path + ": model format_version " + std::to_string(version) +
                                     " is not supported (this distcf reads versions 1 and 2)");
    FactorModel m;
    const auto g = f.group("/model");
    m.method = g.attr_string("method");
    if (version == 1) {
        m.n_factors = static_cast<int>(g.attr_int("rank"));
        m.params = version1_params(g, m.method);
        if (g.has_attr("param_k_selected")) m.k_selected = static_cast<int>(g.attr_double("param_k_selected"));
    } else {
        m.n_factors = static_cast<int>(g.attr_int("n_factors"));
        m.k_selected = static_cast<int>(g.attr_int("k_selected"));
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
    m.user_bias = f.read_vector<double>("/model/user_bias");
    m.item_bias = f.read_vector<double>("/model/item_bias");
    m.U = f.read_vector<double>("/model/user_factors");
    m.V = f.read_vector<double>("/model/item_factors");
    m.user_counts = f.read_vector<std::int64_t>("/model/user_counts");
    m.item_counts = f.read_vector<std::int64_t>("/model/item_counts");
    m.history.objective = f.read_vector<double>("/history/objective");
    m.history.train_rmse = f.read_vector<double>("/history/train_rmse");
    m.history.test_rmse = f.read_vector<double>("/history/test_rmse");
    m.history.seconds = f.read_vector<double>("/history/seconds");
    m.history.gflops = f.read_vector<double>("/history/gflops");
    const auto rows_ok = [&](const std::vector<double>& v, std::int64_t n, int w) {
        return v.empty() || static_cast<std::int64_t>(v.size()) == n * w;
    };
    if (!rows_ok(m.U, m.n_users, m.n_factors) || !rows_ok(m.V, m.n_items, m.n_factors) ||
        !rows_ok(m.user_bias, m.n_users, 1) || !rows_ok(m.item_bias, m.n_items, 1))
        DISTCF_THROW(InputError, path + ": inconsistent shapes in /model");
    if (m.k_selected < 0 || m.k_selected > m.n_factors)
        DISTCF_THROW(InputError, path + ": /model k_selected " + std::to_string(m.k_selected) + " is outside [0, " +
                                     std::to_string(m.n_factors) + "]");
    if (f.exists("/state/names"))
        for (const auto& name : f.read_strings("/state/names")) m.state[name] = f.read_vector<double>("/state/" + name);
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
