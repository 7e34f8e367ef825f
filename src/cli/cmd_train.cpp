// distcf train: the options name a registered method's typed parameters; the app floor trains.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <filesystem>
#include <algorithm>
#include <map>
#include <set>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/util/signals.hpp"
#include "distcf/util/progress.hpp"
#include "distcf/app/method.hpp"
#include "distcf/app/model_file.hpp"
#include "distcf/app/train.hpp"
#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/model/ials.hpp"
#include "distcf/util/resources.hpp"

namespace distcf::cli {

namespace {

// A command-line option and the parameter it sets: the first of `params` the chosen method has
// (the baseline's estimator is the SVD's baseline_estimator).
struct ParamOption {
    std::string flags;
    std::vector<std::string> params;
    std::string help;
    std::vector<std::string> methods = {};  ///< only these methods' (empty: any that has the parameter)
    bool applies_to(const std::string& method) const {
        return methods.empty() || std::find(methods.begin(), methods.end(), method) != methods.end();
    }
};

// The options with names and help of their own; every other parameter of a registered method gets
// --NAME (underscores as dashes) from all_param_options(), so a new method needs no line here.
const std::vector<ParamOption>& named_options() {
    static const std::vector<ParamOption> options{
        {"--factors,--rank", {"factors"}, "k: latent factors per user and item"},
        {"--lambda", {"lambda"}, "regularisation (als biased: times each row's ratings, as ALS-WR)"},
        {"--iters", {"iters"}, "iterations (sweeps over users and items)"},
        {"--tol", {"tol"}, "stop when the relative objective decrease is below this (0: never)"},
        {"--seed,--rng-seed", {"rng_seed"}, "seed of the random number generator (initial factors; the SVD's sketch)"},
        {"--init-sd", {"init_sd"}, "standard deviation of the random initial factors"},
        {"--formulation", {"formulation"},
         "biased (global mean + user and item biases + factors, lambda scaled by each row's ratings; the default) | notebook (factors only with a plain lambda, as the original study did; alias seed)"},
        {"--row-solve", {"row_solve"},
         "auto | primal | dual: rows with fewer ratings than unknowns are cheaper in the dual form (same solution)"},
        {"--baseline", {"estimator", "baseline_estimator"},
         "regularized (biases shrunk towards 0 by lambda) | notebook (plain means, as the original study did; alias seed)"},
        {"--baseline-lambda-user", {"lambda_user", "baseline_lambda_user"}, "damping of the user biases"},
        {"--baseline-lambda-item", {"lambda_item", "baseline_lambda_item"}, "damping of the item biases"},
        {"--baseline-rounds", {"rounds", "baseline_rounds"}, "alternations of the regularised baseline"},
        {"--factor-grid,--ranks", {"factor_grid"}, "the k of the SVD's table, comma-separated"},
        {"--svd-solver", {"solver"}, "auto | dense (ScaLAPACK pdgesvd) | randomized", {"svd"}},
        {"--block-size", {"block_size"}, "block-cyclic block size of the dense SVD"},
        {"--dense-budget-mb", {"dense_budget_mb"}, "auto picks the dense SVD while users x items x 8 B / ranks fits this"},
        {"--oversample", {"oversample"}, "extra sketch columns of the randomized SVD"},
        {"--power-iters", {"power_iters"}, "power iterations of the randomized SVD"},
        {"--sketch-seed", {"rng_seed"}, "seed of the randomized SVD's sketch", {"svd"}},
        {"--select-k", {"select_k"}, "validation (hold-out of the training data) | test | largest"},
        {"--validation-fraction", {"validation_fraction"}, "hold-out fraction of the training data: svd's --select-k validation; als and ials measure it at each evaluation (RMSE; ials: NDCG@10)"},
        {"--alpha", {"alpha"}, "confidence slope: c = 1 + alpha r"},
        {"--confidence", {"confidence"}, "linear (1 + alpha r) | log (1 + alpha log(1 + r / epsilon))"},
        {"--epsilon", {"epsilon"}, "epsilon of the log confidence"},
        {"--solver", {"solver"}, "cholesky (exact) | cg (conjugate gradient, warm-started from the last iteration) | auto (the default: cg from 64 factors on, and at every k in single precision)", {"als", "ials"}},
        {"--cg-steps", {"cg_steps"}, "conjugate-gradient steps per row and half-step"},
        {"--eval-every", {"eval_every"}, "objective and RMSEs every this many iterations and at the last (the sweeps are the same; figures cost time)"},
        {"--early-stopping", {"early_stopping"}, "stop after this many evaluations without a better validation RMSE (ials: NDCG@10) and keep the best iterate (0: off; needs --validation-fraction)"},
        {"--validation-users", {"validation_users"}, "ials: rank the held-out items of about this many users (a sample by user) at each evaluation"},
        {"--dense-max-min-dim", {"dense_max_min_dim"}, "auto takes the randomized SVD when min(users, items) exceeds this"},
        {"--burnin", {"burnin"}, "sweeps of the Gibbs chain before samples are kept"},
        {"--samples", {"samples"}, "sweeps after the burn-in (each a posterior sample, before thinning)"},
        {"--thin", {"thin"}, "keep every thin-th sample"},
        {"--keep-samples", {"keep_samples"}, "keep at most this many samples, the latest (0: all)"},
        {"--noise-precision", {"noise_precision"}, "alpha: precision of the rating noise, 1 / variance (fixed unless --sample-noise 1)"},
        {"--sample-noise", {"sample_noise"}, "1: draw alpha from its conditional every sweep instead of fixing it"},
        {"--beta0", {"beta0"}, "precision scale of the Gaussian-Wishart hyperprior on the factor means"},
        {"--precision", {"precision"},
         "double (exact reference) | single (float factors, Y^T Y, exchange and kernels: conjugate gradient at every k; the file stores the factors as float32)", {"als", "ials"}},
    };
    return options;
}

// Every registered method's defaults, in registration order: read once at start-up.
using MethodDefaults = std::vector<std::pair<std::string, ParamRecord>>;
MethodDefaults method_defaults() {
    MethodDefaults all;
    for (const auto& name : method_names()) all.emplace_back(name, find_method(name).defaults());
    return all;
}

// The named options, then --NAME for each registered parameter none of them sets.
std::vector<ParamOption> all_param_options(const MethodDefaults& all) {
    std::vector<ParamOption> options = named_options();
    // train's own options, never a parameter's (the SVD's split_seed is not --split-seed)
    std::set<std::string> covered, flags{"--method", "--train", "--test", "--test-fraction", "--split-seed",
                                         "--ignore-stored-split", "--out", "--init", "--resume", "--checkpoint-every",
                                         "--implicit-from-ratings", "--help"};
    for (const auto& o : options) {
        covered.insert(o.params.begin(), o.params.end());
        for (std::size_t b = 0, e; b < o.flags.size(); b = e + 1) {
            e = o.flags.find(',', b);
            if (e == std::string::npos) e = o.flags.size();
            flags.insert(o.flags.substr(b, e - b));
        }
    }
    for (const auto& [method, defaults] : all) {
        for (const auto& [name, v] : defaults.values()) {
            if (covered.count(name)) continue;
            std::string flag = "--" + name;
            std::replace(flag.begin(), flag.end(), '_', '-');
            if (flags.count(flag)) continue;
            covered.insert(name);
            flags.insert(flag);
            options.push_back({flag, {name}, "parameter '" + name + "'"});
        }
    }
    return options;
}

struct TrainArgs {
    std::string method = "als";
    std::string train;
    std::string out;
    TrainingSetOptions data;
    std::vector<ParamOption> param_options;    ///< what the options below set
    std::map<std::string, std::string> given;  ///< option flags -> text, as typed
    std::map<std::string, CLI::Option*> opts;
    double implicit_threshold = -1;  ///< >= 0: explicit ratings at least this become interactions
    std::string init;
    int checkpoint_every = 0;
    bool resume = false;
    std::string exchange = "auto";
    std::string memory_budget = "0";  ///< bytes, or with a K, M, G or T suffix (powers of 1024)
    bool plan = false;                ///< print the memory and traffic plan, train nothing
};

// "512M" -> bytes; the option is named in the message.
std::int64_t parse_bytes(const std::string& text, const char* option) {
    std::int64_t v = 0;
    const char* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v);
    std::int64_t scale = 1;
    if (ec == std::errc() && p + 1 == end) {
        const char u = static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
        scale = u == 'K' ? 1LL << 10 : u == 'M' ? 1LL << 20 : u == 'G' ? 1LL << 30 : u == 'T' ? 1LL << 40 : 0;
    }
    if (ec != std::errc() || v < 0 || scale == 0 || (p != end && p + 1 != end) || v > INT64_MAX / scale)
        DISTCF_THROW(InputError, std::string(option) + ": '" + text + "' is not a size (bytes, or a number with K, M, G or T)");
    return v * scale;
}

double mib(std::int64_t bytes) { return static_cast<double>(bytes) / 1048576.0; }

// train --plan: what each rank would hold and receive under each exchange, before any work; the
// peak expected is what the process holds now (the data loaded) plus the exchange's factors and
// buffers.
void print_plan(std::ostream& o, const TrainingSet& data, const Method& m, const ParamRecord& params,
                const ExchangeOptions& asked, const Comm& comm, nlohmann::json& j) {
    const std::string method = m.name();
    const Method::StateBytes state = m.state_bytes(data.train.n_users, data.train.n_items, params);
    const int k = static_cast<int>(params.integer("factors"));
    const bool biased = params.has("formulation") && to_string(params.at("formulation")) == "biased";
    const std::int64_t width = k + (biased ? 1 : 0);
    ExchangeReads reads;
    reads.scored = {&data.test};
    reads.gram = method == "ials";
    std::string said;
    const bool local_layout = method != "bpmf";
    ExchangeOptions chosen = asked;
    if (!local_layout) chosen.kind = ExchangeKind::Allgather;
    const TargetedExchange targeted(data.train, reads, comm);  // both exchanges' figures need its plans
    const ExchangeFootprint f = exchange_footprint(data.train, reads, targeted, width, comm);
    const bool is_targeted = choose_exchange(chosen, data.train, f, comm, &said) == ExchangeKind::Targeted;
    const std::int64_t now = current_rss_bytes(), peak = peak_rss_bytes();
    // Beside the factors, the model keeps per-row arrays of every row: the rating counts, and the
    // biases while they start. A targeted run makes only its held rows and writes its own (no warm
    // start: --init reads whole factors).
    const std::int64_t model_rows = (data.train.n_users + data.train.n_items) * 8 * (biased ? 2 : 1);
    const std::int64_t expected = std::max(
        peak, now + model_rows + (is_targeted ? f.targeted_factors + f.targeted_buffers : f.allgather_factors) + state.bytes);
    const std::vector<std::int64_t> row{f.ratings, f.allgather_factors, f.allgather_received, f.targeted_factors, f.targeted_buffers,
                                        f.targeted_received, f.held_users, f.held_items, now, expected};
    // Every rank's row, on rank 0.
    const std::vector<std::int64_t> all = comm.allgatherv(row);
    char line[300];
    o << "plan: " << method << ", k = " << k << " (" << width << " values a row), " << comm.size() << " rank"
      << (comm.size() > 1 ? "s" : "") << "; MiB per rank\n";
    o << "  rank   ratings | allgather: factors  recv/sweep | targeted: factors  buffers  recv/sweep  held users  held items"
         " | RSS now  expected peak\n";
    nlohmann::json ranks = nlohmann::json::array();
    const std::size_t w = row.size();
    for (int r = 0; r < comm.size(); ++r) {
        const std::int64_t* x = all.data() + static_cast<std::size_t>(r) * w;
        std::snprintf(line, sizeof line, "  %4d %9.1f | %18.1f %11.1f | %17.1f %8.1f %11.1f %11lld %11lld | %7.1f %14.1f\n", r, mib(x[0]),
                      mib(x[1]), mib(x[2]), mib(x[3]), mib(x[4]), mib(x[5]), static_cast<long long>(x[6]), static_cast<long long>(x[7]),
                      mib(x[8]), mib(x[9]));
        o << line;
        ranks.push_back({{"rank", r}, {"ratings_bytes", x[0]}, {"allgather_factor_bytes", x[1]}, {"allgather_received_bytes_per_sweep", x[2]},
                         {"targeted_factor_bytes", x[3]}, {"targeted_buffer_bytes", x[4]}, {"targeted_received_bytes_per_sweep", x[5]},
                         {"held_users", x[6]}, {"held_items", x[7]}, {"rss_bytes_now", x[8]}, {"expected_peak_rss_bytes", x[9]}});
    }
    o << said << "\n";
    if (!local_layout) o << "(" << method << " shares factors by allgather only: its sampler reads every row)\n";
    if (state.bytes > 0) {
        std::snprintf(line, sizeof line, "%s also holds %.1f MiB per rank by the end (in the expected peak): ", method.c_str(),
                      mib(state.bytes));
        o << line << state.what << "\n";
    }
    j["plan"] = {{"method", method}, {"factors", k}, {"width", width}, {"exchange", is_targeted ? "targeted" : "allgather"},
                 {"state_bytes", state.bytes}, {"ranks", ranks}};
}

// What a method holds beyond its factors (Bayesian MF's kept samples, on every rank) is known
// before the first sweep: a run whose state alone exceeds a rank's memory -- the budget asked
// for, else the memory available on the node shared by its ranks -- stops now, not when the
// kernel kills it hours in. Every rank agrees (the smallest budget).
void refuse_state_beyond_memory(const Method& m, const ParamRecord& params, const TrainingSet& data,
                                const ExchangeOptions& exchange, const Comm& comm) {
    const Method::StateBytes state = m.state_bytes(data.train.n_users, data.train.n_items, params);
    if (state.bytes == 0) return;
    const std::int64_t budget = memory_budget_per_rank(exchange.memory_budget, comm);
    if (state.bytes <= budget) return;
    char line[200];
    std::snprintf(line, sizeof line, ": %.1f MiB per rank, beyond the %.1f MiB a rank has (%s)", mib(state.bytes), mib(budget),
                  exchange.memory_budget > 0 ? "--memory-budget" : "the memory available on the node, shared by its ranks");
    DISTCF_THROW(ParameterError, state.field + ": " + m.name() + " would hold " + state.what + line);
}

// The default of the parameter `o` sets, for each method that has one.
std::vector<std::pair<std::string, ParamValue>> defaults_of(const ParamOption& o, const MethodDefaults& all) {
    std::vector<std::pair<std::string, ParamValue>> out;
    for (const auto& [method, d] : all) {
        if (!o.applies_to(method)) continue;
        const auto p = std::find_if(o.params.begin(), o.params.end(), [&](const std::string& n) { return d.has(n); });
        if (p != o.params.end()) out.emplace_back(method, d.at(*p));
    }
    return out;
}

// The help text's " [als 50, ials 64]", and INT, FLOAT, WORD or LIST from the first default.
std::string shown_defaults(const std::vector<std::pair<std::string, ParamValue>>& defaults) {
    std::string s;
    for (const auto& [method, v] : defaults) s += (s.empty() ? "" : ", ") + method + " " + to_string(v);
    return s.empty() ? "" : " [" + s + "]";
}
std::string type_of(const std::vector<std::pair<std::string, ParamValue>>& defaults) {
    if (defaults.empty()) return "VALUE";
    const ParamValue& v = defaults.front().second;
    if (std::holds_alternative<std::int64_t>(v)) return "INT";
    if (std::holds_alternative<double>(v)) return "FLOAT";
    return std::get<std::string>(v).find(',') != std::string::npos ? "LIST" : "WORD";
}

// The text of an option as the type of the parameter's default.
ParamValue typed_value(const std::string& flag, const std::string& param, const std::string& text, const ParamValue& like) {
    const auto bad = [&](const char* what) -> ParamValue {
        DISTCF_THROW(UsageError, flag + ": expected " + what + ", got '" + text + "'");
    };
    if (std::holds_alternative<std::int64_t>(like)) {
        std::int64_t v = 0;
        const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return bad("an integer");
        return v;
    }
    if (std::holds_alternative<double>(like)) {
        double v = 0;
        const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return bad("a number");
        return v;
    }
    // The notebook's formulations were called "seed" before.
    if ((param == "formulation" || param == "estimator" || param == "baseline_estimator") && text == "seed")
        return std::string("notebook");
    return text;
}

// The method's parameters from the options given; options that do not apply are refused.
ParamRecord params_from_options(const TrainArgs& a, const Method& method) {
    const ParamRecord defaults = method.defaults();
    ParamRecord r;
    for (const auto& o : a.param_options) {
        const CLI::Option* opt = a.opts.at(o.flags);
        if (opt->count() == 0) continue;
        const std::string flag = opt->get_name();
        const auto param = std::find_if(o.params.begin(), o.params.end(),
                                        [&](const std::string& p) { return o.applies_to(method.name()) && defaults.has(p); });
        if (param == o.params.end())
            DISTCF_THROW(UsageError, flag + ": not a parameter of method '" + method.name() + "'");
        if (r.has(*param))
            DISTCF_THROW(UsageError, flag + ": sets " + *param + ", which another option already set");
        r.set(*param, typed_value(flag, *param, a.given.at(o.flags), defaults.at(*param)));
    }
    try {
        return method.validate(r);
    } catch (const InputError& e) {
        throw UsageError(e.what(), e.file().c_str(), e.line());  // a bad option value: exit 2
    }
}

std::string fixed(double v, const char* f) {
    char b[32];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

// One line per iteration. Columns 1-6 keep their places (scripts read them); "-" where a figure
// was not measured this iteration (--eval-every). "eval s" is the time of the figures, outside
// "seconds" (the sweep); "recv MiB" the factor bytes the sweep's exchanges delivered to a rank
// (the most any received).
// `s` right-aligned in `width` characters.
std::string fixed_width(const std::string& s, std::size_t width) {
    return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

void print_iteration(std::ostream& o, const IterationReport& r, bool first, bool explicit_fit, bool validation) {
    char line[200];
    const auto cell = [](double v, const char* f) { return v >= 0 ? fixed(v, f) : std::string("-"); };
    if (first)
        o << (explicit_fit ? std::string("  iter     objective   train RMSE   test RMSE   seconds   GFLOP/s    eval s  recv MiB") +
                                 (validation ? "  valid. RMSE" : "") + "\n"
                           : std::string("  iter          loss   seconds   GFLOP/s    eval s  recv MiB") +
                                 (validation ? "  valid. NDCG@10" : "") + "\n");
    const double recv = r.received_bytes / 1048576.0;
    if (explicit_fit)
        std::snprintf(line, sizeof line, "%6d %13s %12s %11s %9.4f %9.2f %9.4f %9.2f%s\n", r.iteration, cell(r.objective, "%.6g").c_str(),
                      cell(r.train_rmse, "%.6f").c_str(), cell(r.test_rmse, "%.6f").c_str(), r.seconds, r.gflops, r.eval_seconds, recv,
                      validation ? fixed_width(cell(r.validation_rmse, "%.6f"), 13).c_str() : "");
    else
        std::snprintf(line, sizeof line, "%6d %13s %9.4f %9s %9.4f %9.2f%s\n", r.iteration, cell(r.objective, "%.6g").c_str(), r.seconds,
                      r.gflops > 0 ? fixed(r.gflops, "%.2f").c_str() : "-", r.eval_seconds, recv,
                      validation ? fixed_width(cell(r.validation_ndcg, "%.6f"), 16).c_str() : "");
    o << line << std::flush;
}

void run_train(TrainArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    auto& o = ctx.out;
    if (!a.plan) {
        check_output(a.out, {a.train, a.data.test_path, a.init});
        require_output_dir(a.out);
    }
    const Method& method = find_method(a.method);
    const ParamRecord params = params_from_options(a, method);
    TrainingSet data = load_training_set(a.train, a.data, comm);
    print_data_summary(o, a.train, data, comm);
    if (a.implicit_threshold >= 0) {
        data.train = as_interactions(data.train, a.implicit_threshold, comm);
        o << "interactions: ratings >= " << a.implicit_threshold << ", " << data.train.nnz << " kept\n";
    }
    std::string line = "parameters of " + method.name() + ":";
    for (const auto& [name, v] : params.values()) line += " " + name + "=" + to_string(v);
    o << line << "\n";
    const Provenance prov = Provenance::now(ctx.command_line);

    ExchangeOptions exchange;
    exchange.kind = parse_enum<ExchangeKind>("exchange", a.exchange);
    exchange.memory_budget = parse_bytes(a.memory_budget, "--memory-budget");
    if (a.plan) {
        print_plan(o, data, method, params, exchange, comm, ctx.result);
        return;
    }
    refuse_state_beyond_memory(method, params, data, exchange, comm);
    if (a.out.empty()) DISTCF_THROW(InputError, "train: --out is required (the model file to write)");

    TrainHooks hooks;
    hooks.init = a.init;
    hooks.exchange.options = exchange;
    // The model goes to a file: a targeted run writes each rank's rows and never holds all of them.
    hooks.exchange.whole_result = false;
    hooks.exchange.tell = [&](const std::string& line) { o << line << "\n"; };
    FactorModel checkpoint;
    if (a.resume && std::filesystem::exists(a.out)) {
        checkpoint = load_model(a.out, comm);
        hooks.resume = &checkpoint;
        o << "resuming from " << a.out << " after iteration " << checkpoint.iterations_done << "\n";
    } else if (a.resume) {
        o << "no checkpoint at " << a.out << ": starting from the beginning\n";
    }
    bool first = true;
    hooks.on_iteration = [&](const IterationReport& r, const SavedModel&) {
        // Explicit methods report RMSEs; implicit ALS a loss alone.
        print_iteration(o, r, first, method.name() != "ials", params.has("validation_fraction") && params.real("validation_fraction") > 0);
        first = false;
        std::vector<Figure> f{{"iteration", r.iteration}, {"objective", r.objective}, {"seconds", r.seconds}, {"gflops", r.gflops}};
        if (r.train_rmse >= 0) f.emplace_back("train_rmse", r.train_rmse);
        if (r.test_rmse >= 0) f.emplace_back("test_rmse", r.test_rmse);
        if (r.validation_rmse >= 0) f.emplace_back("validation_rmse", r.validation_rmse);
        if (r.validation_ndcg >= 0) f.emplace_back("validation_ndcg", r.validation_ndcg);
        f.emplace_back("eval_seconds", r.eval_seconds);
        f.emplace_back("received_bytes", r.received_bytes);
        report_event("iteration", f);
    };
    hooks.checkpoint_every = a.checkpoint_every;
    // SLURM's warning signal (--signal=USR1@SECONDS) or SIGTERM: save and stop at the iteration's end.
    const StopSignals signals;
    hooks.stop_requested = [&] {
        const int s = comm.max(signals.received());
        if (s && comm.is_root()) std::cerr << "train: " << StopSignals::name(s) << " received: saving a checkpoint to " << a.out << "\n";
        return s != 0;
    };
    hooks.on_checkpoint = [&](const FactorModel& m) {
        FactorModel ck = m;  // marked unfinished: predict and evaluate say so
        ck.complete = false;
        save_model(a.out, ck, data.users, data.items, prov, comm, {}, &data.train.by_user);
    };
    report_stage("train", {{"method", method.name()}, {"ratings", data.train.nnz}, {"users", data.train.n_users},
                           {"items", data.train.n_items}, {"ranks", comm.size()}});
    const TrainResult r = train(a.method, data, params, comm, hooks);
    for (const auto& l : r.report) o << l << "\n";
    const History& h = r.model.history;
    // The figures of the iteration the model holds: the last, or early stopping's best.
    const std::size_t at = r.model.best_iteration > 0 ? static_cast<std::size_t>(r.model.best_iteration - 1) : h.size() - 1;
    if (h.size() > 0 && h.train_rmse[at] >= 0) print_fit(o, r.label, h.train_rmse[at], data.n_test ? h.test_rmse[at] : -1.0);
    const std::int64_t rss_bytes = comm.max<std::int64_t>(peak_rss_bytes());
    const double rss = static_cast<double>(rss_bytes);
    o << "trained in " << fixed(r.seconds, "%.3g") << " s; peak RSS per rank (max) " << fixed(rss / 1048576.0, "%.0f") << " MiB\n";
    save_model(a.out, r.model, data.users, data.items, prov, comm, r.extra, &data.train.by_user);
    nlohmann::json& j = ctx.result;
    j["method"] = method.name();
    j["label"] = r.label;
    nlohmann::json pj = nlohmann::json::object();
    for (const auto& [name, v] : params.values()) std::visit([&](const auto& x) { pj[name] = x; }, v);
    j["parameters"] = pj;
    j["data"] = {{"train", a.train}, {"ratings", data.train.nnz}, {"users", data.train.n_users}, {"items", data.train.n_items},
                 {"test_ratings", data.n_test}};
    j["iterations"] = r.model.iterations_done;
    if (h.size() > 0 && h.train_rmse[at] >= 0) j["train_rmse"] = h.train_rmse[at];
    if (data.n_test && h.size() > 0 && h.test_rmse[at] >= 0) j["test_rmse"] = h.test_rmse[at];
    if (r.model.best_iteration > 0) j["best_iteration"] = r.model.best_iteration;
    j["report"] = r.report;
    j["seconds"] = r.seconds;
    j["peak_rss_bytes_per_rank"] = rss_bytes;
    j["ranks"] = comm.size();
    j["out"] = a.out;
    o << "model written to " << a.out << (method.name() == "ials" ? " (rank with `distcf evaluate --ranking`)" : "") << "\n";
}

}  // namespace

void print_data_summary(std::ostream& o, const std::string& path, const TrainingSet& data, const Comm& comm) {
    o << "data: " << path << ": " << data.train.nnz << " training ratings, " << data.train.n_users << " users, "
      << data.train.n_items << " items";
    if (data.n_test) o << "; " << data.n_test << " test ratings (" << data.test_source << ")";
    if (data.n_test_unscorable)
        o << "; " << data.n_test_unscorable << " more test ratings have a user or item the training data lack and are left "
          << "out of the test RMSE (evaluate scores them with the fallback)";
    o << "; " << comm.size() << " MPI rank" << (comm.size() > 1 ? "s" : "") << "\n";
}

void add_data_options(CLI::App* s, std::string& train, TrainingSetOptions& data) {
    s->add_option("--train", train, "training rating store (a stored split is used unless --test is given)")->required();
    s->add_option("--test", data.test_path, "test rating store for the per-iteration test RMSE");
    s->add_option("--test-fraction", data.test_fraction, "hold out this fraction of --train as test data");
    s->add_option("--split-seed", data.split_seed, "RNG seed of --test-fraction")->capture_default_str();
    s->add_flag("!--ignore-stored-split", data.use_stored_split, "train on all ratings of a store with a split");
}

void print_fit(std::ostream& o, const std::string& label, double train, double test) {
    char line[200];
    if (test >= 0) std::snprintf(line, sizeof line, "%-28s train RMSE %.4f  test RMSE %.4f\n", label.c_str(), train, test);
    else std::snprintf(line, sizeof line, "%-28s train RMSE %.4f\n", label.c_str(), train);
    o << line;
}

void add_train(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<TrainArgs>();
    std::string methods, summaries;
    for (const auto& name : method_names()) {
        methods += (methods.empty() ? "" : " | ") + name;
        summaries += "\n  " + name + ": " + find_method(name).summary();
    }
    CLI::App* s = app.add_subcommand("train", "Train a model (" + methods + ") on a rating store");
    s->footer("Methods:" + summaries +
              "\nEach option sets a parameter of the methods that have it (defaults in brackets, per method); "
              "an option the chosen method does not have is refused.");
    s->add_option("--method", a->method, methods)->check(CLI::IsMember(method_names()))->capture_default_str();
    add_data_options(s, a->train, a->data);
    s->add_option("--out", a->out, "output model file (HDF5; required unless --plan)");
    const MethodDefaults all = method_defaults();
    a->param_options = all_param_options(all);
    for (const auto& o : a->param_options) {
        const auto defaults = defaults_of(o, all);
        a->opts[o.flags] = s->add_option(o.flags, a->given[o.flags], o.help + shown_defaults(defaults))->type_name(type_of(defaults));
    }
    s->add_option("--implicit-from-ratings", a->implicit_threshold,
                  "ials: read explicit ratings >= this as interactions (strength 1), drop the rest");
    s->add_option("--init", a->init, "start from the factors in this file (/init or /model)");
    s->add_option("--checkpoint-every", a->checkpoint_every, "write the state to --out every N iterations");
    s->add_flag("--resume", a->resume, "continue from the checkpoint in --out");
    s->add_option("--exchange", a->exchange,
                  "how alternating methods share factors: allgather (every rank holds every row) | targeted (own rows and the "
                  "rows its ratings reference, plan built once) | auto (allgather while it fits --memory-budget); same results")
        ->check(CLI::IsMember({"allgather", "targeted", "auto"}))
        ->capture_default_str();
    s->add_option("--memory-budget", a->memory_budget,
                  "bytes per rank: what auto lets allgather's factors take, and the most a method's state may (Bayesian MF's kept samples: train refuses beyond it) (K, M, G suffixes; 0: the node's available memory over its ranks)")
        ->capture_default_str();
    s->add_flag("--plan", a->plan, "print the bytes per rank (ratings, factors and buffers of each exchange, received per sweep, a method's state) and stop");
    reg.push_back({s, [a, &ctx] { run_train(*a, ctx); }});
}

}  // namespace distcf::cli
