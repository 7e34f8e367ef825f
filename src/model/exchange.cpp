#include "distcf/model/exchange.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "distcf/error.hpp"
#include "distcf/la/row_solve.hpp"
#include "distcf/util/resources.hpp"
#include "distcf/util/threads.hpp"

namespace distcf {

void ExchangeOptions::validate() const {
    if (memory_budget < 0) DISTCF_THROW(ParameterError, "memory_budget: must be >= 0 bytes (0: the node's available memory)");
}

ExchangePlan ExchangePlan::build(const std::vector<char>& reads, const BlockPartition& part, const Comm& comm) {
    const int P = comm.size(), me = comm.rank();
    const std::int64_t b = part.begin(me), e = part.end(me);
    if (static_cast<std::int64_t>(reads.size()) != part.total())
        DISTCF_THROW(InternalError, "ExchangePlan: the read marks do not cover the partition");
    ExchangePlan p;
    for (std::int64_t r = 0; r < part.total(); ++r)
        if ((r >= b && r < e) || reads[static_cast<std::size_t>(r)]) p.held_.push_back(r);
    p.own_offset_ = std::lower_bound(p.held_.begin(), p.held_.end(), b) - p.held_.begin();
    p.own_rows_ = e - b;
    // Held rows of other ranks, ascending: grouped by owner already (blocks ascend with the rank),
    // each owner's a contiguous run of local indices.
    p.recv_count_.assign(static_cast<std::size_t>(P), 0);
    p.recv_first_.assign(static_cast<std::size_t>(P), 0);
    std::vector<std::int64_t> wanted;
    for (std::int64_t l = 0; l < p.held(); ++l) {
        const std::int64_t g = p.held_[static_cast<std::size_t>(l)];
        if (g >= b && g < e) continue;
        const auto owner = static_cast<std::size_t>(part.owner(g));
        if (p.recv_count_[owner]++ == 0) p.recv_first_[owner] = l;
        wanted.push_back(g);
    }
    // Each owner learns which of its rows each rank reads: what it sends every half-step.
    const std::vector<std::int64_t> asked = comm.alltoallv(wanted, p.recv_count_, &p.send_count_);
    p.send_rows_.reserve(asked.size());
    for (const std::int64_t g : asked) {
        if (g < b || g >= e) DISTCF_THROW(InternalError, "ExchangePlan: a rank asked for a row this rank does not own");
        p.send_rows_.push_back(p.own_offset_ + (g - b));
    }
    return p;
}

std::int64_t ExchangePlan::local(std::int64_t global) const {
    const auto it = std::lower_bound(held_.begin(), held_.end(), global);
    if (it == held_.end() || *it != global)
        DISTCF_THROW(InternalError, "ExchangePlan: row " + std::to_string(global) + " is read but not held");
    return it - held_.begin();
}

template <class T>
void ExchangePlan::refresh(T* rows, std::int64_t width, const Comm& comm, std::vector<T>& send) const {
    const auto ns = static_cast<std::int64_t>(send_rows_.size());
    send.resize(static_cast<std::size_t>(ns * width));
#pragma omp parallel for schedule(static) if (worth_threads(static_cast<double>(ns) * width))
    for (std::int64_t s = 0; s < ns; ++s)
        std::copy_n(rows + send_rows_[static_cast<std::size_t>(s)] * width, width, send.data() + s * width);
    std::vector<std::int64_t> sc(send_count_), rc(recv_count_), rd(recv_first_);
    for (auto& c : sc) c *= width;
    for (auto& c : rc) c *= width;
    for (auto& d : rd) d *= width;
    comm.alltoallv(send.data(), sc, rows, rc, &rd);
}
template void ExchangePlan::refresh(double*, std::int64_t, const Comm&, std::vector<double>&) const;
template void ExchangePlan::refresh(float*, std::int64_t, const Comm&, std::vector<float>&) const;

void AllgatherExchange::share(Side, std::vector<double>& rows, const BlockPartition& part, std::int64_t width, const Comm& comm) {
    comm.allgather_blocks(rows.data(), part, width);
}
void AllgatherExchange::share(Side, std::vector<float>& rows, const BlockPartition& part, std::int64_t width, const Comm& comm) {
    comm.allgather_blocks(rows.data(), part, width);
}

namespace {

void mark_columns(const Csr& c, std::vector<char>& reads) {
    for (const std::int32_t j : c.col) reads[static_cast<std::size_t>(j)] = 1;
}

// The rows after this rank's block up to the end of the last Gram chunk starting in it.
void mark_gram_tail(const BlockPartition& part, int me, std::vector<char>& reads) {
    const std::int64_t first = (part.begin(me) + kGramChunkRows - 1) / kGramChunkRows;
    const std::int64_t last = (part.end(me) + kGramChunkRows - 1) / kGramChunkRows;  // one past
    if (last <= first) return;
    const std::int64_t to = std::min(last * kGramChunkRows, part.total());
    for (std::int64_t r = part.end(me); r < to; ++r) reads[static_cast<std::size_t>(r)] = 1;
}

std::int64_t csr_bytes(const Csr& c) {
    return static_cast<std::int64_t>(c.ptr.size() * sizeof(std::int64_t) + c.col.size() * sizeof(std::int32_t) +
                                     c.val.size() * sizeof(double));
}

double mib(std::int64_t bytes) { return static_cast<double>(bytes) / 1048576.0; }

}  // namespace

TargetedExchange::TargetedExchange(const RatingBlocks& train, const ExchangeReads& reads, const Comm& comm) {
    const int me = comm.rank();
    {
        std::vector<char> items(static_cast<std::size_t>(train.n_items), 0);
        mark_columns(train.by_user, items);
        for (const Csr* c : reads.scored)
            if (c) mark_columns(*c, items);
        if (reads.gram) mark_gram_tail(train.items, me, items);
        items_ = ExchangePlan::build(items, train.items, comm);
    }
    std::vector<char> users(static_cast<std::size_t>(train.n_users), 0);
    mark_columns(train.by_item, users);
    if (reads.gram) mark_gram_tail(train.users, me, users);
    users_ = ExchangePlan::build(users, train.users, comm);
}

void TargetedExchange::share(Side side, std::vector<double>& rows, const BlockPartition&, std::int64_t width, const Comm& comm) {
    plan(side)->refresh(rows.data(), width, comm, send_);
}
void TargetedExchange::share(Side side, std::vector<float>& rows, const BlockPartition&, std::int64_t width, const Comm& comm) {
    plan(side)->refresh(rows.data(), width, comm, send_single_);
}

ExchangeFootprint exchange_footprint(const RatingBlocks& train, const ExchangeReads& reads, const TargetedExchange& targeted,
                                     std::int64_t width, const Comm& comm) {
    const int me = comm.rank();
    const std::int64_t row = width * static_cast<std::int64_t>(sizeof(double));
    ExchangeFootprint f;
    f.ratings = csr_bytes(train.by_user) + csr_bytes(train.by_item);
    for (const Csr* c : reads.scored)
        if (c) f.ratings += csr_bytes(*c);
    const ExchangePlan& u = *targeted.plan(Side::Users);
    const ExchangePlan& i = *targeted.plan(Side::Items);
    f.held_users = u.held();
    f.held_items = i.held();
    // The solved block of each side (model/alternating.cpp keeps both across half-steps).
    const std::int64_t solved = (train.users.size(me) + train.items.size(me)) * row;
    f.allgather_factors = (train.n_users + train.n_items) * row + solved;
    f.targeted_factors = (u.held() + i.held()) * row + solved;
    // The send buffer serves both sides in turn (rows arrive in place); the CSRs are copied in
    // local indices.
    f.targeted_buffers = std::max(u.rows_sent(), i.rows_sent()) * row + f.ratings;
    f.allgather_received = (train.n_users - train.users.size(me) + train.n_items - train.items.size(me)) * row;
    f.targeted_received = (u.rows_received() + i.rows_received()) * row;
    return f;
}

ExchangeKind choose_exchange(const ExchangeOptions& o, const RatingBlocks& train, const ExchangeFootprint& f, const Comm& comm,
                             std::string* said) {
    o.validate();
    char line[400];
    if (o.kind == ExchangeKind::Allgather) {
        if (said) *said = "exchange: allgather (every rank holds every factor row)";
        return ExchangeKind::Allgather;
    }
    const std::int64_t allgather = comm.max(f.allgather_factors), held = comm.max(f.targeted_factors + f.targeted_buffers);
    if (o.kind == ExchangeKind::Targeted) {
        const std::int64_t users0 = comm.bcast_value(f.held_users), items0 = comm.bcast_value(f.held_items);
        std::snprintf(line, sizeof line,
                      "exchange: targeted (per rank at most %.1f MiB of factors and buffers, against allgather's %.1f MiB; "
                      "%lld of %lld user rows and %lld of %lld item rows held on rank 0)",
                      mib(held), mib(allgather), static_cast<long long>(users0), static_cast<long long>(train.n_users),
                      static_cast<long long>(items0), static_cast<long long>(train.n_items));
        if (said) *said = line;
        return ExchangeKind::Targeted;
    }
    // Auto: the budget is the smallest any rank has, so that every rank picks the same.
    const std::int64_t budget = memory_budget_per_rank(o.memory_budget, comm);
    const bool fits = allgather <= budget;
    std::snprintf(line, sizeof line, "exchange: auto picked %s (allgather's factors %.1f MiB per rank %s the budget %.1f MiB%s)",
                  fits ? "allgather" : "targeted", mib(allgather), fits ? "fit" : "exceed", mib(budget),
                  fits ? "" : (", targeted holds " + std::to_string(static_cast<long long>(mib(held) + 0.5)) + " MiB").c_str());
    if (said) *said = line;
    return fits ? ExchangeKind::Allgather : ExchangeKind::Targeted;
}

std::int64_t memory_budget_per_rank(std::int64_t asked, const Comm& comm) {
    std::int64_t budget = asked;
    if (budget <= 0) {
        const std::int64_t available = available_memory_bytes();
        budget = available > 0 ? available / comm.ranks_on_node() : std::numeric_limits<std::int64_t>::max();
    }
    return comm.min(budget);
}

std::unique_ptr<FactorExchange> make_exchange(const ExchangeOptions& o, const RatingBlocks& train, const ExchangeReads& reads,
                                              std::int64_t width, const Comm& comm, std::string* said) {
    if (o.kind == ExchangeKind::Allgather) {  // no plan to build
        choose_exchange(o, train, {}, comm, said);
        return std::make_unique<AllgatherExchange>();
    }
    auto targeted = std::make_unique<TargetedExchange>(train, reads, comm);
    const ExchangeFootprint f = exchange_footprint(train, reads, *targeted, width, comm);
    if (choose_exchange(o, train, f, comm, said) == ExchangeKind::Allgather) return std::make_unique<AllgatherExchange>();
    return targeted;
}

}  // namespace distcf
