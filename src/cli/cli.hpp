#pragma once
// Internal to the distcf program: how subcommands are registered and run.

#include <CLI/CLI.hpp>

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "distcf/data/generate.hpp"
#include "distcf/data/training_set.hpp"
#include "distcf/model/als.hpp"
#include "distcf/model/model.hpp"
#include "distcf/model/svd.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf::cli {

/// What every subcommand gets: the communicator, the command line for provenance, and an output
/// stream that is stdout on rank 0 and a sink elsewhere.
struct Context {
    const Comm& comm;
    std::string command_line;
    std::ostream& out;
};

/// A registered subcommand: the CLI11 sub-app and what to run once it parsed.
struct Command {
    CLI::App* app;
    std::function<void()> run;
};

using Registry = std::vector<Command>;

void add_import(CLI::App& app, Context& ctx, Registry& reg);
void add_info(CLI::App& app, Context& ctx, Registry& reg);
void add_split(CLI::App& app, Context& ctx, Registry& reg);
void add_generate(CLI::App& app, Context& ctx, Registry& reg);
void add_train(CLI::App& app, Context& ctx, Registry& reg);
void add_predict(CLI::App& app, Context& ctx, Registry& reg);
void add_evaluate(CLI::App& app, Context& ctx, Registry& reg);

void add_sweep(CLI::App& app, Context& ctx, Registry& reg);
void add_recommend(CLI::App& app, Context& ctx, Registry& reg);
void add_foldin(CLI::App& app, Context& ctx, Registry& reg);

/// Options shared by the commands that train: the data (--train, --test, --test-fraction, ...)
/// and ALS's (--formulation, --iters, ...; with --rank and --lambda unless `grid`).
void add_data_options(CLI::App* s, std::string& train, TrainingSetOptions& data);
void add_als_options(CLI::App* s, AlsParams& als, bool grid);
/// Prints the one-line description of loaded training data; returns the number of test ratings.
std::int64_t describe(std::ostream& o, const std::string& path, const TrainingSet& data, const Comm& comm);
/// Generates a data set (the `generate` command's work) into `out`. Collective.
void generate_to_file(const GenerateParams& p, const std::string& out, int compression, bool single_precision,
                      Context& ctx);

/// Sets m's factors from /init/{user,item}_factors (scripts/seed_dataset.py) or a model's
/// /model factors in `path`. Collective.
void warm_start(FactorModel& m, const std::string& path, const Comm& comm);

void add_study(CLI::App& app, Context& ctx, Registry& reg);

/// /svd in a model or results file: singular values, and per k the train, test and validation
/// RMSE, with the solver and the chosen k as attributes.
void write_svd_table(h5::File& f, const SvdFit& fit, const std::string& solver, const std::string& select_k);

/// --cold-threshold and --cold-start.
void add_cold_options(CLI::App* s, ColdStart& c);
/// "label  train RMSE x  test RMSE y" (test < 0: none).
void print_fit(std::ostream& o, const char* label, double train, double test);

/// Parses "LO,HI".
std::pair<double, double> parse_range(const std::string& s, const char* option);

}  // namespace distcf::cli
