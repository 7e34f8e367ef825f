"""Fixtures for the Python package's tests: the distcf program, and model files trained by it on
MovieLens 100K u1 (skipped by name when the data are absent) and on generated data (always)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "python"))

ML100K = os.environ.get("DISTCF_ML100K", os.path.join(ROOT, "..", "shared", "data", "ml-100k"))
METHODS = ["baseline", "als", "ials", "svd", "bpmf"]
# Small but real: every method's options for a quick fit.
QUICK = {
    "baseline": [],
    "als": ["--factors", "8", "--iters", "5"],
    "ials": ["--factors", "8", "--iters", "4"],
    "svd": ["--factor-grid", "4,8", "--svd-solver", "randomized"],
    "bpmf": ["--factors", "6", "--burnin", "3", "--samples", "4"],
}


def binary():
    path = os.environ.get("DISTCF_BIN", os.path.join(ROOT, "build", "distcf"))
    if not os.path.exists(path):
        pytest.skip(f"distcf program absent ({path}): build it first (scripts/setup.sh)")
    return path


def distcf(*args, check=True):
    proc = subprocess.run([binary(), *map(str, args)], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"distcf {' '.join(map(str, args))} failed ({proc.returncode}): {proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def bin_path():
    return binary()


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """A generated store with string-free integer IDs and a stored split, and one model per method."""
    d = tmp_path_factory.mktemp("generated")
    store = d / "g.h5"
    distcf("generate", "--users", 300, "--items", 120, "--density", 0.08, "--test-fraction", 0.2,
           "--item-popularity", "zipf:0.8", "--out", store, "-q")
    models = {}
    for m in METHODS:
        models[m] = d / f"{m}.h5"
        distcf("train", "--method", m, "--train", store, *QUICK[m], "--out", models[m], "-q")
    return {"dir": d, "store": store, "models": models}


@pytest.fixture(scope="session")
def ml100k(tmp_path_factory):
    """u1.base / u1.test imported, and one model per method trained on u1.base."""
    base = os.path.join(ML100K, "u1.base")
    if not os.path.exists(base):
        pytest.skip(f"skipped: MovieLens 100K data absent ({ML100K})")
    d = tmp_path_factory.mktemp("ml100k")
    train, test = d / "u1b.h5", d / "u1t.h5"
    distcf("import", "--format", "movielens100k", "--input", base, "--out", train, "-q")
    distcf("import", "--format", "movielens100k", "--input", os.path.join(ML100K, "u1.test"), "--out", test, "-q")
    models = {}
    for m in METHODS:
        models[m] = d / f"{m}.h5"
        distcf("train", "--method", m, "--train", train, *QUICK[m], "--out", models[m], "-q")
    return {"dir": d, "train": train, "test": test, "models": models, "raw_test": os.path.join(ML100K, "u1.test")}
