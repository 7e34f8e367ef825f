// The method registry: one line per method. A new method is one file in src/app/methods/ and
// one line here (its factory's declaration beside its registration).
#include <memory>

#include "distcf/app/method.hpp"
#include "distcf/error.hpp"

namespace distcf {

std::unique_ptr<Method> make_baseline_method();
std::unique_ptr<Method> make_als_method();
std::unique_ptr<Method> make_ials_method();
std::unique_ptr<Method> make_svd_method();
std::unique_ptr<Method> make_bpmf_method();

namespace {

const std::vector<std::unique_ptr<Method>>& registry() {
    static const std::vector<std::unique_ptr<Method>> methods = [] {
        std::vector<std::unique_ptr<Method>> m;
        m.push_back(make_baseline_method());
        m.push_back(make_als_method());
        m.push_back(make_ials_method());
        m.push_back(make_svd_method());
        m.push_back(make_bpmf_method());
        return m;
    }();
    return methods;
}

}  // namespace

void Method::fold_in(const FactorModel& m, const Csr&, std::vector<double>&, std::vector<double>&) const {
    std::string can;
    for (const auto& other : registry())
        if (other->can_fold_in()) can += (can.empty() ? "" : ", ") + other->name();
    DISTCF_THROW(InputError, "fold-in: method '" + name() + "' cannot fold in new users (model: '" + m.method +
                                 "'); the methods that can: " + can);
}

const Method& find_method(const std::string& name) {
    std::string names;
    for (const auto& m : registry()) {
        if (m->name() == name) return *m;
        names += (names.empty() ? "" : ", ") + m->name();
    }
    DISTCF_THROW(InputError, "method: unknown method '" + name + "' (one of: " + names + ")");
}

std::vector<std::string> method_names() {
    std::vector<std::string> names;
    for (const auto& m : registry()) names.push_back(m->name());
    return names;
}

}  // namespace distcf
