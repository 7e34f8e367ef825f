#pragma once
// Internal to the distcf program: how subcommands are registered and run. Each command parses
// its options, calls the app floor (distcf/app/), and prints what comes back.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "distcf/app/generate_file.hpp"
#include "distcf/app/training_set.hpp"
#include "distcf/model/model.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf::cli {

/// What every subcommand gets: the communicator, the command line for provenance, and an output
/// stream for its text results: stdout on rank 0, a sink elsewhere and under --json. Under --json
/// a command puts its results into `result` instead, which main prints as one JSON object.
struct Context {
    const Comm& comm;
    std::string command_line;
    std::ostream& out;
    bool json = false;
    nlohmann::json result = nlohmann::json::object();
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
void add_study(CLI::App& app, Context& ctx, Registry& reg);
void add_clean(CLI::App& app, Context& ctx, Registry& reg);

/// --train, --test, --test-fraction, --split-seed, --ignore-stored-split.
void add_data_options(CLI::App* s, std::string& train, TrainingSetOptions& data);
/// Prints the one-line description of loaded training data.
void print_data_summary(std::ostream& o, const std::string& path, const TrainingSet& data, const Comm& comm);
/// Prints what generate_to_file did.
void print_generated(std::ostream& o, const GenerateParams& p, const std::string& out, const GenerateReport& r,
                     bool single_precision);
/// A note on standard error (rank 0) when a model file is an unfinished checkpoint.
void note_if_checkpoint(const std::string& path, const FactorModel& m, const Comm& comm);
/// --rank-by mean|lcb and --z.
void add_rank_by(CLI::App* s, std::string& rank_by, double& z);
/// --cold-threshold and --cold-start.
void add_cold_options(CLI::App* s, ColdStart& c);
/// "label  train RMSE x  test RMSE y" (test < 0: none).
void print_fit(std::ostream& o, const std::string& label, double train, double test);
/// Parses "LO,HI".
std::pair<double, double> parse_range(const std::string& s, const char* option);

}  // namespace distcf::cli
