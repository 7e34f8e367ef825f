#include "distcf/app/results_file.hpp"

#include <cstdio>
#include <fstream>

#include "distcf/io/atomic.hpp"
#include "distcf/io/delimited.hpp"
#include "distcf/io/store.hpp"

namespace distcf {

void write_svd_table(h5::File& f, const SvdFit& fit, SvdSolver solver, SelectK select_k) {
    const auto g = f.create_group("/svd");
    f.write_vector("/svd/singular_values", fit.singular_values);
    std::vector<std::int64_t> k(fit.table.k.begin(), fit.table.k.end());
    f.write_vector("/svd/k", k);
    f.write_vector("/svd/train_rmse", fit.table.train_rmse);
    f.write_vector("/svd/test_rmse", fit.table.test_rmse);
    f.write_vector("/svd/validation_rmse", fit.validation_rmse);
    g.set_attr("solver", std::string(enum_name(solver)));
    g.set_attr("select_k", std::string(enum_name(select_k)));
    g.set_attr("k_selected", std::int64_t{fit.k_selected});
}

void write_sweep_table(h5::File& f, const SweepResult& r, const std::string& at) {
    const auto g = f.create_group(at);
    std::vector<std::int64_t> factors;
    std::vector<double> lambda, alpha, noise, score, sd, seconds, folds;
    bool bayes = false;
    for (const auto& p : r.points) {
        factors.push_back(p.factors);
        lambda.push_back(p.lambda);
        noise.push_back(p.noise_precision);
        bayes = bayes || p.noise_precision > 0;
        alpha.push_back(p.alpha);
        score.push_back(p.score);
        sd.push_back(p.score_sd);
        seconds.push_back(p.seconds);
        folds.insert(folds.end(), p.fold_score.begin(), p.fold_score.end());
    }
    // validation_rmse for ALS, validation_ndcg (at the attribute `metric`'s N) for implicit ALS.
    const std::string name = r.metric == "rmse" ? "rmse" : "ndcg";
    f.write_vector(at + "/rank", factors);  // the k of each point (name kept from format version 1)
    f.write_vector(at + "/lambda", lambda);
    if (name == "ndcg") f.write_vector(at + "/alpha", alpha);
    if (bayes) f.write_vector(at + "/noise_precision", noise);
    f.write_vector(at + "/validation_" + name, score);
    f.write_vector(at + "/validation_" + name + "_sd", sd);
    f.write_vector(at + "/seconds", seconds);
    f.write_vector(at + "/fold_" + name, folds, r.folds);
    g.set_attr("metric", r.metric);
    g.set_attr("folds", std::int64_t{r.folds});
    g.set_attr("best", static_cast<std::int64_t>(r.best));
    g.set_attr("validation_ratings", r.validation_ratings);
}

void write_density_sweep(const std::string& path, const DensitySweep& d, const std::string& command_line, const Comm& comm) {
    AtomicOutput out(path, comm);
    {
        h5::File f = h5::File::create(out.temp_path(), comm, out.target());
        f.set_attr("format", std::string("distcf-density-sweep"));
        f.set_attr("format_version", std::int64_t{1});
        Provenance::now(command_line).write(f);
        f.write_vector("/density", d.density);
        f.write_vector("/ratings", d.ratings);
        f.write_vector("/best_rank", d.best_factors);
        f.write_vector("/best_lambda", d.best_lambda);
        f.write_vector("/best_rmse", d.best_rmse);
        for (std::size_t q = 0; q < d.sweeps.size(); ++q) write_sweep_table(f, d.sweeps[q], "/sweep" + std::to_string(q));
        f.close();
    }
    out.commit();
}

void write_recommendations(const std::string& path, const std::string& model_path, std::int64_t n_users,
                           const RecommendationBlock& mine, const IdMap& users, const IdMap& items,
                           const std::string& command_line, const Comm& comm) {
    AtomicOutput out(path, comm);
    {
        h5::File o = h5::File::create(out.temp_path(), comm, out.target());
        o.set_attr("format", std::string("distcf-recommendations"));
        o.set_attr("format_version", std::int64_t{1});
        Provenance::now(command_line).write(o);
        o.set_attr("model", model_path);
        o.set_attr("top", std::int64_t{mine.top});
        o.create_group("/recommendations");
        const std::int64_t rows = mine.u1 - mine.u0;
        o.create_dataset<std::int32_t>("/recommendations/items", n_users, mine.top).write_rows(mine.u0, rows, mine.items.data());
        o.create_dataset<double>("/recommendations/predicted", n_users, mine.top).write_rows(mine.u0, rows, mine.predicted.data());
        write_ids(o, "/ids/users", users);
        write_ids(o, "/ids/items", items);
        o.close();
    }
    out.commit();
}

void write_recommendations_text(const std::string& path, const RecommendationBlock& mine, const IdMap& users,
                                const IdMap& items, bool csv, const Comm& comm) {
    AtomicOutput out(path, comm);
    const char d = csv ? ',' : '\t';
    std::string error;
    // Rank r appends after rank r - 1 has closed the file: one writer at a time, in user order.
    for (int r = 0; r < comm.size(); ++r) {
        if (r == comm.rank() && error.empty()) {
            std::ofstream f(out.temp_path(), r == 0 ? std::ios::trunc : std::ios::app);
            if (r == 0) f << "user" << d << "rank" << d << "item" << d << "predicted\n";
            char buf[32];
            for (std::int64_t u = mine.u0; u < mine.u1; ++u) {
                const std::string user = users.label(u);
                for (int k = 0; k < mine.top; ++k) {
                    const auto e = static_cast<std::size_t>((u - mine.u0) * mine.top + k);
                    if (mine.items[e] < 0) break;
                    write_field(f, user, d);
                    f << d << k + 1 << d;
                    write_field(f, items.label(mine.items[e]), d);
                    std::snprintf(buf, sizeof buf, "%.4f", mine.predicted[e]);
                    f << d << buf << '\n';
                }
            }
            f.close();
            if (!f) error = "cannot write " + out.temp_path();
        }
        comm.barrier();
    }
    if (comm.any(!error.empty())) DISTCF_THROW(SystemError, error.empty() ? "another rank could not write " + path : error);
    out.commit();
}

void write_study(const std::string& path, const StudyResult& s, const std::string& command_line, const Comm& comm) {
    const std::int64_t I = s.n_items;
    AtomicOutput out(path, comm);
    {
        h5::File f = h5::File::create(out.temp_path(), comm, out.target());
        f.set_attr("format", std::string("distcf-study"));
        f.set_attr("format_version", std::int64_t{1});
        f.set_attr("data", s.data_path);
        f.set_attr("n_users", s.n_users);
        f.set_attr("n_items", s.n_items);
        f.set_attr("nnz_train", s.nnz_train);
        f.set_attr("nnz_test", s.nnz_test);
        Provenance::now(command_line).write(f);
        std::vector<std::string> names;
        std::vector<std::int64_t> ks;
        std::vector<double> lambdas, trs, tes;
        for (const auto& r : s.table) {
            names.push_back(r.method);
            ks.push_back(r.factors);
            lambdas.push_back(r.lambda);
            trs.push_back(r.train);
            tes.push_back(r.test);
        }
        f.write_strings("/comparison/method", names);
        f.write_vector("/comparison/k", ks);
        f.write_vector("/comparison/lambda", lambdas);
        f.write_vector("/comparison/train_rmse", trs);
        f.write_vector("/comparison/test_rmse", tes);
        f.group("/comparison").set_attr("oracle_train_rmse", s.oracle.train);
        f.group("/comparison").set_attr("oracle_test_rmse", s.oracle.test);
        write_svd_table(f, s.svd, s.svd_solver, s.svd_select_k);
        f.group("/svd").set_attr("baseline_test_rmse", s.baseline_test);
        f.group("/svd").set_attr("baseline_train_rmse", s.baseline_train);
        for (const auto& [name, m] : {std::pair{"als_seed", &s.als_notebook}, std::pair{"als_biased", &s.als_biased}}) {
            const std::string g = std::string("/") + name;
            f.write_vector(g + "/objective", m->history.objective);
            f.write_vector(g + "/train_rmse", m->history.train_rmse);
            f.write_vector(g + "/test_rmse", m->history.test_rmse);
            f.group(g).set_attr("rank", std::int64_t{m->n_factors});
            f.group(g).set_attr("lambda", m->params.real("lambda"));
        }
        if (!s.similarity.empty()) f.write_vector("/latent/similarity", s.similarity, I);
        f.write_vector("/latent/item_xy", s.item_xy, 2);
        f.write_vector("/latent/user_xy", s.user_xy, 2);
        f.group("/latent").set_attr("model", s.latent_model);
        f.group("/latent").set_attr("rank", std::int64_t{s.latent_k});
        if (!s.item_genre.empty()) {
            f.write_vector("/latent/item_genre", s.item_genre);
            f.write_strings("/latent/genre_names", s.genre_names);
            f.write_vector("/latent/alignment", s.alignment, s.latent_k);
        }
        f.write_vector("/recommend/items", s.rec_items);
        std::vector<std::string> rec_ids;
        for (auto i : s.rec_items) rec_ids.push_back(s.items.label(i));
        f.write_strings("/recommend/item_ids", rec_ids);
        f.write_vector("/recommend/predicted", s.rec_predicted);
        f.group("/recommend").set_attr("user", s.users.label(s.active_user));
        if (!s.genre_mean.empty()) f.write_vector("/recommend/genre_mean", s.genre_mean);
        f.write_vector("/test/observed", s.test_observed);
        f.write_vector("/test/predicted", s.test_predicted);
        if (!s.observed.empty()) {
            f.write_vector("/matrices/observed", s.observed, I);
            if (!s.truth.empty()) f.write_vector("/matrices/truth", s.truth, I);
        }
        f.close();
    }
    out.commit();
}

}  // namespace distcf
