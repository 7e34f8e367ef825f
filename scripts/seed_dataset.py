#!/usr/bin/env python3
"""Replay the notebook's random draws exactly and write its arrays in distcf's rating-store layout.

The notebook draws, in this order, from numpy.random.default_rng(42): user factors, primary genres,
item loadings, the primary-genre boosts, the observation noise, the observation mask, the top-ups of
users and of items, the shuffle that makes the train/test split, and finally the initial ALS factors
(inside als_fit, at k = 3, the best SVD k). This script makes the same calls in the same order, so
distcf reproduces the notebook's printed numbers exactly.

Output (docs/FORMAT.md): /ratings (the 999 observed noisy ratings, sorted by user and item),
/split/is_test (199 test, 800 train), /ids, /truth/{value,user_factors,item_factors,item_genre,
genre_names}, and /init/{user_factors,item_factors} (the notebook's initial ALS factors, k = 3).

Run with Debian's numpy and h5py:  /usr/bin/python3 scripts/seed_dataset.py --out seed.h5
"""
import argparse
import datetime
import os
import sys
import tempfile

import h5py
import numpy as np

GENRES = ["Action", "Comedy", "Drama", "SciFi", "Horror"]


def replay(seed=42, n_users=80, n_movies=50, n_latent=5, sparsity=0.25, als_k=3):
    rng = np.random.default_rng(seed)
    U_true = rng.exponential(scale=1.0, size=(n_users, n_latent))
    movie_genres = rng.integers(0, n_latent, size=n_movies)
    M_true = rng.exponential(scale=0.3, size=(n_movies, n_latent))
    for j, g in enumerate(movie_genres):
        M_true[j, g] += rng.uniform(1.5, 3.0)
    R_true = U_true @ M_true.T
    R_min, R_max = R_true.min(), R_true.max()
    R_true = 1.0 + 4.0 * (R_true - R_min) / (R_max - R_min)
    R_noisy = np.clip(R_true + rng.normal(0, 0.3, R_true.shape), 1.0, 5.0)
    mask = (rng.uniform(0, 1, (n_users, n_movies)) < sparsity).astype(float)
    for i in range(n_users):
        if mask[i].sum() < 3:
            mask[i, rng.choice(n_movies, 3, replace=False)] = 1
    for j in range(n_movies):
        if mask[:, j].sum() < 2:
            mask[rng.choice(n_users, 2, replace=False), j] = 1
    obs = list(zip(*np.where(mask == 1)))
    rng.shuffle(obs)
    n_test = int(0.2 * len(obs))
    test = set(obs[:n_test])
    U0 = rng.normal(0, 0.1, (n_users, als_k))
    V0 = rng.normal(0, 0.1, (n_movies, als_k))
    return dict(U_true=U_true, M_true=M_true, movie_genres=movie_genres, R_true=R_true, R_noisy=R_noisy,
                mask=mask, test=test, U0=U0, V0=V0, R_min=R_min, R_max=R_max)


def write(path, d):
    users, items = np.nonzero(d["mask"])  # row-major: sorted by (user, item)
    n_users, n_items = d["mask"].shape
    is_test = np.array([(u, i) in d["test"] for u, i in zip(users, items)], dtype=np.uint8)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        sys.exit(f"seed_dataset.py: cannot write {path}: directory '{directory}' does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".tmp-")
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = np.bytes_("distcf-ratings")
            f.attrs["format_version"] = np.int64(1)
            f.attrs["n_users"] = np.int64(n_users)
            f.attrs["n_items"] = np.int64(n_items)
            f.attrs["nnz"] = np.int64(len(users))
            f.attrs["rating_min"] = 1.0
            f.attrs["rating_max"] = 5.0
            f.attrs["command_line"] = np.bytes_(" ".join(sys.argv))
            f.attrs["distcf_version"] = np.bytes_("seed_dataset.py")
            f.attrs["created"] = np.bytes_(datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
            f.attrs["source"] = np.bytes_("seed notebook replay, numpy.random.default_rng(42)")
            f.attrs["noise"] = 0.3
            f.attrs["seed"] = 42.0
            f.attrs["density"] = 0.25
            f["ratings/user"] = users.astype(np.int32)
            f["ratings/item"] = items.astype(np.int32)
            f["ratings/value"] = d["R_noisy"][users, items]
            f["split/is_test"] = is_test
            f["split"].attrs["n_test"] = np.int64(is_test.sum())
            f["ids/users"] = np.arange(n_users, dtype=np.int64)
            f["ids/items"] = np.arange(n_items, dtype=np.int64)
            f["truth/value"] = d["R_true"][users, items]
            f["truth/user_factors"] = d["U_true"]
            f["truth/item_factors"] = d["M_true"]
            f["truth/item_genre"] = d["movie_genres"].astype(np.int32)
            f["truth/genre_names"] = np.array([g.encode() for g in GENRES], dtype="S6")
            f["truth"].attrs["true_min"] = d["R_min"]
            f["truth"].attrs["true_max"] = d["R_max"]
            f["truth"].attrs["exact_minmax"] = np.int64(1)
            f["init/user_factors"] = d["U0"]
            f["init/item_factors"] = d["V0"]
            f["init"].attrs["rank"] = np.int64(d["U0"].shape[1])
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return len(users), int(is_test.sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output HDF5 file")
    args = ap.parse_args()
    d = replay()
    nnz, n_test = write(args.out, d)
    print(f"seed_dataset.py: {nnz} observed, {nnz - n_test} train, {n_test} test ratings -> {args.out}")


if __name__ == "__main__":
    main()
