"""docs/FORMAT.md is true: every kind of file distcf writes holds exactly what the document's
tables list, with the documented types and shapes."""

import os
import re

import h5py
import numpy as np
import pytest

from conftest import ROOT, distcf

FORMAT_MD = os.path.join(ROOT, "docs", "FORMAT.md")


def parse_format_md():
    """{format name: [row]} from the tables; rows before the first format section apply to all.
    A row: patterns (regexes of paths), types (set), shapes (list of tuples of terms), always."""
    kinds, current = {"*": []}, "*"
    for line in open(FORMAT_MD):
        head = re.match(r'^## .*`format = "([a-z-]+)"', line)
        if head:
            current = head.group(1)
            kinds[current] = []
            continue
        if not line.startswith("| `/"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 5, f"FORMAT.md row without 5 cells: {line}"
        paths = re.findall(r"`([^`]+)`", cells[0])
        patterns = [re.compile("^" + re.escape(p).replace(re.escape("<name>"), "[A-Za-z0-9_]+")
                               .replace(re.escape("<N>"), "[0-9]+") + "$") for p in paths]
        types = {t.strip() for t in cells[1].split(" or ")}
        shapes = [tuple(x.strip() for x in s.strip().strip("()").split(",") if x.strip()) for s in cells[2].split(" or ")]
        assert cells[3] in ("always", "optional"), line
        kinds[current].append({"paths": paths, "patterns": patterns, "types": types, "shapes": shapes,
                               "always": cells[3] == "always", "seen": 0})
    return kinds


def type_name(dtype):
    if dtype.kind in "SOU":
        return "string"
    return {np.dtype("<i8"): "int64", np.dtype("<i4"): "int32", np.dtype("u1"): "uint8",
            np.dtype("<f8"): "float64", np.dtype("<f4"): "float32"}.get(dtype, str(dtype))


def entries(f):
    """(path, dtype, shape) of every attribute and dataset; groups themselves are not entries."""
    out = []

    def attrs(prefix, obj):
        for name in obj.attrs:
            a = obj.attrs.get_id(name)
            out.append((f"{prefix}@{name}", a.dtype, a.shape))

    attrs("/", f)

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out.append(("/" + name, obj.dtype, obj.shape))
        attrs("/" + name, obj)

    f.visititems(visit)
    return out


def symbols(f, kind):
    def a(obj, name):
        return int(obj.attrs[name]) if name in obj.attrs else None

    s = {}
    if kind == "distcf-ratings":
        s = {"nnz": a(f, "nnz"), "n_users": a(f, "n_users"), "n_items": a(f, "n_items"), "genres": a(f, "genres")}
    elif kind == "distcf-model":
        g = f["model"]
        s = {"n_users": a(g, "n_users"), "n_items": a(g, "n_items"), "n_factors": a(g, "n_factors")}
        if "sweep" in f:
            s.update(points=len(f["sweep/rank"]), folds=a(f["sweep"], "folds"))
    elif kind == "distcf-recommendations":
        s = {"n_users": len(f["ids/users"]), "n_items": len(f["ids/items"]), "top": a(f, "top")}
    elif kind == "distcf-study":
        s = {"n_users": a(f, "n_users"), "n_items": a(f, "n_items"), "nnz_test": a(f, "nnz_test"),
             "methods": len(f["comparison/method"])}
    elif kind == "distcf-density-sweep":
        s = {"densities": len(f["density"])}
    return s


def shape_ok(shape, documented, syms):
    for doc in documented:
        if len(doc) != len(shape):
            continue
        ok = True
        for term, n in zip(doc, shape):
            if term == "any":
                continue
            value = eval(term, {"__builtins__": {}}, syms)  # our own document's terms: n_users+1, ...
            ok = ok and value == n
        if ok:
            return True
    return False


@pytest.fixture(scope="module")
def every_kind_of_file(tmp_path_factory, generated):
    """At least one file of each kind, and together every optional entry."""
    d = tmp_path_factory.mktemp("format")
    files = [generated["store"], *generated["models"].values()]
    g2 = d / "double.h5"
    distcf("generate", "--users", 40, "--items", 20, "--precision", "double", "--out", g2, "-q")
    (d / "r.csv").write_text("user,item,rating,time\nann,x,4,100\nann,y,2,101\nbob,x,5,102\nbob,z,3,103\ncy,y,1,104\ncy,z,4,105\n")
    imported = d / "imported.h5"
    distcf("import", "--input", d / "r.csv", "--header", "--columns", "user,item,rating,time", "--out", imported, "-q")
    tr, te = d / "tr.h5", d / "te.h5"
    distcf("split", generated["store"], "--out-train", tr, "--out-test", te, "-q")
    files += [g2, imported, tr, te]
    store = generated["store"]
    for method, extra in (("als", []), ("ials", ["--alphas", "1"]), ("bpmf", ["--noise-precisions", "1", "--burnin", "2", "--samples", "2"])):
        out = d / f"sweep-{method}.h5"
        grid = ["--lambdas", "0.1"] if method != "bpmf" else []
        distcf("sweep", "--method", method, "--train", store, "--factor-grid", 3, *grid, "--iters", 2, *extra, "--out", out, "-q")
        files.append(out)
    (d / "new.txt").write_text("newcomer 1 5\nnewcomer 2 3\n")
    folded = d / "folded.h5"
    distcf("foldin", "--model", generated["models"]["als"], "--ratings", d / "new.txt", "--out", folded, "-q")
    ck = d / "checkpoint.h5"
    distcf("train", "--train", store, "--factors", 3, "--iters", 2, "--checkpoint-every", 1, "--out", ck, "-q")
    recs = d / "recs.h5"
    distcf("recommend", "--model", generated["models"]["als"], "--all-users", "--top", 4, "--out", recs, "-q")
    study = d / "study.h5"
    distcf("study", "--out", study, "-q")
    study2 = d / "study-store.h5"
    distcf("study", "--data", store, "--out", study2, "-q")
    dens = d / "density.h5"
    distcf("sweep", "--densities", "0.2,0.3", "--factor-grid", 2, "--lambdas", "0.1", "--iters", 2, "--out", dens, "-q")
    files += [folded, ck, recs, study, study2, dens]
    return files


def test_every_file_holds_what_format_md_documents(every_kind_of_file):
    kinds = parse_format_md()
    problems, kinds_seen = [], set()
    for path in every_kind_of_file:
        with h5py.File(path, "r") as f:
            kind = f.attrs["format"].decode() if isinstance(f.attrs["format"], bytes) else f.attrs["format"]
            assert kind in kinds, f"{path}: format {kind} has no section in FORMAT.md"
            kinds_seen.add(kind)
            rows = kinds["*"] + kinds[kind]
            syms = symbols(f, kind)
            found = set()
            for name, dtype, shape in entries(f):
                row = next((r for r in rows if any(p.match(name) for p in r["patterns"])), None)
                if row is None:
                    problems.append(f"{os.path.basename(path)}: {name} is written but not in FORMAT.md ({kind})")
                    continue
                found.add(id(row))
                row["seen"] += 1
                if type_name(dtype) not in row["types"]:
                    problems.append(f"{os.path.basename(path)}: {name} is {type_name(dtype)}, FORMAT.md says {row['types']}")
                if not shape_ok(shape, row["shapes"], syms):
                    problems.append(f"{os.path.basename(path)}: {name} has shape {shape}, FORMAT.md says {row['shapes']}")
            for r in rows:
                if r["always"] and id(r) not in found:
                    problems.append(f"{os.path.basename(path)}: {r['paths']} missing (FORMAT.md: always)")
    for kind, rows in kinds.items():
        if kind == "*":
            continue
        assert kind in kinds_seen, f"no file of kind {kind} was written by the test"
        for r in rows:
            if r["seen"] == 0:
                problems.append(f"{kind}: {r['paths']} documented but written by none of the files")
    assert not problems, "\n".join(problems)


def test_the_prediction_formula_of_format_md_reproduces_predict(generated, tmp_path):
    """Scoring by the documented formula straight from h5py gives the predict command's numbers."""
    for method in ("baseline", "als", "svd", "bpmf"):
        path = generated["models"][method]
        with h5py.File(path, "r") as f:
            g = f["model"]
            k = int(g.attrs["k_selected"]) or int(g.attrs["n_factors"])
            U, V = f["model/user_factors"][()], f["model/item_factors"][()]
            ub, ib = f["model/user_bias"][()], f["model/item_bias"][()]
            users = [str(v) for v in f["ids/users"][:5]]
            items = [str(v) for v in f["ids/items"][:5]]
            s = np.full(5, float(g.attrs["mu"]))
            if ub.size:
                s += ub[:5]
            if ib.size:
                s += ib[:5]
            if k:
                s += float(g.attrs["factor_scale"]) * np.einsum("ij,ij->i", U[:5, :k], V[:5, :k])
            expect = np.clip(s, g.attrs["rating_min"], g.attrs["rating_max"])
        (tmp_path / "pairs.txt").write_text("".join(f"{u} {i}\n" for u, i in zip(users, items)))
        distcf("predict", "--model", path, "--pairs", tmp_path / "pairs.txt", "--out", tmp_path / "p.tsv", "-q")
        got = np.loadtxt(tmp_path / "p.tsv", skiprows=1, usecols=2)
        np.testing.assert_allclose(got, expect, atol=5e-7, err_msg=method)
