#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <ostream>

#include "cli.hpp"
#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/io/item_info.hpp"
#include "distcf/io/store.hpp"
#include "distcf/model/recommend.hpp"

namespace distcf::cli {

namespace {

struct RecommendArgs {
    std::string model, user, out, titles;
    int top = 10;
    bool all_users = false;
    ColdStart cold;
};

// Under the fallback policy a user with fewer than the threshold's training ratings gets the most
// rated items (minus what they rated) instead of the model's ranking.
bool cold_user(const FactorModel& m, std::int64_t u, const ColdStart& c) {
    return c.policy == "fallback" && m.user_counts[static_cast<std::size_t>(u)] < c.threshold;
}

std::vector<std::int32_t> seen_row(const SeenItems& seen, std::int64_t r) {
    return {seen.items.begin() + seen.ptr[r], seen.items.begin() + seen.ptr[r + 1]};
}

// What a user with no model row gets: the most rated items (a learned bias would favour items
// with one enthusiastic rating).
std::vector<double> popularity_order(const FactorModel& m) { return {m.item_counts.begin(), m.item_counts.end()}; }

enum class Shown { Prediction, Fallback, Cosine };

void print_list(std::ostream& o, const FactorModel& m, const IdMap& items, const std::vector<Scored>& list, Shown shown,
                const std::map<std::string, ItemInfo>& info = {}) {
    o << "  rank  item        " << (shown == Shown::Cosine ? "cosine" : "predicted") << (info.empty() ? "" : "  title (genres)")
      << "\n";
    for (std::size_t r = 0; r < list.size(); ++r) {
        char line[400];
        const double v = shown == Shown::Cosine     ? list[r].score
                         : shown == Shown::Fallback ? m.fallback(-1, list[r].item)
                                                    : std::clamp(list[r].score, m.rating_min, m.rating_max);
        const std::string id = items.label(list[r].item);
        std::string title;
        if (const auto it = info.find(id); it != info.end()) title = "  " + it->second.title + " (" + it->second.genres + ")";
        std::snprintf(line, sizeof line, "%6zu  %-10s %10.4f%s\n", r + 1, id.c_str(), v, title.c_str());
        o << line;
    }
}

void run_recommend(const RecommendArgs& a, Context& ctx) {
    const Comm& comm = ctx.comm;
    IdMap users, items;
    const FactorModel m = with_rank(load_model(a.model, comm, &users, &items), 0);
    const h5::File f = h5::File::open(a.model, comm);
    if (!f.exists("/seen/ptr"))
        ctx.out << "note: " << a.model << " keeps no training items (/seen); nothing is excluded\n";
    if (!a.all_users) {
        if (a.user.empty()) DISTCF_THROW(UsageError, "recommend: give --user ID or --all-users");
        const auto u = users.find(a.user);
        std::vector<Scored> list;
        Shown shown = Shown::Prediction;
        if (!u) {
            shown = Shown::Fallback;
            // Cold: a user the model never saw gets the most popular items.
            list = best_items(popularity_order(m), {}, a.top);
            ctx.out << "user " << a.user << " is not in the model: the most rated items, with the baseline's prediction\n";
        } else {
            const SeenItems seen = read_seen(f, *u, *u + 1);
            if (cold_user(m, *u, a.cold)) {
                shown = Shown::Fallback;
                list = best_items(popularity_order(m), seen_row(seen, 0), a.top);
                ctx.out << "user " << a.user << " has " << m.user_counts[*u] << " training ratings (< " << a.cold.threshold
                        << "): the most rated items\n";
            } else {
                list = top_n(m, *u, *u + 1, seen, a.top).front();
            }
            ctx.out << "top " << a.top << " for user " << a.user << " (" << seen.ptr.back() << " rated items excluded)\n";
        }
        print_list(ctx.out, m, items, list, shown, a.titles.empty() ? std::map<std::string, ItemInfo>{} : read_item_info(a.titles));
        return;
    }
    if (a.out.empty()) DISTCF_THROW(UsageError, "recommend --all-users: give --out RECS.h5");
    require_output_dir(a.out);
    const double t0 = MPI_Wtime();
    const BlockPartition part = BlockPartition::balanced(m.user_counts, comm.size());
    const auto u0 = part.begin(comm.rank()), u1 = part.end(comm.rank());
    const SeenItems seen = read_seen(f, u0, u1);
    auto top = top_n(m, u0, u1, seen, a.top);
    const std::vector<double> popular = popularity_order(m);
    for (std::int64_t u = u0; u < u1; ++u)
        if (cold_user(m, u, a.cold)) top[static_cast<std::size_t>(u - u0)] = best_items(popular, seen_row(seen, u - u0), a.top);
    const int n = static_cast<int>(std::min<std::int64_t>(a.top, m.n_items));
    std::vector<std::int32_t> idx;
    std::vector<double> score;
    idx.reserve(static_cast<std::size_t>((u1 - u0) * n));
    score.reserve(idx.capacity());
    for (std::int64_t u = u0; u < u1; ++u) {
        const auto& list = top[static_cast<std::size_t>(u - u0)];
        const bool cold = cold_user(m, u, a.cold);
        for (int r = 0; r < n; ++r) {  // a user who rated nearly everything may have fewer than n
            const bool have = r < static_cast<int>(list.size());
            const auto& e = list[static_cast<std::size_t>(have ? r : 0)];
            idx.push_back(have ? e.item : -1);
            score.push_back(!have ? 0.0 : cold ? m.fallback(-1, e.item) : std::clamp(e.score, m.rating_min, m.rating_max));
        }
    }
    const double seconds = comm.max(MPI_Wtime() - t0);
    AtomicOutput out(a.out, comm);
    {
        h5::File o = h5::File::create(out.temp_path(), comm);
        o.set_attr("format", std::string("distcf-recommendations"));
        o.set_attr("model", a.model);
        o.set_attr("top", std::int64_t{n});
        o.create_group("/recommendations");
        o.create_dataset<std::int32_t>("/recommendations/items", m.n_users, n).write_rows(u0, u1 - u0, idx.data());
        o.create_dataset<double>("/recommendations/predicted", m.n_users, n).write_rows(u0, u1 - u0, score.data());
        write_ids(o, "/ids/users", users);
        write_ids(o, "/ids/items", items);
        o.close();
    }
    out.commit();
    ctx.out << "top " << n << " for all " << m.n_users << " users on " << comm.size() << " rank(s) in " << seconds
            << " s -> " << a.out << " (/recommendations/items are indices into /ids/items)\n";
}

struct SimilarArgs {
    std::string model, item, titles;
    int top = 10;
};

void run_similar(const SimilarArgs& a, Context& ctx) {
    IdMap users, items;
    const FactorModel m = with_rank(load_model(a.model, ctx.comm, &users, &items), 0);
    const auto i = items.find(a.item);
    if (!i) DISTCF_THROW(InputError, a.model + ": item '" + a.item + "' is not in the model");
    const auto info = a.titles.empty() ? std::map<std::string, ItemInfo>{} : read_item_info(a.titles);
    const auto named = info.find(a.item);
    ctx.out << "items most similar to " << a.item << (named != info.end() ? " (" + named->second.title + ")" : "")
            << " (cosine of the item factors, k = " << m.rank << ")\n";
    print_list(ctx.out, m, items, similar_items(m, *i, a.top), Shown::Cosine, info);
}

}  // namespace

void add_recommend(CLI::App& app, Context& ctx, Registry& reg) {
    auto a = std::make_shared<RecommendArgs>();
    CLI::App* s = app.add_subcommand("recommend", "Top-N items for a user (rated items excluded), or for every user");
    s->add_option("--model", a->model, "model file")->required();
    s->add_option("--user", a->user, "external user ID");
    s->add_option("--top", a->top, "N")->capture_default_str();
    s->add_flag("--all-users", a->all_users, "every user, in parallel, into --out");
    s->add_option("--out", a->out, "HDF5 output of --all-users");
    s->add_option("--titles", a->titles, "MovieLens u.item, movies.dat or movies.csv: show titles and genres");
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
