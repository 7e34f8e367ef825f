"""Machine-readable output of the program: --json on every command that prints results, progress
as one JSON object per event with --log-format json, and nothing on standard error with --quiet."""

import json

import pytest

from conftest import distcf


@pytest.fixture(scope="module")
def files(generated, tmp_path_factory):
    d = tmp_path_factory.mktemp("json")
    (d / "r.csv").write_text("user,item,rating\na,x,4\na,y,2\nb,x,5\nb,z,3\nc,y,1\nc,z,4\n")
    return d, generated


def as_json(*args):
    proc = distcf(*args, "--json", "-q")
    assert proc.stderr == "", proc.stderr  # --quiet: no progress
    return json.loads(proc.stdout)  # one JSON object, nothing else on standard output


def test_every_result_printing_command_has_json(files):
    d, g = files
    store, als = g["store"], g["models"]["als"]
    assert as_json("generate", "--users", 30, "--items", 20, "--out", d / "g.h5")["ratings"] > 0
    assert as_json("import", "--input", d / "r.csv", "--header", "--out", d / "i.h5")["ratings"] == 6
    s = as_json("split", d / "g.h5", "--out-train", d / "a.h5", "--out-test", d / "b.h5")
    assert s["train"]["ratings"] + s["test"]["ratings"] > 0
    assert as_json("info", store)["users"] == 300
    t = as_json("train", "--train", store, "--factors", 3, "--iters", 2, "--out", d / "m.h5")
    assert t["method"] == "als" and t["iterations"] == 2 and t["parameters"]["factors"] == 3 and "test_rmse" in t
    assert as_json("evaluate", "--model", als, "--test", store)["n"] > 0
    r = as_json("recommend", "--model", als, "--user", 0, "--top", 3)
    assert len(r["items"]) == 3 and r["known"]
    assert as_json("recommend", "--model", als, "--all-users", "--top", 2, "--out", d / "r.h5")["users"] == 300
    assert len(as_json("similar", "--model", als, "--item", 0, "--top", 4)["items"]) == 4
    sw = as_json("sweep", "--train", store, "--factor-grid", 2, 3, "--lambdas", 0.1, "--iters", 2, "--out", d / "s.h5")
    assert len(sw["points"]) == 2 and sw["best"] in sw["points"]
    (d / "p.txt").write_text("0 1\n")
    assert as_json("predict", "--model", als, "--pairs", d / "p.txt", "--out", d / "p.tsv")["pairs"] == 1
    assert as_json("clean", d) == {"directory": str(d), "removed": []}


def test_log_format_json_is_one_object_per_event(files):
    d, g = files
    proc = distcf("train", "--train", g["store"], "--factors", 3, "--iters", 3, "--out", d / "m2.h5", "--log-format", "json")
    events = [json.loads(line) for line in proc.stderr.splitlines()]
    assert [e["event"] for e in events] == ["stage", "iteration", "iteration", "iteration"]
    assert events[0]["stage"] == "train" and events[0]["method"] == "als"
    assert [e["iteration"] for e in events[1:]] == [1, 2, 3] and all("train_rmse" in e for e in events[1:])
    proc = distcf("generate", "--users", 200, "--items", 50, "--out", d / "g2.h5", "--log-format", "json")
    events = [json.loads(line) for line in proc.stderr.splitlines()]
    done = [e for e in events if e["event"] == "done"]
    assert done and done[-1]["stage"] == "generate: ratings" and done[-1]["done"] == done[-1]["total"]


def test_text_progress_names_the_stages(files):
    d, g = files
    proc = distcf("generate", "--users", 200, "--items", 50, "--out", d / "g3.h5")
    assert "generate: users 200, items 50" in proc.stderr
    assert "generate: ratings: 100%" in proc.stderr and "done in" in proc.stderr


def test_movielens_profile_trains_better_than_biases_and_a_collapse_is_named(tmp_path):
    store = tmp_path / "ml.h5"
    distcf("generate", "--profile", "movielens", "--users", 3000, "--items", 1000, "--density", 0.05,
           "--test-fraction", 0.2, "--out", store, "-q")
    base = as_json("train", "--method", "baseline", "--train", store, "--out", tmp_path / "b.h5")
    als = as_json("train", "--train", store, "--out", tmp_path / "a.h5")  # the default parameters
    assert als["test_rmse"] < 0.97 * base["test_rmse"], (als["test_rmse"], base["test_rmse"])
    assert not any("collapsed" in line for line in als["report"])
    big = as_json("train", "--train", store, "--lambda", 0.5, "--out", tmp_path / "c.h5")
    assert any("factors collapsed to zero" in line and "lambda = 0.5" in line for line in big["report"]), big["report"]
