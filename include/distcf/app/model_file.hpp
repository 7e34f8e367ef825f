#pragma once
/// @file model_file.hpp
/// @brief The model file (docs/FORMAT.md "Model files"): the one place that writes and reads it.
///
/// Format version 2 keeps the method's parameters typed (`/model` attributes `param_<name>`:
/// integers as 64-bit integers, reals as doubles, enumerations as their names). Version 1 files
/// (every parameter a double, `rank`, `formulation`) are still read and translated.

#include <cstdint>
#include <functional>
#include <string>

#include "distcf/data/ratings.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/io/store.hpp"
#include "distcf/model/model.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// The format version save_model writes.
constexpr std::int64_t kModelFormatVersion = 2;

/// Writes every rank's training rows (CSR by user, rows contiguous and in rank order) into the
/// model file as /seen/{ptr, items}. Collective.
void write_seen(const h5::File& f, const Csr& by_user, std::int64_t n_users, const Comm& comm);
/// Reads users [u0, u1) of /seen (each rank its own range), checked: offsets non-decreasing and
/// within /seen/items, items ascending indices below n_items. Collective. Empty when the file has none.
SeenItems read_seen(const h5::File& f, std::int64_t u0, std::int64_t u1, std::int64_t n_items);
/// Whether the model file keeps the training items (/seen).
bool has_seen(const h5::File& f);

/// Writes the model (and the ID maps) atomically. `extra` may add groups of its own (a sweep's
/// table, an SVD's spectrum) before the file is committed; `seen_by_user` (this rank's training
/// rows) is kept as /seen so that recommendations can exclude what users rated. Collective.
void save_model(const std::string& path, const FactorModel& m, const IdMap& users, const IdMap& items,
                const Provenance& prov, const Comm& comm, const std::function<void(h5::File&)>& extra = {},
                const Csr* seen_by_user = nullptr);
/// Which users' rows a rank reads, [begin, end), chosen from every user's rating count.
using UserRowChooser = std::function<std::pair<std::int64_t, std::int64_t>(const std::vector<std::int64_t>& user_counts)>;

/// Reads a model written by save_model, version 1 or 2: all of it on every rank, or -- with
/// `users_only` -- only the chosen users' factor and bias rows (HDF5 hyperslabs; FactorModel::rows
/// says which), every item. Collective.
FactorModel load_model(const std::string& path, const Comm& comm, IdMap* users = nullptr, IdMap* items = nullptr,
                       const UserRowChooser& users_only = {});

/// Sets m's factors (and, from a model, its item biases) from /init/{user,item}_factors
/// (scripts/seed_dataset.py) or a model's /model factors in `path`. Collective.
void warm_start(FactorModel& m, const std::string& path, const Comm& comm);

}  // namespace distcf
