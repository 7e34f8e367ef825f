#pragma once
/// @file exchange.hpp
/// @brief How solved factor rows reach the ranks that read them. Allgather: every rank receives
/// and holds every row of the other side. Targeted: each rank holds its own rows and the rows its
/// ratings reference, and receives only those; which rows, from whom and to whom is worked out
/// once per training run (an exchange plan, as Spark's ALS builds its InBlock/OutBlock and PETSc
/// its star forest) and reused every half-step by one Alltoallv.
///
/// Both deliver the same values to every row a rank reads, so the factors are bit-identical
/// whichever runs, on any number of ranks.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "distcf/data/ratings.hpp"
#include "distcf/model/params.hpp"
#include "distcf/mpi/comm.hpp"

namespace distcf {

enum class Side { Users, Items };

/// allgather: every row everywhere, memory per rank O((users + items) k); targeted: own and
/// referenced rows; auto: allgather while its factors fit the memory budget, else targeted.
enum class ExchangeKind { Allgather, Targeted, Auto };
DISTCF_ENUM_NAMES(ExchangeKind, "allgather", "targeted", "auto");

struct ExchangeOptions {
    ExchangeKind kind = ExchangeKind::Auto;
    /// Bytes per rank that auto lets allgather's factors take (0: the memory available on the
    /// node, shared by the ranks on it).
    std::int64_t memory_budget = 0;
    void validate() const;
};

/// The bytes a rank may take: `asked` (> 0), else the memory available on the node shared by the
/// ranks on it; the smallest over the ranks, so that every rank decides alike. Collective.
std::int64_t memory_budget_per_rank(std::int64_t asked, const Comm& comm);

/// The rows of one side that this rank holds under a targeted exchange, and how their values
/// arrive. Rows are held in ascending global order ("local" indices), the rank's own block
/// contiguous among them.
class ExchangePlan {
public:
    ExchangePlan() = default;
    /// `reads[r]` != 0: this rank reads global row r (its own block is held whatever it says).
    /// Every rank tells each owner which of its rows it reads (one Alltoallv). Collective.
    static ExchangePlan build(const std::vector<char>& reads, const BlockPartition& part, const Comm& comm);

    std::int64_t held() const { return static_cast<std::int64_t>(held_.size()); }
    /// Local index of the own block's first row.
    std::int64_t own_offset() const { return own_offset_; }
    /// Global row of each local index, ascending.
    const std::vector<std::int64_t>& held_rows() const { return held_; }
    /// Local index of a held global row (InternalError when it is not held).
    std::int64_t local(std::int64_t global) const;
    std::int64_t rows_received() const { return held() - own_rows_; }
    std::int64_t rows_sent() const { return static_cast<std::int64_t>(send_rows_.size()); }

    /// `rows` (held() x width, local order) whose own block holds new values: every other held
    /// row gets its owner's. The rows a peer owns are contiguous in the local order, so they
    /// arrive in place; only the rows sent are packed, into `send` (reused). Collective. T:
    /// double or float (single precision moves half the bytes).
    template <class T>
    void refresh(T* rows, std::int64_t width, const Comm& comm, std::vector<T>& send) const;

private:
    std::vector<std::int64_t> held_;
    std::int64_t own_offset_ = 0, own_rows_ = 0;
    std::vector<std::int64_t> send_count_, recv_count_;  // rows per peer
    std::vector<std::int64_t> send_rows_;                // local index of each row sent, grouped by peer
    std::vector<std::int64_t> recv_first_;               // local index of the first row each peer sends
};

/// How a half-step's solved rows reach the ranks that need them; built once per training run.
class FactorExchange {
public:
    virtual ~FactorExchange() = default;
    virtual const char* name() const = 0;
    /// The plan of `side` when rows are held in a local layout; null when every rank holds every
    /// row at its global index.
    virtual const ExchangePlan* plan(Side) const { return nullptr; }
    /// `rows` (this exchange's layout, `width` values a row) whose own block of `part` was just
    /// solved; on return every row this rank holds is current. Collective.
    virtual void share(Side side, std::vector<double>& rows, const BlockPartition& part, std::int64_t width, const Comm& comm) = 0;
    /// The same for single-precision factors (--precision single): the same rows, half the bytes.
    virtual void share(Side side, std::vector<float>& rows, const BlockPartition& part, std::int64_t width, const Comm& comm) = 0;
    /// Rows of `side` this rank receives per share.
    virtual std::int64_t rows_received(Side side, const BlockPartition& part, const Comm& comm) const = 0;
};

/// Every rank receives every row (MPI_Allgatherv, in rounds past 2^31 elements).
class AllgatherExchange final : public FactorExchange {
public:
    const char* name() const override { return "allgather"; }
    void share(Side, std::vector<double>& rows, const BlockPartition& part, std::int64_t width, const Comm& comm) override;
    void share(Side, std::vector<float>& rows, const BlockPartition& part, std::int64_t width, const Comm& comm) override;
    std::int64_t rows_received(Side, const BlockPartition& part, const Comm& comm) const override {
        return part.total() - part.size(comm.rank());
    }
};

/// What the sweeps of `train` read besides its CSRs.
struct ExchangeReads {
    /// CSR by user (rows under train.users): items read when scoring them (test, validation).
    std::vector<const Csr*> scored;
    /// A side's Y^T Y is formed each half-step (implicit ALS): each rank also holds the rows up to
    /// the end of every Gram chunk that starts in its block (la/row_solve.hpp owned_gram).
    bool gram = false;
};

/// Own rows plus referenced rows, refreshed through plans built once.
class TargetedExchange final : public FactorExchange {
public:
    TargetedExchange(const RatingBlocks& train, const ExchangeReads& reads, const Comm& comm);
    const char* name() const override { return "targeted"; }
    const ExchangePlan* plan(Side side) const override { return side == Side::Users ? &users_ : &items_; }
    void share(Side side, std::vector<double>& rows, const BlockPartition& part, std::int64_t width, const Comm& comm) override;
    void share(Side side, std::vector<float>& rows, const BlockPartition& part, std::int64_t width, const Comm& comm) override;
    std::int64_t rows_received(Side side, const BlockPartition&, const Comm&) const override {
        return plan(side)->rows_received();
    }

    /// Lets the send buffer go (before the model is made whole again).
    void release_buffers() {
        std::vector<double>().swap(send_);
        std::vector<float>().swap(send_single_);
    }

private:
    ExchangePlan users_, items_;
    std::vector<double> send_;
    std::vector<float> send_single_;
};

/// Bytes one rank holds or moves for an alternating method with `width` values per factor row
/// (k, +1 for a bias), under each exchange: the basis of auto's choice and of `train --plan`.
struct ExchangeFootprint {
    std::int64_t ratings = 0;              ///< this rank's CSRs (both sides, and the scored ones)
    std::int64_t allgather_factors = 0;    ///< every row of both sides + the solved block
    std::int64_t targeted_factors = 0;     ///< held rows of both sides + the solved block
    std::int64_t targeted_buffers = 0;     ///< the send buffer and the CSR copies in local indices
    std::int64_t allgather_received = 0;   ///< bytes received per sweep (both sides)
    std::int64_t targeted_received = 0;
    std::int64_t held_users = 0, held_items = 0;
};
ExchangeFootprint exchange_footprint(const RatingBlocks& train, const ExchangeReads& reads, const TargetedExchange& targeted,
                                     std::int64_t width, const Comm& comm);

/// Allgather or targeted, as `o` asks (auto: allgather while its factor bytes on the largest rank
/// fit the budget, from the footprint `f`); `said` gets one line naming it and why. Collective.
ExchangeKind choose_exchange(const ExchangeOptions& o, const RatingBlocks& train, const ExchangeFootprint& f, const Comm& comm,
                             std::string* said = nullptr);

/// The exchange `o` asks for, built for `train` (choose_exchange decides). Auto compares allgather's factor bytes on the
/// largest rank with the budget; `said` gets one line naming the exchange and why. Collective.
std::unique_ptr<FactorExchange> make_exchange(const ExchangeOptions& o, const RatingBlocks& train, const ExchangeReads& reads,
                                              std::int64_t width, const Comm& comm, std::string* said = nullptr);

}  // namespace distcf
