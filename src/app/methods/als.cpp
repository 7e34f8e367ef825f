// Explicit ALS as a registered method.
#include <cstdio>

#include "distcf/app/method.hpp"
#include "distcf/data/distribute.hpp"
#include "distcf/model/als.hpp"

namespace distcf {

namespace {

class AlsMethod final : public TypedMethod<AlsParams> {
public:
    std::string name() const override { return "als"; }
    std::string summary() const override { return "alternating least squares on explicit ratings (distributed)"; }
    bool iterative() const override { return true; }
    std::vector<std::string> resumable_differences() const override { return {"iters", "tol"}; }
    bool can_fold_in() const override { return true; }

protected:
    TrainResult fit_typed(const TrainingSet& data, const AlsParams& p, const Comm& comm, const TrainHooks& hooks) const override {
        TrainResult r;
        FactorModel& m = r.model;
        if (p.validation_fraction > 0) {
            // Fit on the rest of the training ratings; the test ratings follow the new user blocks.
            HoldOut h = hold_out(data.train, p.validation_fraction, p.rng_seed, comm);
            const RatingSlice t = slice_of(data.test);
            const Csr test = route_rows(t.user, t.item, t.value, h.fit.users, comm);
            m = starting_model(hooks, [&] { return init_als(h.fit, p, !defer_factors(hooks)); }, comm);
            m.params = to_record(p);
            run_als(m, h.fit, test, p, comm, iteration_hooks(hooks, p.iters), &h.held_out, hooks.exchange);
            char what[160];
            std::snprintf(what, sizeof what, "validation: %lld training ratings held out (%g), the model fitted to the other %lld",
                          static_cast<long long>(comm.sum(h.held_out.nnz())), p.validation_fraction, static_cast<long long>(h.fit.nnz));
            r.report.push_back(what);
            if (m.best_iteration > 0 && m.best_iteration < m.iterations_done)
                r.report.push_back("early stopping: the best validation RMSE came at iteration " + std::to_string(m.best_iteration) +
                                   " of " + std::to_string(m.iterations_done) + "; the model holds that iteration's factors");
        } else {
            m = starting_model(hooks, [&] { return init_als(data.train, p, !defer_factors(hooks)); }, comm);
            m.params = to_record(p);  // a resumed run continues under the new iteration count
            run_als(m, data.train, data.test, p, comm, iteration_hooks(hooks, p.iters), nullptr, hooks.exchange);
        }
        // Too much regularisation drives every factor to zero: say so, the model is biases alone.
        const double rms = factor_norm_rms(m, comm);
        if (rms < 1e-6) {
            char warn[320];
            std::snprintf(warn, sizeof warn,
                          "warning: the factors collapsed to zero (RMS user factor norm x RMS item factor norm %.1e): lambda = %g is too "
                          "large for these data and the model is its biases alone; try a smaller --lambda (distcf sweep finds one)",
                          rms, p.lambda);
            r.report.push_back(warn);
        }
        char label[96];
        std::snprintf(label, sizeof label, "als (%s, k=%d, lambda=%g)", enum_name(p.formulation), p.factors, p.lambda);
        r.label = label;
        return r;
    }
    void fold_in_typed(const FactorModel& m, const AlsParams& p, const Csr& rows, std::vector<double>& factors,
                       std::vector<double>& bias) const override {
        als_fold_in(m, p, rows, factors, bias);
    }
};

}  // namespace

std::unique_ptr<Method> make_als_method() { return std::make_unique<AlsMethod>(); }

}  // namespace distcf
