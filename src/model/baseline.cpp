#include "distcf/model/baseline.hpp"

#include "distcf/error.hpp"

namespace distcf {

void BaselineParams::validate() const {
    if (!(lambda_user >= 0)) DISTCF_THROW(ParameterError, "lambda_user: must be >= 0");
    if (!(lambda_item >= 0)) DISTCF_THROW(ParameterError, "lambda_item: must be >= 0");
    if (rounds < 1) DISTCF_THROW(ParameterError, "rounds: must be >= 1");
}

namespace {
// For my rows: b[r] = sum(v - mu - other[col]) / (damping + n_r), then every rank gets all of b.
std::vector<double> damped_means(const Csr& rows, const std::vector<double>& other, double mu, double damping,
                                 const BlockPartition& part, const Comm& comm) {
    std::vector<double> all(static_cast<std::size_t>(part.total()), 0.0);
    for (std::int64_t r = 0; r < rows.rows(); ++r) {
        double s = 0;
        for (auto p = rows.ptr[r]; p < rows.ptr[r + 1]; ++p) s += rows.val[p] - mu - (other.empty() ? 0.0 : other[rows.col[p]]);
        const double n = static_cast<double>(rows.row_nnz(r));
        all[static_cast<std::size_t>(rows.row0 + r)] = (n + damping) > 0 ? s / (n + damping) : 0.0;
    }
    comm.allgather_blocks(all.data(), part, 1);
    return all;
}
}  // namespace

FactorModel fit_baseline(const RatingBlocks& b, const BaselineParams& p, const Comm& comm) {
    p.validate();
    FactorModel m = FactorModel::for_data(b, "baseline");
    m.params = to_record(p);
    if (p.estimator == BaselineEstimator::Notebook) {
        m.user_bias = damped_means(b.by_user, {}, m.mu, 0.0, b.users, comm);
        m.item_bias = damped_means(b.by_item, m.user_bias, m.mu, 0.0, b.items, comm);
    } else {
        m.user_bias.assign(static_cast<std::size_t>(b.n_users), 0.0);
        for (int round = 0; round < p.rounds; ++round) {
            m.item_bias = damped_means(b.by_item, m.user_bias, m.mu, p.lambda_item, b.items, comm);
            m.user_bias = damped_means(b.by_user, m.item_bias, m.mu, p.lambda_user, b.users, comm);
        }
    }
    return m;
}

}  // namespace distcf
