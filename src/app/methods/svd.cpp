// SVD collaborative filtering as a registered method: one decomposition, a table of k.
#include <algorithm>
#include <cstdio>

#include "distcf/app/method.hpp"
#include "distcf/app/results_file.hpp"
#include "distcf/la/scalapack.hpp"
#include "distcf/model/svd.hpp"

namespace distcf {

namespace {

std::string fixed4(const std::vector<double>& v, std::size_t q) {
    if (q >= v.size()) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.4f", v[q]);
    return b;
}

class SvdMethod final : public TypedMethod<SvdParams> {
public:
    std::string name() const override { return "svd"; }
    std::string summary() const override { return "truncated SVD of the bias-removed ratings (ScaLAPACK or randomized), k by validation"; }

protected:
    TrainResult fit_typed(const TrainingSet& data, const SvdParams& p, const Comm& comm, const TrainHooks&) const override {
        TrainResult r;
        const SvdSolver solver = resolve_svd_solver(p, data.train.n_users, data.train.n_items, comm.size());
        std::string head = std::string("svd: ") + enum_name(solver) + " solver";
        if (solver == SvdSolver::Dense) {
            const auto g = scalapack::square_grid(comm.size());
            head += " (ScaLAPACK pdgesvd, " + std::to_string(g.rows) + " x " + std::to_string(g.cols) + " grid, block " +
                    std::to_string(p.block_size) + ")";
        } else {
            head += " (oversample " + std::to_string(p.oversample) + ", " + std::to_string(p.power_iters) + " power iterations)";
        }
        head += std::string(", ") + enum_name(p.baseline.estimator) + " baseline, k chosen by " + enum_name(p.select_k);
        r.report.push_back(head);
        const double t0 = Comm::wtime();
        auto fit = std::make_shared<SvdFit>(fit_svd(data.train, data.test, p, comm));
        const double seconds = comm.bcast_value(Comm::wtime() - t0);
        r.report.push_back("     k   train RMSE    test RMSE   validation RMSE");
        for (std::size_t q = 0; q < fit->table.k.size(); ++q) {
            char line[128];
            std::snprintf(line, sizeof line, "%6d %12.4f %12s %17s", fit->table.k[q], fit->table.train_rmse[q],
                          fixed4(fit->table.test_rmse, q).c_str(), fixed4(fit->validation_rmse, q).c_str());
            r.report.push_back(line);
        }
        const auto at = static_cast<std::size_t>(std::find(fit->table.k.begin(), fit->table.k.end(), fit->k_selected) -
                                                 fit->table.k.begin());
        const bool have_test = !fit->table.test_rmse.empty();
        r.model = fit->model;
        r.model.history.push(0, fit->table.train_rmse[at], have_test ? fit->table.test_rmse[at] : -1.0, seconds, 0);
        char label[96];
        std::snprintf(label, sizeof label, "svd (%s, k=%d by %s)", enum_name(solver), fit->k_selected, enum_name(p.select_k));
        r.label = label;
        const SelectK select = p.select_k;
        r.extra = [fit, solver, select](h5::File& f) { write_svd_table(f, *fit, solver, select); };
        return r;
    }
};

}  // namespace

std::unique_ptr<Method> make_svd_method() { return std::make_unique<SvdMethod>(); }

}  // namespace distcf
