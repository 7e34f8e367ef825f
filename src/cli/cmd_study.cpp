// distcf study: the notebook's whole study (distcf/app/study.hpp) run, printed and written.
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/app/results_file.hpp"
#include "distcf/app/study.hpp"
#include "distcf/io/item_info.hpp"

namespace distcf::cli {

namespace {

struct StudyArgs {
    StudyOptions study;
    std::string titles;
};

std::string fmt(double v, const char* f = "%.4f") {
    if (v < 0 || !std::isfinite(v)) return "-";
    char b[32];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

void print_table(std::ostream& o, const StudyResult& s) {
    o << "\n  method                            k   lambda   train RMSE   test RMSE\n";
    for (const auto& r : s.table) {
        char line[160];
        std::snprintf(line, sizeof line, "  %-32s %2s %8s %12.4f %11.4f\n", r.method.c_str(),
                      r.factors ? std::to_string(r.factors).c_str() : "-", r.lambda > 0 ? fmt(r.lambda, "%g").c_str() : "-",
                      r.train, r.test);
        o << line;
    }
    if (s.oracle.test >= 0)
        o << "  oracle (noise-free truth)                        " << fmt(s.oracle.train) << "      " << fmt(s.oracle.test) << "\n";
    o << "  (choice of k and lambda for distcf's ALS: "
      << (s.sweep_folds ? std::to_string(s.sweep_folds) + "-fold" : std::string("hold-out"))
      << " validation on the training ratings; the notebook chose its SVD k by test RMSE)\n";
}

void print_recommendations(std::ostream& o, const StudyResult& s, int top, const std::map<std::string, ItemInfo>& info) {
    o << "\ntop " << top << " for the most active user (" << s.users.label(s.active_user) << ", " << s.active_user_ratings
      << " training ratings; rated movies excluded)\n";
    for (std::size_t r = 0; r < s.rec_items.size(); ++r) {
        char line[400];
        const auto i = s.rec_items[r];
        const auto named = info.find(s.items.label(i));
        const std::string what = named != info.end() ? "  " + named->second.title + " (" + named->second.genres + ")"
                                 : !s.item_genre.empty() ? "  genre " + s.genre_names[static_cast<std::size_t>(s.item_genre[i])]
                                                         : std::string();
        std::snprintf(line, sizeof line, "  %2zu. item %-8s predicted %.2f%s\n", r + 1, s.items.label(i).c_str(),
                      s.rec_predicted[r], what.c_str());
        o << line;
    }
    if (!s.genre_mean.empty()) {
        o << "  that user's mean rating per genre:";
        for (std::size_t g = 0; g < s.genre_mean.size(); ++g)
            o << " " << s.genre_names[g] << " " << (std::isnan(s.genre_mean[g]) ? std::string("-") : fmt(s.genre_mean[g], "%.2f"));
        o << "\n";
    }
}

void run(StudyArgs& a, Context& ctx) {
    auto& o = ctx.out;
    a.study.command_line = ctx.command_line;
    check_output(a.study.out, {a.study.data});
    const auto info = a.titles.empty() ? std::map<std::string, ItemInfo>{} : read_item_info(a.titles);
    const StudyResult s = run_study(a.study, ctx.comm, [&](const std::string& line) { o << line << "\n"; });
    o << "data: " << s.data_path << ": " << s.nnz_train << " training ratings, " << s.n_users << " users, " << s.n_items
      << " items; " << s.nnz_test << " test ratings; " << ctx.comm.size() << " MPI rank" << (ctx.comm.size() > 1 ? "s" : "") << "\n";
    print_table(o, s);
    print_recommendations(o, s, a.study.top, info);
    write_study(a.study.out, s, ctx.command_line, ctx.comm);
    nlohmann::json table = nlohmann::json::array();
    for (const auto& r : s.table)
        table.push_back({{"method", r.method}, {"factors", r.factors}, {"lambda", r.lambda}, {"train_rmse", r.train}, {"test_rmse", r.test}});
    ctx.result = {{"data", s.data_path}, {"users", s.n_users}, {"items", s.n_items}, {"train_ratings", s.nnz_train},
                  {"test_ratings", s.nnz_test}, {"comparison", table}, {"seconds", s.seconds}, {"out", a.study.out}};
    o << "\nstudy written to " << a.study.out << " in " << fmt(s.seconds, "%.3g") << " s on " << ctx.comm.size()
      << " MPI rank" << (ctx.comm.size() > 1 ? "s" : "") << "; pictures: /usr/bin/python3 scripts/report.py " << a.study.out
      << " --out DIR\n";
}

}  // namespace

void add_study(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<StudyArgs>();
    CLI::App* s = app.add_subcommand("study", "Run the original study (the numpy notebook distcf grew from: bias baseline, SVD, ALS, latent space, top-N) and write one results file");
    s->add_option("--data", a->study.data, "a rating store (default: built-in synthetic data of the original study's size, 80 users x 50 movies)");
    s->add_option("--out", a->study.out, "results file (HDF5)")->capture_default_str();
    s->add_option("--test-fraction", a->study.test_fraction, "hold-out fraction when the data have no stored split")->capture_default_str();
    s->add_option("--top", a->study.top, "N of the recommendations")->capture_default_str();
    s->add_option("--titles", a->titles, "MovieLens u.item, movies.dat or movies.csv: show titles and genres");
    reg.push_back({s, [a, &ctx] { run(*a, ctx); }});
}

}  // namespace distcf::cli
