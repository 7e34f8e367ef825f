#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/app/recommend.hpp"
#include "distcf/error.hpp"
#include "distcf/io/item_info.hpp"

namespace distcf::cli {

namespace {

struct RecommendArgs {
    std::string model, user, out, titles, format = "auto";
    int top = 10;
    bool all_users = false;
    std::string rank_by = "mean";
    double z = 1.0;
    ColdStart cold;
};

void print_list(std::ostream& o, const FactorModel& m, const IdMap& items, const std::vector<Scored>& list, Shown shown,
                const std::map<std::string, ItemInfo>& info = {}) {
    o << "  rank  item        " << (shown == Shown::Cosine ? "cosine" : "predicted") << (info.empty() ? "" : "  title (genres)")
      << "\n";
    for (std::size_t r = 0; r < list.size(); ++r) {
        char line[400];
        const std::string id = items.label(list[r].item);
        std::string title;
        if (const auto it = info.find(id); it != info.end()) title = "  " + it->second.title + " (" + it->second.genres + ")";
        std::snprintf(line, sizeof line, "%6zu  %-10s %10.4f%s\n", r + 1, id.c_str(), shown_value(m, list[r], shown), title.c_str());
        o << line;
    }
}

// The list as JSON: rank, item ID, the value shown (and title/genres when known).
nlohmann::json list_json(const FactorModel& m, const IdMap& items, const std::vector<Scored>& list, Shown shown,
                         const std::map<std::string, ItemInfo>& info) {
    nlohmann::json rows = nlohmann::json::array();
    for (std::size_t r = 0; r < list.size(); ++r) {
        const std::string id = items.label(list[r].item);
        nlohmann::json row{{"rank", r + 1}, {"item", id}, {shown == Shown::Cosine ? "cosine" : "predicted", shown_value(m, list[r], shown)}};
        if (const auto it = info.find(id); it != info.end()) {
            row["title"] = it->second.title;
            row["genres"] = it->second.genres;
        }
        rows.push_back(row);
    }
    return rows;
}

void run_recommend(const RecommendArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    a.cold.validate();
    // Every user's list: each rank reads only its users' rows (a lower bound reads the samples whole).
    const LoadedModel lm = LoadedModel::load(a.model, 0, comm, a.all_users && a.rank_by != "lcb");
    const FactorModel& m = lm.model;
    note_if_checkpoint(a.model, m, comm);
    if (!a.all_users) {
        if (a.user.empty()) DISTCF_THROW(UsageError, "recommend: give --user ID or --all-users");
        const UserRecommendation r = recommend_user(lm, a.user, a.top, a.cold, comm, RankBy{a.rank_by == "lcb", a.z});
        const auto info = a.titles.empty() ? std::map<std::string, ItemInfo>{} : read_item_info(a.titles);
        ctx.result = {{"user", a.user},
                      {"known", r.known},
                      {"cold", r.cold},
                      {"training_ratings", r.ratings},
                      {"excluded", r.excluded},
                      {"shown", r.shown == Shown::Fallback ? "fallback" : "prediction"},
                      {"items", list_json(m, lm.items, r.list, r.shown, info)}};
        if (!r.has_seen) ctx.out << "note: " << a.model << " keeps no training items (/seen); nothing is excluded\n";
        if (!r.known) {
            ctx.out << "user " << a.user << " is not in the model: the most rated items, with the baseline's prediction\n";
        } else {
            if (r.cold)
                ctx.out << "user " << a.user << " has " << r.ratings << " training ratings (< " << a.cold.threshold
                        << "): the most rated items\n";
            ctx.out << "top " << a.top << " for user " << a.user << " (" << r.excluded << " rated items excluded)\n";
        }
        print_list(ctx.out, m, lm.items, r.list, r.shown, info);
        return;
    }
    if (a.out.empty()) DISTCF_THROW(UsageError, "recommend --all-users: give --out RECS.h5");
    check_output(a.out, {a.model});
    RecommendationsOutput output;
    output.format = RecommendationsOutput::parse(a.format, a.out);
    output.command_line = ctx.command_line;
    const AllUsersReport r = recommend_all_users(lm, a.out, a.top, a.cold, comm, RankBy{a.rank_by == "lcb", a.z}, output);
    const bool hdf5 = output.format == RecommendationsOutput::Format::Hdf5;
    ctx.result = {{"users", m.n_users}, {"top", r.top}, {"ranks", comm.size()}, {"seconds", r.seconds}, {"out", a.out},
                  {"format", hdf5 ? "hdf5" : output.format == RecommendationsOutput::Format::Csv ? "csv" : "tsv"},
                  {"training_items_excluded", r.has_seen}, {"scored_fraction", r.scored_fraction}};
    if (!r.has_seen) ctx.out << "note: " << a.model << " keeps no training items (/seen); nothing is excluded\n";
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.3g", r.seconds);
    ctx.out << "top " << r.top << " for all " << m.n_users << " users on " << comm.size() << " MPI rank" << (comm.size() > 1 ? "s" : "")
            << " in " << secs << " s -> " << a.out
            << (hdf5 ? " (/recommendations/items are indices into /ids/items)" : " (user, rank, item, predicted; the data's IDs)") << "\n";
    if (r.scored_fraction < 1.0) {  // what the exact pruning of the item index saved
        char frac[32];
        std::snprintf(frac, sizeof frac, "%.3g%%", 100.0 * r.scored_fraction);
        ctx.out << "scored " << frac << " of the user-item pairs (the rest could not enter a top " << r.top << ")\n";
    }
}

struct SimilarArgs {
    std::string model, item, titles;
    int top = 10;
};

void run_similar(const SimilarArgs& a, Context& ctx) {
    const LoadedModel lm = LoadedModel::load(a.model, 0, ctx.comm);
    const FactorModel& m = lm.model;
    const auto i = lm.items.find(a.item);
    if (!i) DISTCF_THROW(InputError, a.model + ": item '" + a.item + "' is not in the model");
    const auto info = a.titles.empty() ? std::map<std::string, ItemInfo>{} : read_item_info(a.titles);
    const auto named = info.find(a.item);
    const auto list = similar_items(m, *i, a.top);
    ctx.result = {{"item", a.item}, {"k", m.n_factors}, {"items", list_json(m, lm.items, list, Shown::Cosine, info)}};
    if (named != info.end()) ctx.result["title"] = named->second.title;
    ctx.out << "items most similar to " << a.item << (named != info.end() ? " (" + named->second.title + ")" : "")
            << " (cosine of the item factors, k = " << m.n_factors << ")\n";
    print_list(ctx.out, m, lm.items, list, Shown::Cosine, info);
}

}  // namespace

void add_recommend(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<RecommendArgs>();
    CLI::App* s = app.add_subcommand("recommend", "Top-N items for a user (rated items excluded), or for every user");
    s->add_option("--model", a->model, "model file")->required();
    s->add_option("--user", a->user, "external user ID");
    s->add_option("--top", a->top, "N")->capture_default_str();
    s->add_flag("--all-users", a->all_users, "every user, in parallel, into --out");
    s->add_option("--out", a->out, "output of --all-users: HDF5, or a table of IDs (.tsv/.csv, or --format)");
    s->add_option("--format", a->format, "--all-users output: hdf5 | tsv | csv | auto (by the --out extension)")
        ->check(CLI::IsMember({"auto", "hdf5", "tsv", "csv"}))
        ->capture_default_str();
    s->add_option("--titles", a->titles, "MovieLens u.item, movies.dat or movies.csv: show titles and genres");
    add_rank_by(s, a->rank_by, a->z);
    add_cold_options(s, a->cold);
    reg.push_back({s, [a, &ctx] { run_recommend(*a, ctx); }});

    auto b = std::make_shared<SimilarArgs>();
    CLI::App* t = app.add_subcommand("similar", "Items most similar to an item (cosine of item factors)");
    t->add_option("--model", b->model, "model file")->required();
    t->add_option("--item", b->item, "external item ID")->required();
    t->add_option("--top", b->top, "N")->capture_default_str();
    t->add_option("--titles", b->titles, "MovieLens u.item, movies.dat or movies.csv: show titles and genres");
    reg.push_back({t, [b, &ctx] { run_similar(*b, ctx); }});
}

}  // namespace distcf::cli
