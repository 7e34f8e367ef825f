#include "distcf/app/oracle.hpp"

#include <cmath>

#include "distcf/io/store.hpp"

namespace distcf {

OracleRmse oracle_rmse(const std::string& path, const Comm& comm) {
    const StoreInfo info = read_store_info(path, comm);
    h5::File f = h5::File::open(path, comm);
    const h5::Dataset truth = f.dataset("/truth/value");
    if (truth.rows() != info.nnz)
        DISTCF_THROW(InputError, path + ": inconsistent shapes: /truth/value has " + std::to_string(truth.rows()) +
                                     " elements, expected nnz = " + std::to_string(info.nnz));
    const auto cut = BlockPartition::uniform(info.nnz, comm.size());
    const int me = comm.rank();
    const auto t = truth.read_rows<double>(cut.begin(me), cut.size(me));
    const auto v = f.dataset("/ratings/value").read_rows<double>(cut.begin(me), cut.size(me));
    std::vector<std::uint8_t> is_test;
    if (info.has_split) is_test = f.dataset("/split/is_test").read_rows<std::uint8_t>(cut.begin(me), cut.size(me));
    double acc[4] = {0, 0, 0, 0};  // train sse, train n, test sse, test n
    for (std::size_t k = 0; k < t.size(); ++k) {
        const double e = (t[k] - v[k]) * (t[k] - v[k]);
        const int side = (!is_test.empty() && is_test[k]) ? 2 : 0;
        acc[side] += e;
        acc[side + 1] += 1;
    }
    comm.sum_in_place(acc, 4);
    OracleRmse r;
    const double n = acc[1] + acc[3];
    r.all = n > 0 ? std::sqrt((acc[0] + acc[2]) / n) : 0.0;
    if (info.has_split) {
        r.train = acc[1] > 0 ? std::sqrt(acc[0] / acc[1]) : 0.0;
        r.test = acc[3] > 0 ? std::sqrt(acc[2] / acc[3]) : 0.0;
    }
    if (f.has_attr("noise")) r.noise = f.attr_double("noise");
    return r;
}

}  // namespace distcf
