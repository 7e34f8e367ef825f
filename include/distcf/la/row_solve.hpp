#pragma once
/// @file row_solve.hpp
/// @brief The one row solver behind both ALS half-steps (users against items, items against users).
///
/// For each of this rank's rows r with ratings (j, v) it solves exactly
///     (G^T G + reg_r I) x_r = G^T t,   G = [Y_j (, 1)],   t_j = v - offset - other_bias_j
/// by Cholesky (distcf/la/cholesky.hpp), in the primal or (rows shorter than x_r) the dual form. The Gram is built by BLAS-3 panels over the gathered rows (as
/// Spark's SPARK-6685 did), never rank-1 updates. Rows run in parallel under OpenMP with
/// single-threaded BLAS; each row's arithmetic is independent of the thread and rank counts.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

/// How a row's system is solved. Primal: the d x d normal equations (d = factors (+1)). Dual: for
/// reg > 0 the same solution from an n x n system, n = the row's ratings (push-through identity
/// (G G^T + reg I)^{-1} G = G (G^T G + reg I)^{-1}), cheaper when n < d. Auto: dual exactly when
/// n < d and reg > 0; the choice depends on the row alone, never on ranks or threads.
enum class RowForm { Auto, Primal, Dual };

/// How an implicit interaction of strength r becomes a confidence: linear c = 1 + alpha r,
/// log c = 1 + alpha log(1 + r / epsilon).
enum class ConfidenceScale { Linear, Log };

/// The implicit-feedback terms of the normal equations (Hu, Koren, Volinsky 2008): every stored
/// entry has preference 1 and confidence c; every other entry preference 0 and confidence 1, which
/// enters through `gram` = Y^T Y, so a row costs O(n_r k^2 + k^3), never O(n_other).
struct ImplicitTerms {
    ConfidenceScale scale = ConfidenceScale::Linear;
    double alpha = 40.0, epsilon = 1.0;
    const std::vector<double>* gram = nullptr;  ///< k x k, column-major, both triangles
};

/// A Gaussian prior N(mu, Lambda^{-1}) on every row's factors and a noise precision alpha
/// (Bayesian MF, Salakhutdinov and Mnih 2008): the row's posterior precision and mean are
///     P = Lambda + alpha G^T G,   P mean = alpha G^T t + Lambda mu.
/// A row without ratings gets the prior itself.
struct GaussianPrior {
    const std::vector<double>* precision = nullptr;  ///< Lambda, k x k column-major (both triangles)
    const std::vector<double>* shift = nullptr;      ///< Lambda mu, k values
    double noise_precision = 1.0;                   ///< alpha
};

/// What is assembled for each row r with ratings (j, v) -- the accumulator's half of a row solve:
///     explicit: (G^T G + reg_r I) x_r = G^T t,   G = [Y_j (, 1)],   t_j = v - offset - other_bias_j
///     implicit: (Y^T Y + Y_r^T (C_r - I) Y_r + lambda I) x_r = Y_r^T c_r
/// Built once per method (model/als.cpp, model/ials.cpp), never field by field at call sites.
struct NormalEquations {
    int factors = 10;               ///< k: factors per row of Y
    double lambda = 0.1;
    bool weighted_lambda = true;    ///< reg_r = lambda * n_r (ALS-WR) instead of lambda
    bool learn_bias = false;        ///< augment with a ones column: x_r = [factors; bias]
    double offset = 0.0;            ///< subtracted from every rating (the global mean)
    std::optional<ImplicitTerms> implicit;  ///< set: the implicit equations above
    std::optional<GaussianPrior> prior;     ///< set: the Bayesian equations (lambda, offset's bias unused)
};

/// Instead of the solution, a draw from N(P^{-1} b, P^{-1}): x = L^{-T} (L^{-1} b + z) with
/// P = L L^T and z standard normal from the Philox stream of (rng_seed, Gibbs, global row, epoch),
/// so a draw depends on the row alone, never on the rank or thread that makes it.
struct RowDraw {
    std::uint64_t rng_seed = 0;
    std::uint64_t epoch = 0;  ///< 2 sweep + side: every half-step draws afresh
};

/// How the assembled equations are solved -- the solver's half.
struct RowSolver {
    /// Exact solves (Cholesky): the row form. Explicit equations only (implicit rows are primal).
    RowForm form = RowForm::Auto;
    /// 0: exact (Cholesky). > 0: that many conjugate-gradient steps from the row's current factors
    /// (Takacs, Pilaszy, Tikk 2011), matrix-free: explicit (biases included) and implicit
    /// equations; not with a prior.
    int cg_steps = 0;
    /// Set: draw each row from its Gaussian posterior instead of solving (primal form, Cholesky).
    std::optional<RowDraw> draw;
};

/// Whether a row with n ratings is solved in the dual form.
bool uses_dual_form(const NormalEquations& eq, const RowSolver& how, std::int64_t n);

/// Confidence of an implicit interaction of strength r.
double confidence(const ImplicitTerms& t, double r);

/// The order in which the row solvers hand rows to threads: longest row first, rows of equal
/// length in index order. It changes who solves a row, never its arithmetic.
std::vector<std::int64_t> longest_first(const Csr& rows);

/// How many rows of that order a thread takes at a time: up to 16, and at least 16 grabs a thread
/// while there are rows enough (a few threads on a small matrix still share it). One row a grab
/// cost an atomic increment on a counter both threads hammer: with k = 12 rows take about a
/// microsecond each, and Bayesian MF on MovieLens u1 trained 4% faster taking 16 (8 runs each,
/// interleaved: medians 0.120 s against 0.1255 s); ALS at k = 50 was the same either way.
int rows_per_grab(std::int64_t rows, int threads);

/// Solves every row of `rows` against the full matrix `Y` (n_other x factors, row-major) and the
/// other side's biases (empty = none). Writes factors (rows x factors, row-major) and, when
/// learn_bias, biases (rows). A row without ratings gets zero factors and bias.
void solve_rows(const Csr& rows, const std::vector<double>& Y, const std::vector<double>& other_bias,
                const NormalEquations& eq, const RowSolver& how, std::vector<double>& factors, std::vector<double>& bias);

/// The same in single precision (--precision single): factors, Y, Y^T Y (rounded from the double
/// `gram`) and every kernel sum in float, twice the SIMD lanes and half the bytes moved. Conjugate
/// gradient only (how.cg_steps > 0; InputError otherwise): exact solves stay double. A row's
/// result depends on the row alone, as in double.
void solve_rows(const Csr& rows, const std::vector<float>& Y, const std::vector<float>& other_bias,
                const NormalEquations& eq, const RowSolver& how, std::vector<float>& factors, std::vector<float>& bias);

/// Both, in place: `factors` is the rows' block (rows x factors) inside a larger matrix, `bias`
/// their biases (empty unless learn_bias); conjugate gradient starts from the values there. The
/// sweeps solve straight into the factors they share: copying a solved block there, and zeroing it
/// first for exact solves, was serial time between parallel regions, when the other thread has
/// nothing to do (on MovieLens u1, with the objective's serial item loop, 4.5-4.8 ms of a 0.19 s
/// train; 1.2-1.7 ms without the three). InputError when a block holds the wrong number of rows.
void solve_rows(const Csr& rows, const std::vector<double>& Y, const std::vector<double>& other_bias,
                const NormalEquations& eq, const RowSolver& how, std::span<double> factors, std::span<double> bias);
void solve_rows(const Csr& rows, const std::vector<float>& Y, const std::vector<float>& other_bias,
                const NormalEquations& eq, const RowSolver& how, std::span<float> factors, std::span<float> bias);

/// Y^T Y (k x k, column-major, both triangles) of a matrix every rank holds whole (rows x k,
/// row-major). Fixed chunks of rows are spread over the ranks and their Grams allgathered and added
/// in chunk order: the work is shared and the result is the same bits for any rank count (an
/// Allreduce would add in an order that depends on it). Collective.
std::vector<double> replicated_gram(const std::vector<double>& Y, std::int64_t rows, int k, const Comm& comm);

/// Rows per chunk of those Grams: a chunk's Gram is one BLAS call, the same bits wherever it runs.
constexpr std::int64_t kGramChunkRows = 4096;

/// The same Y^T Y (the same bits) when each rank holds its own block of rows [part.begin(me),
/// part.end(me)) and, after it, the rows up to the end of the last chunk that starts in the block
/// (a targeted exchange's layout): `own` points at the block's first row. Each rank computes the
/// chunks that start in its block. Collective.
std::vector<double> owned_gram(const double* own, const BlockPartition& part, int k, const Comm& comm);

/// Which kernel assembles an explicit row's primal equations. Auto: k = 12 rows without a bias
/// on an AVX-512 CPU in one pass straight from Y; Gathered: the general path (chunks gathered,
/// then tiles), which every other row takes. Both give the same bits.
enum class AssemblyPath { Auto, Gathered };

/// The normal equations of one row (for checks): A (d x d, column-major) and b (d), d = factors (+1).
void row_normal_equations(const Csr& rows, std::int64_t local_row, const std::vector<double>& Y,
                          const std::vector<double>& other_bias, const NormalEquations& eq,
                          std::vector<double>& A, std::vector<double>& b, AssemblyPath path = AssemblyPath::Auto);

/// Runs f with OpenBLAS limited to one thread (restored after), for BLAS inside OpenMP loops.
class SingleThreadedBlas {
public:
    SingleThreadedBlas();
    ~SingleThreadedBlas();
    SingleThreadedBlas(const SingleThreadedBlas&) = delete;
    SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

private:
    int previous_;
};

}  // namespace distcf
