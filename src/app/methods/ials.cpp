// Implicit-feedback ALS as a registered method.
#include <cstdio>
#include <string>

#include "distcf/app/method.hpp"
#include "distcf/data/distribute.hpp"
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
        if (p.validation_fraction > 0) {
            // Fit on the rest of the training interactions, rank the held-out ones.
            HoldOut h = hold_out(data.train, p.validation_fraction, p.rng_seed, comm);
            m = starting_model(hooks, [&] { return init_ials(h.fit, p, !defer_factors(hooks)); }, comm);
            m.params = to_record(p);
            run_ials(m, h.fit, p, comm, iteration_hooks(hooks, p.iters), hooks.exchange, &h.held_out);
            char what[200];
            std::snprintf(what, sizeof what,
                          "validation: %lld training interactions held out (%g), the model fitted to the other %lld; NDCG@%d over about "
                          "%lld of their users",
                          static_cast<long long>(comm.sum(h.held_out.nnz())), p.validation_fraction, static_cast<long long>(h.fit.nnz),
                          kIalsValidationTop, static_cast<long long>(p.validation_users));
            r.report.push_back(what);
            if (m.best_iteration > 0 && m.best_iteration < m.iterations_done)
                r.report.push_back("early stopping: the best validation NDCG@" + std::to_string(kIalsValidationTop) + " came at iteration " +
                                   std::to_string(m.best_iteration) + " of " + std::to_string(m.iterations_done) +
                                   "; the model holds that iteration's factors");
        } else {
            m = starting_model(hooks, [&] { return init_ials(data.train, p, !defer_factors(hooks)); }, comm);
            m.params = to_record(p);
            run_ials(m, data.train, p, comm, iteration_hooks(hooks, p.iters), hooks.exchange);
        }
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
