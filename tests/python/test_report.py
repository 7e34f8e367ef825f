"""scripts/report.py on a study: every figure exists, is not blank, has a caption that says what it
shows (not a file name), and the top-N table speaks the data's IDs and titles."""

import html
import os
import re
import subprocess
import sys

import h5py
import numpy as np
import pytest

from conftest import ROOT, distcf

matplotlib = pytest.importorskip("matplotlib")
import matplotlib.image  # noqa: E402

FIGURES = ["rating_matrices.png", "svd_rmse_vs_k.png", "als_convergence.png", "test_rmse_by_method.png",
           "movie_similarity.png", "latent_projection.png", "predicted_vs_observed.png", "genre_alignment.png"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    study = d / "study.h5"
    distcf("study", "--out", study, "-q")
    with h5py.File(study, "r") as f:
        ids = [v.decode() for v in f["recommend/item_ids"][()]]
    titles = d / "u.item"
    titles.write_text("".join(f"{i}|Film number {i} (1999)|01-Jan-1999\n" for i in range(50)))
    out = d / "report"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "report.py"), str(study), "--out", str(out),
                           "--titles", str(titles)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out, ids


def test_every_figure_exists_and_is_not_blank(report):
    out, _ = report
    for name in FIGURES:
        img = matplotlib.image.imread(str(out / name))
        rgb = img[..., :3]
        assert rgb.shape[0] > 200 and rgb.shape[1] > 200, name
        inked = (rgb.min(axis=2) < 0.85).mean()  # not background
        assert inked > 0.03, f"{name}: only {inked:.1%} of its pixels are drawn"
        assert rgb.std() > 0.05, f"{name}: nearly uniform"


def test_captions_say_what_each_figure_shows(report):
    out, _ = report
    page = (out / "index.html").read_text()
    captions = [html.unescape(c) for c in re.findall(r"<figcaption>([^<]*)</figcaption>", page)]
    assert len(captions) == len(FIGURES)
    for c in captions:
        assert not c.endswith(".png") and len(c.split()) >= 10, c
    # Figures of a latent space name the model they show.
    for c in captions:
        if "similarity" in c or "genre" in c.lower() and "factor" in c:
            assert "ALS" in c, c


def test_top_n_table_shows_external_ids_and_titles_and_no_absolute_path(report):
    out, ids = report
    page = (out / "index.html").read_text()
    table = page[page.index("<h2>Top"):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>", table)
    assert [r[1] for r in rows] == ids
    assert all(r[2] == f"Film number {r[1]} (1999)" for r in rows)
    data_line = re.search(r"<p>Data: ([^,]*),", page).group(1)
    assert not data_line.startswith("/"), data_line
