#include "distcf/app/train.hpp"

#include <algorithm>

#include "distcf/app/model_file.hpp"
#include "distcf/error.hpp"

namespace distcf {

namespace {

// A checkpoint continues only the run that made it: same method, data shape and parameters
// (the iteration count may grow).
void check_resumable(const Method& method, const FactorModel& ck, const TrainingSet& data, const ParamRecord& params) {
    const auto refuse = [&](const std::string& what) {
        DISTCF_THROW(InputError, "--resume: the checkpoint was made with other data or parameters (" + what + ")");
    };
    if (ck.method != method.name()) refuse("method '" + ck.method + "', now '" + method.name() + "'");
    if (ck.n_users != data.train.n_users || ck.n_items != data.train.n_items)
        refuse(std::to_string(ck.n_users) + " x " + std::to_string(ck.n_items) + " ratings matrix, now " +
               std::to_string(data.train.n_users) + " x " + std::to_string(data.train.n_items));
    ParamRecord a = ck.params, b = params;
    for (const auto& name : method.resumable_differences()) {
        if (a.has(name)) a.set(name, std::int64_t{0});
        if (b.has(name)) b.set(name, std::int64_t{0});
    }
    const std::string diff = a.first_difference(b);
    if (!diff.empty())
        refuse(diff + ": checkpoint " + (ck.params.has(diff) ? to_string(ck.params.at(diff)) : "-") + ", now " +
               (params.has(diff) ? to_string(params.at(diff)) : "-"));
}

}  // namespace

IterationCallback iteration_hooks(const TrainHooks& hooks, std::int64_t iters,
                                  std::function<FactorModel(const FactorModel&)> saved) {
    return [&hooks, iters, saved](const IterationReport& r, const SavedModel& state) {
        if (hooks.on_iteration) hooks.on_iteration(r, state);
        const bool due = hooks.checkpoint_every > 0 && r.iteration % hooks.checkpoint_every == 0 && r.iteration < iters;
        // state() is collective: `due` and stop_requested() are the same on every rank.
        if (hooks.on_checkpoint && due) hooks.on_checkpoint(saved ? saved(state()) : state());
        if (r.iteration < iters && hooks.stop_requested && hooks.stop_requested()) {
            if (!hooks.on_checkpoint)
                DISTCF_THROW(Interrupted, "training stopped after iteration " + std::to_string(r.iteration) + " (no checkpoint kept)");
            if (!due) hooks.on_checkpoint(saved ? saved(state()) : state());
            DISTCF_THROW(Interrupted, "training paused after iteration " + std::to_string(r.iteration) + " of " +
                                          std::to_string(iters) + "; checkpoint written (train --resume continues)");
        }
    };
}

FactorModel starting_model(const TrainHooks& hooks, const std::function<FactorModel()>& fresh, const Comm& comm) {
    if (hooks.resume) return *hooks.resume;
    FactorModel m = fresh();
    if (!hooks.init.empty()) warm_start(m, hooks.init, comm);
    return m;
}

TrainResult train(const std::string& name, const TrainingSet& data, const ParamRecord& given, const Comm& comm,
                  const TrainHooks& hooks) {
    const Method& method = find_method(name);
    const ParamRecord params = method.validate(given);
    if (!method.iterative() && (hooks.resume || !hooks.init.empty()))
        DISTCF_THROW(InputError, "method '" + name + "' does not train in iterations: --resume and --init do not apply");
    if (hooks.resume) check_resumable(method, *hooks.resume, data, params);
    const double t0 = Comm::wtime();
    TrainResult r = method.fit(data, params, comm, hooks);
    r.model.complete = true;  // a resumed checkpoint was not; what train returns is
    r.seconds = comm.bcast_value(Comm::wtime() - t0);
    return r;
}

}  // namespace distcf
