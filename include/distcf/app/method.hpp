#pragma once
/// @file method.hpp
/// @brief The method registry: each training method is one implementation of `Method`,
/// registered by one line in src/app/registry.cpp. The registry is how the commands find a
/// method by name, its typed parameters, how it trains, predicts and folds in -- nothing else in
/// the program lists the methods.
///
/// Adding a method: its maths in model/ (or reuse model/alternating.hpp), one file
/// src/app/methods/NAME.cpp deriving from TypedMethod<NameParams>, and one line in registry.cpp.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "distcf/app/training_set.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/model/alternating.hpp"
#include "distcf/model/model.hpp"
#include "distcf/model/params.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// How a training run starts and reports.
struct TrainHooks {
    /// After every iteration of an iterative method: progress (the model passed is the method's
    /// working state, not necessarily what a file would hold).
    IterationCallback on_iteration;
    /// Every checkpoint_every iterations (but the last): the model as a file would hold it.
    int checkpoint_every = 0;
    std::function<void(const FactorModel&)> on_checkpoint;
    std::string init;                   ///< start from the factors in this file (iterative methods)
    const FactorModel* resume = nullptr;  ///< continue this checkpoint (iterative methods)
    /// Asked after each iteration (collective: every rank gets the same answer). True: the
    /// checkpoint is written through on_checkpoint and training stops with Interrupted.
    std::function<bool()> stop_requested;
    /// How alternating methods share factors (others ignore it), and where the choice is told.
    ExchangeRequest exchange{ExchangeOptions{}, {}};
};

/// The per-iteration callback of an iterative method of `iters` iterations: progress, and the
/// checkpoints due, made by `saved` from the working state (identity when null). Only a due
/// checkpoint pays for `saved`.
IterationCallback iteration_hooks(const TrainHooks& hooks, std::int64_t iters,
                                  std::function<FactorModel(const FactorModel&)> saved = {});

/// Whether a fresh model may come without factors (the sweeps then make each rank's rows): when
/// the result need not be whole and no warm start fills them.
inline bool defer_factors(const TrainHooks& hooks) { return !hooks.exchange.whole_result && hooks.init.empty(); }

/// The model an iterative method starts from: the checkpoint to resume, else `fresh()` -- warm-
/// started from the factors in hooks.init when given. Collective.
FactorModel starting_model(const TrainHooks& hooks, const std::function<FactorModel()>& fresh, const Comm& comm);

/// What a training run produces.
struct TrainResult {
    FactorModel model;
    /// What was trained, in a few words ("als (biased, k=50, lambda=0.13)") for the final line.
    std::string label;
    /// Lines the method has to say beyond the per-iteration ones (the SVD's table of k), printed
    /// by the command before the final figures.
    std::vector<std::string> report;
    /// Groups of the method's own in the model file (the SVD's /svd); empty: none.
    std::function<void(h5::File&)> extra;
    double seconds = 0.0;  ///< wall time of the fit, rank 0's
};

class Method {
public:
    virtual ~Method() = default;
    virtual std::string name() const = 0;
    /// One line for help texts.
    virtual std::string summary() const = 0;
    /// Every parameter with its default.
    virtual ParamRecord defaults() const = 0;
    /// `given` completed with the defaults and checked: an unknown name, a value of the wrong type
    /// or out of range throws InputError naming the field.
    virtual ParamRecord validate(const ParamRecord& given) const = 0;
    /// Whether it trains in iterations (then checkpoints, --resume and --init apply).
    virtual bool iterative() const { return false; }
    /// The parameters that may differ between a checkpoint and its continuation (iterations).
    virtual std::vector<std::string> resumable_differences() const { return {}; }
    /// Trains on `data` with validated `params`. Collective.
    virtual TrainResult fit(const TrainingSet& data, const ParamRecord& params, const Comm& comm,
                            const TrainHooks& hooks) const = 0;
    /// The model predictions use (SVD: its first k factors; k = 0 its chosen k).
    virtual FactorModel for_prediction(FactorModel m, int k) const { return with_factors(std::move(m), k); }
    /// The posterior standard deviation of the prediction of (u, i) -- with the noise, of a rating
    /// -- for methods that have one (Bayesian); negative: none.
    virtual double predictive_sd(const FactorModel&, std::int64_t, std::int64_t, bool) const { return -1.0; }
    /// Every item's score for user u ranked by a lower confidence bound (mean - z sd); false: the
    /// method has no uncertainty to rank by.
    virtual bool lcb_scores(const FactorModel&, std::int64_t, double, std::vector<double>&) const { return false; }
    /// Whether its predictions are ratings (an RMSE means something); implicit ALS predicts
    /// preferences, judged by rankings only.
    virtual bool predicts_ratings() const { return true; }
    /// Whether new users can be folded into a trained model.
    virtual bool can_fold_in() const { return false; }
    /// Bytes a rank holds while training beside the factors and the ratings, for `users` x `items`
    /// with validated `params`, and what holds them (Bayesian MF: its kept samples, on every
    /// rank); {0, ""}: nothing that grows beyond the factors. `train --plan` counts them, and
    /// `train` refuses to start when they alone exceed a rank's memory.
    struct StateBytes {
        std::int64_t bytes = 0;
        std::string what;   ///< what they are, for messages
        std::string field;  ///< the parameter that bounds them, named when they do not fit
    };
    virtual StateBytes state_bytes(std::int64_t users, std::int64_t items, const ParamRecord& params) const { return {}; }
    /// Factors (rows x k) and biases for users given only their ratings (CSR rows over the
    /// model's item indices), the item side fixed. Throws InputError when the method cannot.
    virtual void fold_in(const FactorModel& m, const Csr& rows, std::vector<double>& factors,
                         std::vector<double>& bias) const;
};

/// A method whose parameters are the struct P (with P::fields and P::validate): the record is
/// converted once, and the method works on P.
template <class P>
class TypedMethod : public Method {
public:
    ParamRecord defaults() const override { return to_record(P{}); }
    ParamRecord validate(const ParamRecord& given) const override {
        const P p = typed(given);
        p.validate();
        return to_record(p);
    }
    TrainResult fit(const TrainingSet& data, const ParamRecord& params, const Comm& comm,
                    const TrainHooks& hooks) const override {
        const P p = typed(params);
        p.validate();
        return fit_typed(data, p, comm, hooks);
    }
    void fold_in(const FactorModel& m, const Csr& rows, std::vector<double>& factors,
                 std::vector<double>& bias) const override {
        if (!can_fold_in()) Method::fold_in(m, rows, factors, bias);
        fold_in_typed(m, typed(m.params), rows, factors, bias);
    }

protected:
    virtual TrainResult fit_typed(const TrainingSet& data, const P& p, const Comm& comm, const TrainHooks& hooks) const = 0;
    virtual void fold_in_typed(const FactorModel&, const P&, const Csr&, std::vector<double>&, std::vector<double>&) const {}
    /// P from a record: the defaults, overridden by what the record names.
    P typed(const ParamRecord& r) const { return from_record<P>(r); }
};

/// The registered method called `name`; an unknown name throws InputError listing the methods.
const Method& find_method(const std::string& name);
/// Every registered method's name, in registration order.
std::vector<std::string> method_names();

}  // namespace distcf
