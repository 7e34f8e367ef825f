#!/usr/bin/env python3
"""Render a `distcf study` results file as the original study's figures (PNG) and an index.html.

Usage: /usr/bin/python3 scripts/report.py results/study.h5 --out results/report [--titles u.item]
Needs Debian's python3-h5py, python3-numpy and python3-matplotlib (run with /usr/bin/python3).
Panels whose data the results lack (no genres, a matrix too large to draw) are left out with a note.
"""
import argparse
import html
import os

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def strings(ds):
    return [text(x) for x in ds[:]]


def save(fig, out, name, made, caption):
    """Writes the figure; `caption` says what it shows and from which model (index.html)."""
    path = os.path.join(out, name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    made.append((name, caption))


def genre_blocks(genre_sorted):
    """Boundaries (between cells) and centres of the runs of equal genre in a sorted genre vector."""
    edges = np.flatnonzero(np.diff(genre_sorted)) + 0.5
    starts = np.r_[0, edges + 0.5]
    ends = np.r_[edges + 0.5, len(genre_sorted)]
    return edges, (starts + ends) / 2 - 0.5, starts.astype(int)


def genre_colours(n):
    return plt.get_cmap("tab10")(np.arange(n) % 10)


def rating_matrices(f, out, made, notes):
    if "matrices" not in f:
        notes.append("Rating matrices: too large to draw (more than 250,000 cells).")
        return
    observed = f["/matrices/observed"][:]
    panels = [("Observed ratings (grey: unobserved)", observed)]
    order = None
    if "/latent/item_genre" in f:
        order = np.argsort(f["/latent/item_genre"][:], kind="stable")
    if "/matrices/truth" in f:
        panels.insert(0, ("True ratings (noise-free)", f["/matrices/truth"][:]))
    if order is not None:
        panels.append(("Observed, movies sorted by genre", observed[:, order]))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.6))
    axes = np.atleast_1d(axes)
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("#d0d0d0")
    for ax, (title, m) in zip(axes, panels):
        im = ax.imshow(np.ma.masked_invalid(m), aspect="auto", cmap=cmap, vmin=1, vmax=5, interpolation="nearest")
        ax.set_title(title)
        ax.set_xlabel("movie")
        ax.set_ylabel("user")
        fig.colorbar(im, ax=ax, label="rating")
    if order is not None:  # the sorted panel: a line between genres, each genre named over its block
        genre = f["/latent/item_genre"][:][order]
        names = strings(f["/latent/genre_names"])
        edges, centres, starts = genre_blocks(genre)
        ax = axes[-1]
        for e in edges:
            ax.axvline(e, color="red", lw=1.2)
        ax.set_xticks(centres)
        ax.set_xticklabels([names[c] for c in genre[starts]], rotation=30, fontsize=8)
        ax.set_xlabel("movies, grouped by genre (red lines: genre boundaries)")
    caption = ("The rating matrix, users by movies (grey: not rated). "
               + ("Left: the noise-free ratings the data were generated from. " if "/matrices/truth" in f else "")
               + ("Right: the observed ratings with movies grouped by genre, which shows the block structure "
                  "the low-rank models recover." if order is not None else ""))
    save(fig, out, "rating_matrices.png", made, caption)


def svd_sweep(f, out, made):
    k, tr, te = f["/svd/k"][:], f["/svd/train_rmse"][:], f["/svd/test_rmse"][:]
    best = int(f["/svd"].attrs["k_selected"])
    base = float(f["/svd"].attrs["baseline_test_rmse"])
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.plot(k, tr, "o-", color="steelblue", label="train RMSE")
    ax.plot(k, te, "s-", color="darkorange", label="test RMSE")
    ax.axhline(base, color="grey", ls="--", label=f"baseline test ({base:.4f})")
    ax.axvline(best, color="crimson", ls=":", label=f"best k = {best}")
    ax.set_xlabel("k (latent factors)")
    ax.set_ylabel("RMSE")
    ax.set_title("SVD collaborative filtering: train vs test RMSE")
    ax.legend()
    ax.grid(alpha=0.3)
    save(fig, out, "svd_rmse_vs_k.png", made,
         f"SVD of the bias-removed rating matrix: train and test RMSE for each number of factors k; the dotted line "
         f"marks the k chosen ({best}), the dashed line the bias baseline alone.")


def als_convergence(f, out, made):
    # The two formulations minimise different objectives (plain lambda vs lambda times ratings per
    # row, with or without biases): each gets its own axis; RMSE is comparable and shares one.
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    runs = (("als_seed", "ALS, original study's formulation", "teal"), ("als_biased", "ALS, distcf's biased formulation", "purple"))
    for a, (name, label, colour) in zip(axes[:2], runs):
        g = f[name]
        it = np.arange(1, len(g["objective"]) + 1)
        a.semilogy(it, g["objective"][:], color=colour)
        a.set_title(f"{label}\nobjective (k={g.attrs['rank']}, λ={g.attrs['lambda']:g})", fontsize=10)
        a.set_xlabel("iteration")
        a.set_ylabel("objective (log scale)")
        axes[2].plot(it, g["train_rmse"][:], color=colour, ls="-", label=f"{label}: train")
        axes[2].plot(it, g["test_rmse"][:], color=colour, ls="--", label=f"{label}: test")
    axes[2].set_title("Train and test RMSE per iteration", fontsize=10)
    axes[2].set_xlabel("iteration")
    axes[2].set_ylabel("RMSE")
    axes[2].legend(fontsize=7)
    for a in axes:
        a.grid(alpha=0.3)
    save(fig, out, "als_convergence.png", made,
         "Convergence of ALS: each formulation's own objective per iteration (left, middle: they differ in what they "
         "minimise, so they are not on one axis), and the train and test RMSE of both (right).")


def method_bars(f, out, made):
    names = strings(f["/comparison/method"])
    te = f["/comparison/test_rmse"][:]
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    bars = ax.bar(range(len(names)), te, color=["grey", "steelblue", "teal", "purple", "darkgoldenrod", "olive"][: len(names)])
    for b, v in zip(bars, te):
        ax.text(b.get_x() + b.get_width() / 2, v, f"{v:.4f}", ha="center", va="bottom", fontsize=9)
    oracle = float(f["/comparison"].attrs.get("oracle_test_rmse", -1))
    if oracle > 0:
        ax.axhline(oracle, color="crimson", ls="--", label=f"oracle (noise-free truth) {oracle:.4f}")
        ax.legend(loc="upper center", fontsize=8)
    ax.set_ylim(0, max(te) * 1.3)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([n.replace(" (", "\n(") for n in names], fontsize=8)
    ax.set_ylabel("test RMSE")
    ax.set_title("Test RMSE by method")
    save(fig, out, "test_rmse_by_method.png", made,
         "Test RMSE of each method on the same held-out ratings (lower is better)"
         + ("; the dashed line is the noise-free truth's RMSE, the floor no model can beat." if oracle > 0 else "."))


def similarity(f, out, made, notes):
    if "/latent/similarity" not in f:
        notes.append("Movie similarity heatmap: more than 5,000 movies, not computed.")
        return
    s = f["/latent/similarity"][:]
    title = "Movie cosine similarity\n(" + text(f["/latent"].attrs["model"]) + " item factors"
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    if "/latent/item_genre" in f:
        g = f["/latent/item_genre"][:]
        order = np.argsort(g, kind="stable")
        s = s[np.ix_(order, order)]
        names = strings(f["/latent/genre_names"])
        edges, centres, starts = genre_blocks(g[order])
        for e in edges:  # black: white is the colour map's zero
            ax.axhline(e, color="black", lw=1)
            ax.axvline(e, color="black", lw=1)
        ax.set_xticks(centres)
        ax.set_xticklabels([names[c] for c in g[order][starts]], rotation=45, fontsize=8)
        ax.set_yticks(centres)
        ax.set_yticklabels([names[c] for c in g[order][starts]], fontsize=8)
        title += ", sorted by genre"
    else:
        ax.set_xlabel("movie")
        ax.set_ylabel("movie")
    title += ")"
    im = ax.imshow(s, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    fig.colorbar(im, ax=ax, label="cosine similarity")
    ax.set_title(title, fontsize=10)
    save(fig, out, "movie_similarity.png", made,
         f"Cosine similarity between movies' latent factors ({text(f['/latent'].attrs['model'])}, k = "
         f"{int(f['/latent'].attrs['rank'])}); red: alike, blue: opposite"
         + ("; movies grouped by genre, black lines between genres." if "/latent/item_genre" in f else "."))


def projections(f, out, made):
    item, user = f["/latent/item_xy"][:], f["/latent/user_xy"][:]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.6))
    if "/latent/item_genre" in f:
        g = f["/latent/item_genre"][:]
        names = strings(f["/latent/genre_names"])
        colours = genre_colours(len(names))
        for c, n in enumerate(names):
            sel = g == c
            a1.scatter(item[sel, 0], item[sel, 1], s=30, color=colours[c], label=n, edgecolor="k", lw=0.3)
        a1.legend(title="true genre", fontsize=8)
    else:
        a1.scatter(item[:, 0], item[:, 1], s=12, color="steelblue")
    model = text(f["/latent"].attrs["model"])
    a1.set_title(f"Movies in the top-2 factor directions\n({model})", fontsize=10)
    # Users in a neutral colour, apart from every genre's.
    a2.scatter(user[:, 0], user[:, 1], s=14, color="dimgray", edgecolor="k", lw=0.2, label="users")
    a2.legend(fontsize=8)
    a2.set_title(f"Users in the same directions\n({model})", fontsize=10)
    for a in (a1, a2):
        a.set_xlabel("direction 1")
        a.set_ylabel("direction 2")
        a.grid(alpha=0.3)
    save(fig, out, "latent_projection.png", made,
         f"Movies (left, coloured by their true genre where the data have genres) and users (right) projected on the "
         f"two leading directions of the {model} factors: movies of a genre cluster together.")


def predicted_vs_observed(f, out, made):
    obs, pred = f["/test/observed"][:], f["/test/predicted"][:]
    if len(obs) > 20000:
        keep = np.random.default_rng(0).choice(len(obs), 20000, replace=False)
        obs, pred = obs[keep], pred[keep]
    fig, ax = plt.subplots(figsize=(5.4, 5.0))
    ax.scatter(obs, pred, s=10, alpha=0.5, color="purple")
    lo, hi = min(obs.min(), pred.min()), max(obs.max(), pred.max())
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="perfect prediction")
    r = np.sqrt(np.mean((obs - pred) ** 2))
    ax.set_title(f"Test set: predicted vs observed (RMSE {r:.4f})")
    ax.set_xlabel("observed rating")
    ax.set_ylabel("predicted rating (distcf biased ALS)")
    ax.legend()
    ax.grid(alpha=0.3)
    save(fig, out, "predicted_vs_observed.png", made,
         "Each held-out test rating against distcf's biased ALS prediction for it; points on the dashed line are exact.")


def alignment(f, out, made, notes):
    if "/latent/alignment" not in f:
        notes.append("Genre alignment: the data carry no genres.")
        return
    m = f["/latent/alignment"][:]
    names = strings(f["/latent/genre_names"])
    fig, ax = plt.subplots(figsize=(1.2 * m.shape[1] + 3, 0.6 * m.shape[0] + 2.4))
    im = ax.imshow(m, cmap="Blues", aspect="auto")
    for (r, c), v in np.ndenumerate(m):
        ax.text(c, r, str(v), ha="center", va="center", color="white" if v > m.max() / 2 else "black")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names)
    ax.set_xticks(range(m.shape[1]))
    ax.set_xticklabels([f"factor {c + 1}" for c in range(m.shape[1])])
    ax.set_ylabel("true genre")
    ax.set_xlabel("dominant latent factor of the movie")
    model = text(f["/latent"].attrs["model"])
    ax.set_title(f"Genre alignment of the {model} factors:\nmovies per (true genre, dominant factor)", fontsize=10)
    fig.colorbar(im, ax=ax, label="movies")
    save(fig, out, "genre_alignment.png", made,
         f"For the {model} model (k = {int(f['/latent'].attrs['rank'])}): how many movies of each true genre have each "
         f"latent factor as their largest; one dominant cell per row means the factors found the genres.")


def read_titles(path):
    """MovieLens u.item (id|title|...), movies.dat (id::title::genres) or movies.csv (id,title,genres)."""
    titles = {}
    if not path:
        return titles
    with open(path, encoding="latin-1") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if "|" in line:
                parts = line.split("|")
            elif "::" in line:
                parts = line.split("::")
            else:
                import csv
                parts = next(csv.reader([line]))
            if len(parts) >= 2:
                titles[parts[0]] = parts[1]
    return titles


def index_html(f, out, made, notes, titles):
    rows = []
    names = strings(f["/comparison/method"])
    for n, k, lam, tr, te in zip(names, f["/comparison/k"][:], f["/comparison/lambda"][:], f["/comparison/train_rmse"][:],
                                 f["/comparison/test_rmse"][:]):
        rows.append(f"<tr><td>{html.escape(n)}</td><td>{k or '-'}</td><td>{lam if lam > 0 else '-'}</td>"
                    f"<td>{tr:.4f}</td><td>{te:.4f}</td></tr>")
    oracle = float(f["/comparison"].attrs.get("oracle_test_rmse", -1))
    if oracle > 0:
        rows.append(f"<tr><td>oracle (noise-free truth)</td><td>-</td><td>-</td>"
                    f"<td>{float(f['/comparison'].attrs['oracle_train_rmse']):.4f}</td><td>{oracle:.4f}</td></tr>")
    recs = ""
    if "recommend" in f:
        g = f["recommend"]
        genre = f["/latent/item_genre"][:] if "/latent/item_genre" in f else None
        gnames = strings(f["/latent/genre_names"]) if genre is not None else None
        ids = strings(g["item_ids"]) if "item_ids" in g else [str(i) for i in g["items"][:]]
        items = ["<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td><td>{}</td></tr>".format(
            r + 1, html.escape(mid), html.escape(titles.get(mid, "-")), p, gnames[genre[i]] if genre is not None else "-")
            for r, (i, mid, p) in enumerate(zip(g["items"][:], ids, g["predicted"][:]))]
        recs = (f"<h2>Top {len(items)} for the most active user (user ID {html.escape(text(g.attrs['user']))})</h2>"
                "<p>Movies the user has not rated, best first, by distcf's biased ALS; IDs are the data's own.</p>"
                "<table><tr><th>#</th><th>movie ID</th><th>title</th><th>predicted</th><th>genre</th></tr>" + "".join(items) + "</table>")
    figs = "".join(f'<figure><img src="{m}" alt="{html.escape(c)}"><figcaption>{html.escape(c)}</figcaption></figure>'
                   for m, c in made)
    note = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>distcf study</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:4px 10px;text-align:right}}td:first-child{{text-align:left}}
img{{max-width:100%;border:1px solid #ddd}}figure{{margin:1.5em 0}}</style></head><body>
<h1>distcf study</h1><p>Data: {html.escape(os.path.basename(text(f.attrs.get('data', ''))))}, {f.attrs['n_users']} users x
{f.attrs['n_items']} items, {f.attrs['nnz_train']} training and {f.attrs['nnz_test']} test ratings.</p>
<h2>Comparison</h2><table><tr><th>method</th><th>k</th><th>λ</th><th>train RMSE</th><th>test RMSE</th></tr>
{''.join(rows)}</table>{recs}<h2>Figures</h2>{figs}{'<h2>Notes</h2><ul>' + note + '</ul>' if note else ''}
</body></html>"""
    with open(os.path.join(out, "index.html"), "w") as fh:
        fh.write(page)


def density_sweep(f, out, made):
    """The notebook's question: validation RMSE against lambda per density, and the optimal lambda."""
    dens = f["/density"][:]
    fig, ax = plt.subplots(figsize=(6.6, 4.6))
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(dens)))
    for q, d in enumerate(dens):
        g = f[f"/sweep{q}"]
        lam, rmse = g["lambda"][:], g["validation_rmse"][:]
        grid = np.unique(lam)
        best_per_lambda = [rmse[lam == x].min() for x in grid]  # the best k at each lambda
        ax.plot(grid, best_per_lambda, "o-", color=colours[q], label=f"density {d:g}")
    ax.set_xscale("log")
    ax.set_xlabel("λ (regularisation, times n per row)")
    ax.set_ylabel("validation RMSE (best k at each λ)")
    ax.set_title("Validation RMSE against λ, per density")
    ax.legend()
    ax.grid(alpha=0.3)
    save(fig, out, "lambda_vs_rmse_per_density.png", made,
         "Validation RMSE (best k at each λ) against the regularisation λ, one curve per density of generated data.")
    fig, ax = plt.subplots(figsize=(6.0, 4.4))
    ax.plot(dens, f["/best_lambda"][:], "s-", color="crimson")
    for d, lam, k in zip(dens, f["/best_lambda"][:], f["/best_rank"][:]):
        ax.annotate(f"k={k}", (d, lam), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("density (observed fraction of the rating matrix)")
    ax.set_ylabel("optimal λ")
    ax.set_title("Optimal λ against density")
    ax.grid(alpha=0.3)
    save(fig, out, "optimal_lambda_vs_density.png", made,
         "The λ with the lowest validation RMSE at each density (its k annotated): how regularisation must change as "
         "the data get sparser.")
    rows = "".join(f"<tr><td>{d:g}</td><td>{n}</td><td>{k}</td><td>{lam:g}</td><td>{r:.4f}</td></tr>"
                   for d, n, k, lam, r in zip(dens, f["/ratings"][:], f["/best_rank"][:], f["/best_lambda"][:],
                                              f["/best_rmse"][:]))
    figs = "".join(f'<figure><img src="{m}" alt="{html.escape(c)}"><figcaption>{html.escape(c)}</figcaption></figure>'
                   for m, c in made)
    with open(os.path.join(out, "index.html"), "w") as fh:
        fh.write("<!doctype html><html><head><meta charset='utf-8'><title>distcf: lambda against density</title></head>"
                 "<body style='font-family:sans-serif'><h1>Optimal λ as the data get sparser</h1><table border=1 "
                 "cellpadding=4><tr><th>density</th><th>ratings</th><th>best k</th><th>best λ</th>"
                 f"<th>validation RMSE</th></tr>{rows}</table>{figs}</body></html>")


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("results")
    a.add_argument("--out", required=True)
    a.add_argument("--titles", help="MovieLens u.item, movies.dat or movies.csv: titles in the top-N table")
    args = a.parse_args()
    os.makedirs(args.out, exist_ok=True)
    made, notes = [], []
    with h5py.File(args.results, "r") as f:
        kind = text(f.attrs.get("format", ""))
        if kind == "distcf-density-sweep":
            density_sweep(f, args.out, made)
            print(f"report: {len(made)} figures and index.html in {args.out}")
            return
        if kind != "distcf-study":
            raise SystemExit(f"{args.results}: not a distcf study or density-sweep results file")
        rating_matrices(f, args.out, made, notes)
        svd_sweep(f, args.out, made)
        als_convergence(f, args.out, made)
        method_bars(f, args.out, made)
        similarity(f, args.out, made, notes)
        projections(f, args.out, made)
        predicted_vs_observed(f, args.out, made)
        alignment(f, args.out, made, notes)
        index_html(f, args.out, made, notes, read_titles(args.titles))
    print(f"report: {len(made)} figures and index.html in {args.out}")


if __name__ == "__main__":
    main()
