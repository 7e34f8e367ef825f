// The bias baseline as a registered method.
#include <cstdio>

#include "distcf/app/method.hpp"
#include "distcf/model/baseline.hpp"

namespace distcf {

namespace {

class BaselineMethod final : public TypedMethod<BaselineParams> {
public:
    std::string name() const override { return "baseline"; }
    std::string summary() const override { return "global mean + user bias + item bias (shrunk, or plain means as the original study)"; }

protected:
    TrainResult fit_typed(const TrainingSet& data, const BaselineParams& p, const Comm& comm, const TrainHooks&) const override {
        TrainResult r;
        r.model = fit_baseline(data.train, p, comm);
        FactorModel& m = r.model;
        const double tr = rmse(error_sums(m, data.train.by_user, data.train.users, comm));
        const bool have_test = comm.sum<std::int64_t>(data.test.nnz()) > 0;
        const double te = have_test ? rmse(error_sums(m, data.test, data.train.users, comm)) : -1.0;
        m.history.push(0, tr, te, 0, 0);
        r.label = std::string("baseline (") + enum_name(p.estimator) + ")";
        return r;
    }
};

}  // namespace

std::unique_ptr<Method> make_baseline_method() { return std::make_unique<BaselineMethod>(); }

}  // namespace distcf
