#pragma once
/// @file train.hpp
/// @brief The one training entry point behind every command that trains (train, sweep's final
/// model, study): a registered method on a training set with typed parameters.

#include <string>

#include "distcf/app/method.hpp"
#include "distcf/app/training_set.hpp"
#include "distcf/model/params.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// Trains `method` on `data`. `params` may name only some parameters (the rest take the method's
/// defaults); a bad one throws InputError naming the field. A resumed checkpoint must match the
/// data and every parameter but the iteration count. Collective.
TrainResult train(const std::string& method, const TrainingSet& data, const ParamRecord& params, const Comm& comm,
                  const TrainHooks& hooks = {});

}  // namespace distcf
