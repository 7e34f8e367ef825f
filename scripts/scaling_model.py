#!/usr/bin/python3
"""The memory and traffic of ALS's two factor exchanges, as a model fitted to measured runs and
extrapolated to sizes this machine cannot run (docs/SCALING.md).

A rank owns a block of users and a block of items, each block balanced by ratings, so a row with c
ratings has one in a given rank's opposite block with probability 1 - (1 - 1/P)^c. Under a
targeted exchange a rank holds its own rows and the rows its ratings reference:

    held(P) = n / P + (1 - 1/P) * sum_r [1 - (1 - 1/P)^c_r]

(own rows, plus the other rows referenced). Allgather holds every row. Bytes are 8 (k + 1) per row
with a bias; a sweep receives every held row that is not owned, for both sides.

  --model FILE      a model trained on the benchmark set: its /model/{user,item}_counts are the c_r
  --plans FILE...   `distcf --json train --plan` outputs at several rank counts: the measured held rows
  --k K             factors for the extrapolation (64)
Prints the fit (predicted against measured held rows) and the extrapolated table.
"""
import argparse
import json

import h5py
import numpy as np


def held(counts, n_rows, P):
    """Rows a rank holds under a targeted exchange (the mean over ranks)."""
    if P == 1:
        return float(n_rows)
    q = 1.0 - 1.0 / P
    referenced = np.sum(1.0 - np.power(q, counts))
    return n_rows / P + q * referenced


def fit(model, plans):
    with h5py.File(model, "r") as f:
        uc = f["/model/user_counts"][...].astype(float)
        ic = f["/model/item_counts"][...].astype(float)
    print(f"fit on {model}: {len(uc)} users, {len(ic)} items, {int(uc.sum())} ratings")
    print(f"{'P':>4} {'held users':>12} {'predicted':>12} {'ratio':>7} | {'held items':>11} {'predicted':>11} {'ratio':>7}")
    for path in plans:
        ranks = json.load(open(path))["plan"]["ranks"]
        P = len(ranks)
        hu = np.mean([r["held_users"] for r in ranks])
        hi = np.mean([r["held_items"] for r in ranks])
        pu, pi = held(uc, len(uc), P), held(ic, len(ic), P)
        print(f"{P:>4} {hu:>12.0f} {pu:>12.0f} {hu / pu:>7.3f} | {hi:>11.0f} {pi:>11.0f} {hi / pi:>7.3f}")


def extrapolate(k, ratings=1e9, users=1e8, items=1e6, zipf=0.9, sigma=1.0, rng_seed=1):
    """MovieLens-shaped counts at that size: lognormal(sigma) user activity, zipf item popularity."""
    rng = np.random.default_rng(rng_seed)
    sample = rng.lognormal(0.0, sigma, 1_000_000)  # 1e6 users stand for all of them
    user_counts = sample * (ratings / users) / sample.mean()
    scale_users = users / len(sample)
    w = np.arange(1, int(items) + 1, dtype=float) ** -zipf
    item_counts = ratings * w / w.sum()
    row = 8 * (k + 1)
    gib = 2.0**30
    print(f"\nextrapolated: {ratings:.0e} ratings, {users:.0e} users (lognormal:{sigma:g} activity), "
          f"{items:.0e} items (zipf:{zipf:g}), k = {k}: GiB per rank")
    print(f"{'P':>5} | {'allgather factors':>17} {'recv/sweep':>10} | {'targeted factors':>16} {'recv/sweep':>10} "
          f"{'held users':>11} {'held items':>11} | {'ratio':>6}")
    for P in (64, 128, 256, 512, 1024):
        q = 1.0 - 1.0 / P
        hu = users / P + q * scale_users * np.sum(1.0 - np.power(q, user_counts))
        hi = items / P + q * np.sum(1.0 - np.power(q, item_counts))
        ag = (users + items) * row
        ag_recv = (users + items) * (1 - 1 / P) * row
        tg = (hu + hi) * row
        tg_recv = (hu - users / P + hi - items / P) * row
        print(f"{P:>5} | {ag / gib:>17.2f} {ag_recv / gib:>10.2f} | {tg / gib:>16.2f} {tg_recv / gib:>10.2f} "
              f"{hu:>11.3g} {hi:>11.3g} | {tg / ag:>6.3f}")


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--model")
    a.add_argument("--plans", nargs="*", default=[])
    a.add_argument("--k", type=int, default=64)
    o = a.parse_args()
    if o.model:
        fit(o.model, o.plans)
    extrapolate(o.k)


if __name__ == "__main__":
    main()
