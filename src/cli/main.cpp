// distcf: the one program. The only place that names MPI_COMM_WORLD; maps errors to exit codes:
// 0 success, 1 a failed run (bad input, I/O, numerics), 2 a bad command line, 3 stopped on request
// (a signal) after writing a checkpoint.

#include <mpi.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "cli.hpp"
#include "distcf/error.hpp"
#include "distcf/util/progress.hpp"
#include "distcf/util/startup.hpp"
#include "distcf/util/threads.hpp"
#include "distcf/version.hpp"

namespace {

// A directory of this process's own for Open MPI's session files, removed when main returns
// (after MPI_Finalize, which empties it). Empty path: none was made.
// A singleton's own Open MPI session directory, made when it starts MPI (most runs never do:
// mpi/comm.hpp) and removed at exit. Made up front, it cost every run a directory created and
// removed: on a file system mounted with discard, the removal waits for the discard of the
// directory's block (measured: up to 6 ms of a 0.15 s Bayesian MF run on MovieLens u1).
struct PrivateSessionDir {
    std::string path;
    // Names it in OMPI_MCA_orte_tmpdir_base unless the user set that.
    void make() {
        if (!path.empty() || std::getenv("OMPI_MCA_orte_tmpdir_base")) return;
        const char* tmp = std::getenv("TMPDIR");
        // (The pid names whose it was: a killed process leaves its empty tree, as Open MPI does.)
        std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/distcf-mpi." + std::to_string(getpid()) + ".XXXXXX";
        if (mkdtemp(dir.data()) == nullptr) return;
        path = dir;
        setenv("OMPI_MCA_orte_tmpdir_base", dir.c_str(), 1);
    }
    ~PrivateSessionDir() {
        if (!path.empty()) rmdir(path.c_str());
    }
};

class NullBuffer : public std::streambuf {
protected:
    int overflow(int c) override { return c; }
};

// Whether every rank failed too, within `wait`: errors found collectively (bad input, a shared
// verdict) reach every rank at once, and then the job ends cleanly with one message and no
// MPI_Abort. A barrier on a communicator of its own cannot meet the collectives of ranks that are
// still working: when some rank did not fail, it never completes and the caller aborts.
bool every_rank_failed(MPI_Comm errors, std::chrono::milliseconds wait) {
    MPI_Request req;
    if (MPI_Ibarrier(errors, &req) != MPI_SUCCESS) return false;
    const auto until = std::chrono::steady_clock::now() + wait;
    int done = 0;
    while (!done && std::chrono::steady_clock::now() < until) {
        if (MPI_Test(&req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return false;
        if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return done != 0;
}

// Without OMP_NUM_THREADS every rank would start one thread per visible core; with several ranks
// per node that oversubscribes the cores. Use SLURM's CPUs per task, else the cores this rank is
// bound to, else a share of the node (distcf/util/threads.hpp).
void choose_thread_count(bool launched) {
    if (std::getenv("OMP_NUM_THREADS") != nullptr) return;
    MPI_Comm node = MPI_COMM_NULL;
    int local = 1;
    if (launched && MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_size(node, &local);
        MPI_Comm_free(&node);
    }
    omp_set_num_threads(distcf::default_thread_count(local));
}

// A singleton's MPI, started when something first needs MPI itself (mpi/comm.hpp): errors are
// returned and reported, as in a launched job.
void start_singleton_mpi() {
    int provided = 0;
    DISTCF_MPI_CALL(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

}  // namespace

int main(int argc, char** argv) {
    // OpenBLAS kernels for the CPU it runs on, where OpenBLAS fell back to pre-AVX ones
    // (util/threads.hpp). The threads' wait policy came before main (util/startup.hpp).
    distcf::reexec_with_process_settings(argc, argv);
    // Started without mpirun/srun, the process is a singleton that talks to nobody: skip the UCX
    // transport's start-up (0.2 s of a 0.3 s MPI_Init here). Launched jobs keep their settings.
    // Nor does it ever spawn: no supporting daemon (another 0.15 s; 0.05 s is left of MPI_Init).
    // Nor does it need the machine's I/O devices, which hwloc finds by reading every PCI device's
    // configuration space (12 of the 21 ms left of MPI_Init on a 2-core VM) and by asking the GPU
    // libraries and the X display (its GL plugin connects to the X server), nor hwloc's plugins.
    // And every isolated singleton names its session directory alike (<tmp>/ompi.<host>.<uid>/
    // jf.0/1/0) and removes the whole chain at exit: two started together (ctest -j, a job
    // array's tasks on one node) can remove it from under each other, and one then fails to start
    // ("orte_session_dir failed", seen in a test run). Each takes a directory of its own, when it
    // starts MPI.
    // Such a singleton starts MPI only if it needs MPI itself (the SVD's ScaLAPACK grid): until
    // then it is rank 0 of 1 without MPI_Init and MPI_Finalize, 33 ms of a 0.3 s MovieLens u1 run
    // (mpi/comm.hpp).
    PrivateSessionDir session;
    const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
    if (!launched) {
        if (!std::getenv("OMPI_MCA_pml")) setenv("OMPI_MCA_pml", "ob1", 0);
        setenv("OMPI_MCA_ess_singleton_isolated", "1", 0);
        setenv("HWLOC_COMPONENTS", "-pci,-linuxio,-gl,-opencl,-cuda,-nvml,-rsmi,-levelzero", 0);
        // Excluded components are still loaded, with their libraries (libxml2 and ICU, OpenCL, X11,
        // libpciaccess): 10 of the 41 ms of a bare MPI_Init and MPI_Finalize on a 2-core VM. The
        // topology a singleton needs is hwloc's built-in Linux and x86 discovery.
        setenv("HWLOC_PLUGINS_BLACKLIST",
               "hwloc_xml_libxml,hwloc_pci,hwloc_gl,hwloc_opencl,hwloc_cuda,hwloc_nvml,hwloc_rsmi,hwloc_levelzero", 0);
    }

    int rank = 0, size = 1;
    MPI_Comm errors = MPI_COMM_NULL;  // only for agreeing that every rank failed
    if (launched) {
        int provided = 0;
        if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            std::fprintf(stderr, "distcf: error: MPI_Init_thread failed\n");
            return 1;
        }
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        // Errors are returned and reported, not fatal inside MPI.
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_dup(MPI_COMM_WORLD, &errors);
    } else {
        distcf::mpi::defer_start([&session] {
            session.make();
            start_singleton_mpi();
        });
    }
    // MPI_Finalize wherever MPI was started, eagerly or on demand.
    const auto finish = [&errors] {
        if (!distcf::mpi::started()) return;
        if (errors != MPI_COMM_NULL) MPI_Comm_free(&errors);
        MPI_Finalize();
    };
    choose_thread_count(launched);

    // Results line by line even into a pipe or a job's log (a long SVD printed nothing until it
    // ended when stdout was block-buffered).
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    NullBuffer null_buffer;
    std::ostream text_out(rank == 0 ? std::cout.rdbuf() : &null_buffer);
    int code = 0;
    std::string message, where;
    {
        const distcf::Comm world = distcf::Comm::view(MPI_COMM_WORLD);
        std::ostringstream cmd;
        for (int i = 0; i < argc; ++i) cmd << (i ? " " : "") << argv[i];
        distcf::cli::Context ctx{world, cmd.str(), text_out};

        CLI::App app{"distcf: collaborative filtering on one machine or many (MPI): predict ratings and recommend items with a bias\n"
                     "baseline, SVD (ScaLAPACK), ALS, implicit-feedback ALS or Bayesian MF (posterior uncertainty)"};
        // The BLAS core says which kernels run (the settings the program gave itself: util/threads.hpp).
        const std::string core = distcf::blas_core_name();
        std::string version = std::string("distcf ") + distcf::kVersion + (core.empty() ? "" : " (OpenBLAS core " + core + ")");
        const distcf::StartupSettings& startup = distcf::applied_startup_settings();
        for (int i = 0; i < startup.count; ++i)
            version += std::string(i ? " " : "; set at start-up: ") + startup.set[i].name + "=" + startup.set[i].value;
        app.set_version_flag("--version", version);
        app.require_subcommand(1);
        bool verbose = false;
        app.add_flag("--verbose", verbose, "with an error, also the source location that raised it");
        bool quiet = false, json = false;
        std::string log_format = "text";
        app.add_flag("--quiet,-q", quiet, "no progress or stage lines on standard error (results and errors still)");
        app.add_option("--log-format", log_format, "progress on standard error as text lines or one JSON object per event")
            ->check(CLI::IsMember({"text", "json"}))
            ->capture_default_str();
        app.add_flag("--json", json, "results on standard output as one JSON object instead of text");
        app.fallthrough();  // the global options after the subcommand too
        distcf::cli::Registry reg;
        distcf::cli::add_import(app, ctx, reg);
        distcf::cli::add_info(app, ctx, reg);
        distcf::cli::add_split(app, ctx, reg);
        distcf::cli::add_generate(app, ctx, reg);
        distcf::cli::add_train(app, ctx, reg);
        distcf::cli::add_predict(app, ctx, reg);
        distcf::cli::add_evaluate(app, ctx, reg);
        distcf::cli::add_sweep(app, ctx, reg);
        distcf::cli::add_recommend(app, ctx, reg);
        distcf::cli::add_foldin(app, ctx, reg);
        distcf::cli::add_study(app, ctx, reg);
        distcf::cli::add_clean(app, ctx, reg);

        try {
            try {
                app.parse(argc, argv);
            } catch (const CLI::CallForHelp& e) {
                if (rank == 0) app.exit(e);
                finish();
                return 0;
            } catch (const CLI::CallForAllHelp& e) {
                if (rank == 0) app.exit(e);
                finish();
                return 0;
            } catch (const CLI::CallForVersion& e) {
                if (rank == 0) app.exit(e);
                finish();
                return 0;
            } catch (const CLI::ParseError& e) {
                if (rank == 0) {
                    std::string msg = e.what();
                    if (argc > 1 && argv[1][0] != '-') {
                        bool known = false;
                        std::string names;
                        for (const auto& c : reg) {
                            known = known || c.app->get_name() == argv[1];
                            names += (names.empty() ? "" : ", ") + c.app->get_name();
                        }
                        if (!known) msg = std::string("unknown subcommand '") + argv[1] + "' (one of: " + names + ")";
                    }
                    std::cerr << "distcf: usage error: " << msg << "\n";
                    std::cerr << "Run with --help for more information.\n";
                }
                finish();
                return 2;
            }
            distcf::ReportingOptions ro;
            ro.enabled = rank == 0 && !quiet;
            ro.format = log_format == "json" ? distcf::LogFormat::Json : distcf::LogFormat::Text;
            ro.terminal = isatty(STDERR_FILENO) != 0;
            distcf::configure_reporting(ro);
            ctx.json = json;
            if (json) text_out.rdbuf(&null_buffer);
            for (auto& c : reg)
                if (c.app->parsed()) c.run();
            if (json && rank == 0) std::cout << ctx.result.dump(2) << "\n";
        } catch (const distcf::Interrupted& e) {  // a requested stop, its state saved
            code = 3;
            message = e.what();
        } catch (const distcf::UsageError& e) {
            code = 2;
            message = e.what();
        } catch (const distcf::ParameterError& e) {  // a bad value, named by its field
            code = 2;
            message = e.what();
            where = std::string(" [") + e.file() + ":" + std::to_string(e.line()) + "]";
        } catch (const distcf::Error& e) {
            code = 1;
            message = e.what();
            where = std::string(" [") + e.file() + ":" + std::to_string(e.line()) + "]";
        } catch (const std::bad_alloc&) {
            code = 1;
            message = "out of memory";
        } catch (const std::exception& e) {
            code = 1;
            message = std::string("internal error: ") + e.what();
        }
        if (code != 0 && !verbose) where.clear();
    }
    std::cout.flush();
    if (code != 0) {
        // One clean line when every rank failed together (rank 0 speaks); a lone failure names its
        // rank and has to abort the ranks still waiting in a collective.
        const bool together = size == 1 || every_rank_failed(errors, std::chrono::seconds(3));
        if (together && rank == 0) std::cerr << (code == 3 ? "distcf: stopped: " : "distcf: error: ") << message << where << std::endl;
        if (!together) {
            std::cerr << "distcf: error [rank " << rank << "]: " << message << where << std::endl;
            MPI_Abort(MPI_COMM_WORLD, code);
        }
    }
    finish();
    return code;
}
