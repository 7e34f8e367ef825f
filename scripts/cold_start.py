#!/usr/bin/env python3
"""The notebook's cold-start measurement: RMSE on cold users, pure ALS against the fallback.

Procedure (documented in docs/TUNING.md):
  1. Start from a train/test split: MovieLens u1.base / u1.test, or a generated set's stored split.
  2. Cold users: every fifth user (dense index divisible by 5).
  3. For N in 0, 1, 2: each cold user keeps only N training ratings (the earliest by timestamp for
     MovieLens; the first by a fixed shuffle for generated data); everyone else is untouched.
  4. Train distcf's default ALS on that, then evaluate on the cold users' test ratings with
     --cold-start model (pure ALS) and --cold-start fallback (the item's regularised mean).
Usage: /usr/bin/python3 scripts/cold_start.py [--ml100k DIR] [--generated] [--np 2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("DISTCF_BIN", os.path.join(ROOT, "build", "distcf"))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def run(args, np_=1):
    cmd = ([] if np_ <= 1 else ["mpirun", "-n", str(np_), "--oversubscribe", "--bind-to", "none"]) + [BIN] + args
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


def write(path, rows):
    with open(path, "w") as f:
        for u, i, v in rows:
            f.write(f"{int(u)},{int(i)},{v:.17g}\n")


def measure(name, train, test, order, d, np_):
    """train/test: arrays of (user, item, value); order: per training rating, its rank within its user."""
    cold = (train[:, 0].astype(np.int64) % 5) == 0
    test_cold = test[(test[:, 0].astype(np.int64) % 5) == 0]
    write(f"{d}/test.csv", test_cold)
    run(["import", "--input", f"{d}/test.csv", "--out", f"{d}/test.h5"])
    print(f"{name}: {int(np.unique(test_cold[:, 0]).size)} cold users, {len(test_cold)} of their test ratings")
    print("  training ratings kept   pure ALS (model)   fallback   (test RMSE on the cold users)")
    for n in (0, 1, 2):
        keep = ~cold | (order < n)
        write(f"{d}/train.csv", train[keep])
        run(["import", "--input", f"{d}/train.csv", "--out", f"{d}/train.h5"])
        run(["train", "--train", f"{d}/train.h5", "--out", f"{d}/m.h5"], np_)
        out = {}
        for policy in ("model", "fallback"):
            j = json.loads(run(["evaluate", "--json", "--cold-start", policy, "--model", f"{d}/m.h5", "--test", f"{d}/test.h5"]))
            out[policy] = j["rmse"]
        print(f"  {n:22d} {out['model']:18.4f} {out['fallback']:10.4f}")


def order_within_user(users, keys):
    o = np.lexsort((keys, users))
    rank = np.empty(len(users), dtype=np.int64)
    # rank within each user's run of the sorted order
    su = users[o]
    boundaries = np.r_[0, np.flatnonzero(np.diff(su)) + 1]
    run_start = np.repeat(boundaries, np.diff(np.r_[boundaries, len(su)]))
    rank[o] = np.arange(len(su)) - run_start
    return rank


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--ml100k", default=os.path.join(ROOT, "..", "shared", "data", "ml-100k"))
    a.add_argument("--generated", action="store_true", help="also measure on a generated set")
    a.add_argument("--np", type=int, default=2)
    args = a.parse_args()
    with tempfile.TemporaryDirectory() as d:
        if os.path.exists(os.path.join(args.ml100k, "u1.base")):
            base = np.loadtxt(os.path.join(args.ml100k, "u1.base"), dtype=np.int64)
            test = np.loadtxt(os.path.join(args.ml100k, "u1.test"), dtype=np.int64)
            order = order_within_user(base[:, 0], base[:, 3])  # earliest first
            measure("MovieLens 100K u1", base[:, :3].astype(float), test[:, :3].astype(float), order, d, args.np)
        else:
            print(f"MovieLens 100K not found at {args.ml100k}: skipped")
        if args.generated:
            import h5py
            run(["generate", "--users", "2000", "--items", "1000", "--density", "0.05", "--test-fraction", "0.2",
                 "--out", f"{d}/g.h5"])
            with h5py.File(f"{d}/g.h5") as f:
                u, i, v = f["/ratings/user"][:], f["/ratings/item"][:], f["/ratings/value"][:]
                is_test = f["/split/is_test"][:].astype(bool)
            allr = np.c_[u, i, v].astype(float)
            tr, te = allr[~is_test], allr[is_test]
            shuffle = np.random.default_rng(1).permutation(len(tr))
            order = order_within_user(tr[:, 0].astype(np.int64), shuffle)
            measure("generated 2000 x 1000, density 0.05", tr, te, order, d, args.np)


if __name__ == "__main__":
    main()
