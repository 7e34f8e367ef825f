#!/usr/bin/env python3
"""A plain numpy biased ALS-WR, as a Python user would write it (vectorised per row), for
comparison with distcf in scripts/bench_als.sh. Reads a distcf rating store (h5py).

Usage: /usr/bin/python3 scripts/numpy_als.py STORE.h5 --rank 64 --iters 5 --lam 0.1
Prints seconds per sweep and the train RMSE.
"""
import argparse
import time

import h5py
import numpy as np


def rows_of(keys, other, vals, n):
    order = np.argsort(keys, kind="stable")
    starts = np.searchsorted(keys[order], np.arange(n + 1))
    return [(other[order[starts[r]:starts[r + 1]]], vals[order[starts[r]:starts[r + 1]]]) for r in range(n)]


def half_step(rows, Y, other_bias, mu, lam, k):
    X = np.zeros((len(rows), k))
    b = np.zeros(len(rows))
    eye = np.eye(k + 1)
    for r, (cols, v) in enumerate(rows):
        if len(cols) == 0:
            continue
        G = np.hstack([Y[cols], np.ones((len(cols), 1))])
        t = v - mu - other_bias[cols]
        x = np.linalg.solve(G.T @ G + lam * len(cols) * eye, G.T @ t)
        X[r], b[r] = x[:k], x[k]
    return X, b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("--rank", type=int, default=64)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--lam", type=float, default=0.1)
    a = ap.parse_args()
    with h5py.File(a.store, "r") as f:
        u, i, v = f["ratings/user"][:], f["ratings/item"][:], f["ratings/value"][:]
        nu, ni = int(f.attrs["n_users"]), int(f.attrs["n_items"])
        if "split" in f:
            keep = f["split/is_test"][:] == 0
            u, i, v = u[keep], i[keep], v[keep]
    mu = v.mean()
    by_user, by_item = rows_of(u, i, v, nu), rows_of(i, u, v, ni)
    rng = np.random.default_rng(0)
    U, V = rng.normal(0, 0.1, (nu, a.rank)), rng.normal(0, 0.1, (ni, a.rank))
    bu, bi = np.zeros(nu), np.zeros(ni)
    times = []
    for _ in range(a.iters):
        t0 = time.perf_counter()
        U, bu = half_step(by_user, V, bi, mu, a.lam, a.rank)
        V, bi = half_step(by_item, U, bu, mu, a.lam, a.rank)
        times.append(time.perf_counter() - t0)
    pred = np.clip(mu + bu[u] + bi[i] + np.sum(U[u] * V[i], axis=1), v.min(), v.max())
    print(f"numpy ALS: {len(v)} ratings, k={a.rank}, {a.iters} sweeps: {np.mean(times):.3f} s per sweep, "
          f"train RMSE {np.sqrt(np.mean((pred - v) ** 2)):.4f}")


if __name__ == "__main__":
    main()
