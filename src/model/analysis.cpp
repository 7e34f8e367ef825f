#include "distcf/model/analysis.hpp"

#include <armadillo>

#include <cmath>

#include "distcf/error.hpp"

namespace distcf {

std::vector<double> cosine_similarity(const std::vector<double>& F, std::int64_t n, int k) {
    std::vector<double> norm(static_cast<std::size_t>(n)), out(static_cast<std::size_t>(n * n), 0.0);
    for (std::int64_t i = 0; i < n; ++i) {
        double s = 0;
        for (int c = 0; c < k; ++c) s += F[i * k + c] * F[i * k + c];
        norm[i] = std::sqrt(s);
    }
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            if (norm[i] == 0 || norm[j] == 0) continue;
            double d = 0;
            for (int c = 0; c < k; ++c) d += F[i * k + c] * F[j * k + c];
            out[i * n + j] = d / (norm[i] * norm[j]);
        }
    return out;
}

std::vector<double> top_two_directions(const std::vector<double>& F, std::int64_t n, int k) {
    if (k < 2) DISTCF_THROW(InputError, "a 2-D projection needs k >= 2 factors, the model has " + std::to_string(k));
    const arma::mat Ft(const_cast<double*>(F.data()), static_cast<arma::uword>(k), static_cast<arma::uword>(n), false);
    arma::vec lam;
    arma::mat W;
    if (!arma::eig_sym(lam, W, Ft * Ft.t())) DISTCF_THROW(LinalgError, "eig_sym failed on the factor Gram");
    std::vector<double> out(static_cast<std::size_t>(k) * 2);
    for (int d = 0; d < 2; ++d) {
        const arma::vec w = W.col(static_cast<arma::uword>(k - 1 - d));  // eigenvalues ascend
        const double sign = w(arma::index_max(arma::abs(w))) < 0 ? -1.0 : 1.0;
        for (int c = 0; c < k; ++c) out[static_cast<std::size_t>(c * 2 + d)] = sign * w(static_cast<arma::uword>(c));
    }
    return out;
}

std::vector<double> project(const std::vector<double>& F, std::int64_t n, int k, const std::vector<double>& D) {
    std::vector<double> out(static_cast<std::size_t>(n) * 2, 0.0);
    for (std::int64_t i = 0; i < n; ++i)
        for (int c = 0; c < k; ++c) {
            out[i * 2] += F[i * k + c] * D[static_cast<std::size_t>(c * 2)];
            out[i * 2 + 1] += F[i * k + c] * D[static_cast<std::size_t>(c * 2 + 1)];
        }
    return out;
}

std::vector<std::int64_t> genre_alignment(const std::vector<double>& V, std::int64_t n_items, int k,
                                          const std::vector<std::int32_t>& item_genre, int genres) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(genres) * k, 0);
    for (std::int64_t i = 0; i < n_items; ++i) {
        int best = 0;
        for (int c = 1; c < k; ++c)
            if (std::fabs(V[i * k + c]) > std::fabs(V[i * k + best])) best = c;
        const auto g = item_genre[static_cast<std::size_t>(i)];
        if (g >= 0 && g < genres) ++out[static_cast<std::size_t>(g) * k + best];
    }
    return out;
}

}  // namespace distcf
