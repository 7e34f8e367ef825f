#!/usr/bin/python3
"""The implicit library's ALS on a distcf rating store, for bench_peers.sh's implicit section.

Reads the training ratings of a distcf store (h5py; the stored split's test ratings left out),
gives the library distcf's confidences (it multiplies the stored value by its alpha: store
1 + alpha r and pass alpha = 1, as ../shared/peers/README.md says) and prints the seconds of each
iteration as its fit callback reports them, and their median.
Usage: peer_implicit.py STORE K ITERS LAMBDA ALPHA THREADS DTYPE(float32|float64)
"""
import statistics
import sys
import time

import h5py
import numpy as np
import scipy.sparse as sp


def main():
    store, k, iters, lam, alpha, threads, dtype = sys.argv[1:8]
    from implicit.cpu.als import AlternatingLeastSquares
    with h5py.File(store, "r") as f:
        users = f["ratings/user"][:]
        items = f["ratings/item"][:]
        values = f["ratings/value"][:].astype(np.float64)
        keep = f["split/is_test"][:] == 0 if "split/is_test" in f else np.ones(len(users), bool)
        n_users, n_items = int(f.attrs["n_users"]), int(f.attrs["n_items"])
    conf = 1.0 + float(alpha) * values[keep]
    m = sp.csr_matrix((conf.astype(dtype), (users[keep], items[keep])), shape=(n_users, n_items))
    model = AlternatingLeastSquares(factors=int(k), regularization=float(lam), alpha=1.0, iterations=int(iters),
                                    use_cg=True, dtype=np.dtype(dtype), num_threads=int(threads),
                                    random_state=42)
    model.cg_steps = 3  # an attribute in v0.7.2, not a constructor argument (3 is its default)
    seconds = []
    t0 = time.time()
    model.fit(m, show_progress=False, callback=lambda it, elapsed, loss: seconds.append(elapsed))
    total = time.time() - t0
    print(f"implicit {dtype} k={k}: {statistics.median(seconds):.3f} s per iteration (median of {len(seconds)}), "
          f"fit {total:.2f} s, {m.nnz} interactions")


if __name__ == "__main__":
    main()
