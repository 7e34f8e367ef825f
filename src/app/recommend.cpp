#include "distcf/app/recommend.hpp"

#include <algorithm>
#include <optional>

#include "distcf/app/model_file.hpp"
#include "distcf/app/results_file.hpp"
#include "distcf/error.hpp"
#include "distcf/io/atomic.hpp"
#include "distcf/util/progress.hpp"

namespace distcf {

namespace {

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

}  // namespace

RecommendationsOutput::Format RecommendationsOutput::parse(const std::string& format, const std::string& path) {
    const auto ends = [&](const std::string& e) { return path.size() > e.size() && path.substr(path.size() - e.size()) == e; };
    if (format == "hdf5") return Format::Hdf5;
    if (format == "tsv") return Format::Tsv;
    if (format == "csv") return Format::Csv;
    if (!format.empty() && format != "auto") DISTCF_THROW(ParameterError, "format: hdf5, tsv, csv or auto, got '" + format + "'");
    return ends(".csv") ? Format::Csv : ends(".tsv") || ends(".txt") ? Format::Tsv : Format::Hdf5;
}

double shown_value(const FactorModel& m, const Scored& s, Shown shown) {
    switch (shown) {
        case Shown::Cosine: return s.score;
        case Shown::Fallback: return m.fallback(-1, s.item);
        case Shown::Prediction: break;
    }
    return std::clamp(s.score, m.rating_min, m.rating_max);
}

UserRecommendation recommend_user(const LoadedModel& lm, const std::string& user, int top, const ColdStart& cold,
                                  const Comm& comm, const RankBy& by) {
    const std::optional<UserScorer> scorer = ranking_scorer(lm, by);
    const FactorModel& m = lm.model;
    const h5::File f = h5::File::open(lm.path, comm);
    UserRecommendation r;
    r.has_seen = has_seen(f);
    const auto u = lm.users.find(user);
    if (!u) {
        // Cold: a user the model never saw gets the most popular items.
        r.known = false;
        r.shown = Shown::Fallback;
        r.list = best_items(popularity_order(m), {}, top);
        return r;
    }
    const SeenItems seen = read_seen(f, *u, *u + 1, m.n_items);
    r.ratings = m.user_counts[static_cast<std::size_t>(*u)];
    r.excluded = seen.ptr.back();
    if (cold_user(m, *u, cold)) {
        r.cold = true;
        r.shown = Shown::Fallback;
        r.list = best_items(popularity_order(m), seen_row(seen, 0), top);
    } else {
        r.list = top_n(m, *u, *u + 1, seen, top, nullptr, scorer ? &*scorer : nullptr).front();
        if (scorer)  // shown: the posterior mean prediction of the items the bound chose
            for (auto& e : r.list) e.score = m.score(*u, e.item);
    }
    return r;
}

AllUsersReport recommend_all_users(const LoadedModel& lm, const std::string& out, int top, const ColdStart& cold,
                                   const Comm& comm, const RankBy& by, const RecommendationsOutput& output) {
    const std::optional<UserScorer> scorer = ranking_scorer(lm, by);
    const FactorModel& m = lm.model;
    require_output_dir(out);
    AllUsersReport rep;
    const double t0 = Comm::wtime();
    const BlockPartition part = BlockPartition::balanced(m.user_counts, comm.size());
    const auto u0 = part.begin(comm.rank()), u1 = part.end(comm.rank());
    SeenItems seen;
    {
        const h5::File f = h5::File::open(lm.path, comm);
        rep.has_seen = has_seen(f);
        seen = read_seen(f, u0, u1, m.n_items);
    }
    RecommendationBlock block;
    block.u0 = u0;
    block.u1 = u1;
    block.top = rep.top = static_cast<int>(std::min<std::int64_t>(top, m.n_items));
    block.items.reserve(static_cast<std::size_t>((u1 - u0) * block.top));
    block.predicted.reserve(block.items.capacity());
    const std::vector<double> popular = popularity_order(m);
    // Chunks of users: progress as they finish; the scoring inside is blocked and threaded.
    constexpr std::int64_t kChunk = 8192;
    const std::optional<ItemIndex> items = scorer ? std::nullopt : std::optional<ItemIndex>(m);  // built once
    TopNCounts counts;
    Progress progress("recommend", u1 - u0, "users");
    for (std::int64_t c0 = u0; c0 < u1; c0 += kChunk) {
        const std::int64_t c1 = std::min(u1, c0 + kChunk);
        const SeenItems part_seen = seen_part(seen, c0, c1);
        auto lists = items ? top_n(m, *items, c0, c1, part_seen, top, &counts) : top_n(m, c0, c1, part_seen, top, nullptr, &*scorer);
        for (std::int64_t u = c0; u < c1; ++u) {
            auto& list = lists[static_cast<std::size_t>(u - c0)];
            const bool fallback = cold_user(m, u, cold);
            if (fallback) list = best_items(popular, seen_row(part_seen, u - c0), top);
            else if (scorer)  // shown: the posterior mean prediction of the items the bound chose
                for (auto& e : list) e.score = m.score(u, e.item);
            const Shown shown = fallback ? Shown::Fallback : Shown::Prediction;
            for (int r = 0; r < block.top; ++r) {  // a user who rated nearly everything may have fewer than n
                const bool have = r < static_cast<int>(list.size());
                block.items.push_back(have ? list[static_cast<std::size_t>(r)].item : -1);
                block.predicted.push_back(have ? shown_value(m, list[static_cast<std::size_t>(r)], shown) : 0.0);
            }
        }
        progress.add(c1 - c0);
    }
    progress.finish();
    rep.seconds = comm.max(Comm::wtime() - t0);
    const double scored = comm.sum(static_cast<double>(counts.scored)), pairs = comm.sum(static_cast<double>(counts.pairs));
    rep.scored_fraction = pairs > 0 ? scored / pairs : 1.0;
    if (output.format == RecommendationsOutput::Format::Hdf5)
        write_recommendations(out, lm.path, m.n_users, block, lm.users, lm.items, output.command_line, comm);
    else
        write_recommendations_text(out, block, lm.users, lm.items, output.format == RecommendationsOutput::Format::Csv, comm);
    return rep;
}

}  // namespace distcf
