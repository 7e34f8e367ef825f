// Implicit-feedback ALS as a registered method.
#include <string>

#include "distcf/app/method.hpp"
#include "distcf/model/ials.hpp"

namespace distcf {

namespace {

class IalsMethod final : public TypedMethod<IalsParams> {
public:
    std::string name() const override { return "ials"; }
    std::string summary() const override { return "implicit-feedback ALS on interaction counts (Hu, Koren, Volinsky 2008)"; }
    bool iterative() const override { return true; }
    std::vector<std::string> resumable_differences() const override { return {"iters"}; }
    bool can_fold_in() const override { return true; }
    bool predicts_ratings() const override { return false; }

protected:
    TrainResult fit_typed(const TrainingSet& data, const IalsParams& p, const Comm& comm, const TrainHooks& hooks) const override {
        TrainResult r;
        FactorModel& m = r.model;
        m = starting_model(hooks, [&] { return init_ials(data.train, p, !defer_factors(hooks)); }, comm);
        m.params = to_record(p);
        run_ials(m, data.train, p, comm, iteration_hooks(hooks, p.iters), hooks.exchange);
        r.label = "ials (k=" + std::to_string(p.factors) + ", " + enum_name(p.confidence) + " confidence)";
        return r;
    }
    void fold_in_typed(const FactorModel& m, const IalsParams& p, const Csr& rows, std::vector<double>& factors,
                       std::vector<double>& bias) const override {
        ials_fold_in(m, p, rows, factors, bias);
    }
};

}  // namespace

std::unique_ptr<Method> make_ials_method() { return std::make_unique<IalsMethod>(); }

}  // namespace distcf
