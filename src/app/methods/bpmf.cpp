// Bayesian MF by Gibbs sampling as a registered method.
#include <string>
#include <utility>

#include "distcf/app/method.hpp"
#include "distcf/model/bpmf.hpp"

namespace distcf {

namespace {

class BpmfMethod final : public TypedMethod<BpmfParams> {
public:
    std::string name() const override { return "bpmf"; }
    std::string summary() const override {
        return "Bayesian MF by Gibbs sampling: regularisation learned, posterior mean and uncertainty of each prediction";
    }
    bool iterative() const override { return true; }
    // More samples continue the same chain; everything else would change what it is.
    std::vector<std::string> resumable_differences() const override { return {"samples"}; }
    bool can_fold_in() const override { return true; }
    StateBytes state_bytes(std::int64_t users, std::int64_t items, const ParamRecord& params) const override {
        const BpmfParams p = typed(params);
        return {bpmf_kept_bytes(p, users, items),
                std::to_string(p.kept_after(p.iters())) + " kept samples of " + std::to_string(p.factors) +
                    " factors a row (--keep-samples or --thin bound them)",
                "keep_samples"};
    }
    double predictive_sd(const FactorModel& m, std::int64_t u, std::int64_t i, bool with_noise) const override {
        // Called for every pair: k alone is read, not the whole record.
        return bpmf_predictive_sd(m, static_cast<int>(m.params.integer("factors")), u, i, with_noise);
    }
    bool lcb_scores(const FactorModel& m, std::int64_t u, double z, std::vector<double>& scores) const override {
        bpmf_lcb_scores(m, static_cast<int>(m.params.integer("factors")), u, z, scores);
        return true;
    }

protected:
    TrainResult fit_typed(const TrainingSet& data, const BpmfParams& p, const Comm& comm, const TrainHooks& hooks) const override {
        TrainResult r;
        FactorModel chain = starting_model(hooks, [&] { return init_bpmf(data.train, p); }, comm);
        if (hooks.resume) chain = bpmf_chain(std::move(chain), p);
        chain.params = to_record(p);
        // Checkpoints hold the model as it predicts, with the chain in /state.
        run_bpmf(chain, data.train, data.test, p, comm,
                 iteration_hooks(hooks, p.iters(), [&p](const FactorModel& c) { return bpmf_posterior(c, p); }), hooks.exchange);
        r.model = bpmf_posterior(std::move(chain), p);
        r.label = "bpmf (k=" + std::to_string(p.factors) + ", " + std::to_string(bpmf_samples(r.model, p.factors)) + " samples)";
        return r;
    }
    void fold_in_typed(const FactorModel& m, const BpmfParams& p, const Csr& rows, std::vector<double>& factors,
                       std::vector<double>& bias) const override {
        bpmf_fold_in(m, p, rows, factors, bias);
    }
};

}  // namespace

std::unique_ptr<Method> make_bpmf_method() { return std::make_unique<BpmfMethod>(); }

}  // namespace distcf
