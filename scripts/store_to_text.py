#!/usr/bin/python3
"""A distcf rating store's stored split as 'user item rating' text (0-based indices), for peers
that read text (LIBMF): store_to_text.py STORE TRAIN.txt TEST.txt [FIT.txt VALID.txt N]
With FIT and VALID, the training ratings are also cut for tuning: every Nth (by a fixed hash of
its position) to VALID, the rest to FIT."""
import sys

import h5py
import numpy as np


def write(path, u, i, v):
    with open(path, "w") as f:
        np.savetxt(f, np.column_stack([u, i, v]), fmt=["%d", "%d", "%.7g"], delimiter=" ")


def main():
    store, train, test = sys.argv[1:4]
    with h5py.File(store, "r") as f:
        u, i = f["ratings/user"][:], f["ratings/item"][:]
        v = f["ratings/value"][:].astype(np.float64)
        is_test = f["split/is_test"][:].astype(bool)
    tr = ~is_test
    write(test, u[is_test], i[is_test], v[is_test])
    write(train, u[tr], i[tr], v[tr])
    if len(sys.argv) > 6:
        fit, valid_path, every = sys.argv[4], sys.argv[5], int(sys.argv[6])
        idx = np.nonzero(tr)[0]
        valid = (idx.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(every) == 0
        write(valid_path, u[idx[valid]], i[idx[valid]], v[idx[valid]])
        write(fit, u[idx[~valid]], i[idx[~valid]], v[idx[~valid]])


if __name__ == "__main__":
    main()
