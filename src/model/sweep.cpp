#include "distcf/model/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "distcf/data/distribute.hpp"
#include "distcf/data/split.hpp"
#include "distcf/error.hpp"
#include "distcf/model/recommend.hpp"

namespace distcf {

void SweepParams::validate() const {
    if (factor_grid.empty()) DISTCF_THROW(ParameterError, "factor_grid: the grid needs at least one k");
    if (lambdas.empty()) DISTCF_THROW(ParameterError, "lambdas: the grid needs at least one lambda");
    for (double l : lambdas)
        if (!(l > 0)) DISTCF_THROW(ParameterError, "lambdas: every lambda must be > 0, got " + std::to_string(l));
    if (folds == 1 || folds < 0 || folds > 255) DISTCF_THROW(ParameterError, "folds: must be 0 (hold-out) or in [2, 255]");
    if (folds == 0 && !(validation_fraction > 0 && validation_fraction < 1))
        DISTCF_THROW(ParameterError, "validation-fraction: must be in (0, 1), got " + std::to_string(validation_fraction));
    if (method != "als" && method != "ials" && method != "bpmf")
        DISTCF_THROW(ParameterError, "method: sweep takes als, ials or bpmf, got '" + method + "'");
    if (method == "bpmf" && noise_precisions.empty()) DISTCF_THROW(ParameterError, "noise_precisions: the grid needs at least one");
    if (method == "ials" && alphas.empty()) DISTCF_THROW(ParameterError, "alphas: the grid needs at least one alpha");
    if (top < 1) DISTCF_THROW(ParameterError, "top: must be >= 1");
    for (int k : factor_grid) {
        AlsParams p = als;
        p.factors = k;
        p.validate();
        IalsParams q = ials;
        q.factors = k;
        if (method == "ials") q.validate();
        BpmfParams b = bpmf;
        b.factors = k;
        if (method == "bpmf") b.validate();
    }
}

namespace {
void summarise(SweepPoint& p) {
    const auto n = static_cast<double>(p.fold_score.size());
    double s = 0, s2 = 0;
    for (double r : p.fold_score) s += r;
    p.score = s / n;
    for (double r : p.fold_score) s2 += (r - p.score) * (r - p.score);
    p.score_sd = n > 1 ? std::sqrt(s2 / (n - 1)) : 0.0;
}
}  // namespace

SweepResult sweep_als(const RatingBlocks& train, const SweepParams& params, const Comm& comm,
                      const std::function<void(const SweepPoint&)>& on_point) {
    params.validate();
    SweepResult out;
    const bool implicit = params.method == "ials", bayes = params.method == "bpmf";
    if (implicit) out.metric = "ndcg@" + std::to_string(params.top);
    for (int k : params.factor_grid)
        for (double l : bayes ? params.noise_precisions : params.lambdas)
            for (double a : implicit ? params.alphas : std::vector<double>{0.0}) {
                SweepPoint p;
                p.factors = k;
                (bayes ? p.noise_precision : p.lambda) = l;
                p.alpha = a;
                out.points.push_back(p);
            }
    const RatingSlice all = slice_of(train.by_user);
    std::vector<std::uint8_t> fold;
    if (params.folds >= 2) {
        fold = assign_folds(all, params.folds, params.split_seed, comm);
        out.folds = params.folds;
    } else {
        SplitOptions so;
        so.test_fraction = params.validation_fraction;
        so.rng_seed = params.split_seed;
        fold = choose_test(all, so, comm);
        for (auto& f : fold) f = f ? 0 : 1;  // fold 0 is the hold-out
        out.folds = 1;
    }
    // Folds outermost: one fold's blocks exist at a time, whatever the grid size.
    for (int f = 0; f < out.folds; ++f) {
        RatingSlice fit, held;
        for (std::int64_t e = 0; e < all.size(); ++e)
            (fold[e] == f ? held : fit).push(all.user[e], all.item[e], all.value[e]);
        const RatingBlocks blocks =
            distribute(std::move(fit), train.n_users, train.n_items, train.rating_min, train.rating_max, comm);
        const Csr validation = route_rows(held.user, held.item, held.value, blocks.users, comm);
        out.validation_ratings += comm.sum<std::int64_t>(validation.nnz());
        SeenItems seen;  // the fold's training items, excluded from the ranking (ials)
        if (implicit) {
            seen.row0 = blocks.by_user.row0;
            seen.ptr = blocks.by_user.ptr;
            seen.items = blocks.by_user.col;
        }
        for (auto& p : out.points) {
            const double t0 = Comm::wtime();
            if (implicit) {
                IalsParams a = params.ials;
                a.factors = p.factors;
                a.lambda = p.lambda;
                a.alpha = p.alpha;
                FactorModel m = init_ials(blocks, a);
                run_ials(m, blocks, a, comm);
                p.fold_score.push_back(ranking_metrics(m, seen, validation, params.top, nullptr, blocks.users, comm).ndcg);
            } else if (bayes) {
                BpmfParams b = params.bpmf;
                b.factors = p.factors;
                b.noise_precision = p.noise_precision;
                FactorModel chain = init_bpmf(blocks, b);
                run_bpmf(chain, blocks, validation, b, comm);
                p.fold_score.push_back(chain.history.test_rmse.back());
            } else {
                AlsParams a = params.als;
                a.factors = p.factors;
                a.lambda = p.lambda;
                FactorModel m = init_als(blocks, a);
                run_als(m, blocks, validation, a, comm);
                p.fold_score.push_back(m.history.test_rmse.back());
            }
            p.seconds += comm.bcast_value(Comm::wtime() - t0);
            if (f + 1 == out.folds) {
                summarise(p);
                if (on_point) on_point(p);
            }
        }
    }
    const bool higher = params.method == "ials";
    for (std::size_t i = 1; i < out.points.size(); ++i)
        if (higher ? out.points[i].score > out.points[out.best].score : out.points[i].score < out.points[out.best].score)
            out.best = i;
    return out;
}

}  // namespace distcf
