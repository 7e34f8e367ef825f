"""Model files (format distcf-model, versions 1 and 2): predictions, top-N, similar items.

The formulas are docs/FORMAT.md's and the `distcf` program's:

    score(u, i)      = mu + user_bias[u] + item_bias[i] + factor_scale * U[u] . V[i]
    prediction(u, i) = clip(score(u, i), rating_min, rating_max)

with U and V cut to the model's chosen k (an SVD model stores the largest k of its grid and
predicts with `k_selected`), and the baseline's fallback for users or items the model does not
know (or, with cold_start="fallback", knows from fewer than `cold_threshold` ratings).
"""

import os
import shutil
import subprocess
import tempfile

import h5py
import numpy as np

from ._ids import IdIndex, read_ids

_ITEM_BLOCK_BYTES = 64 << 20  # recommend_all: at most this much of scores at a time


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


class Model:
    """A distcf model file loaded for use. Rows of `user_factors` / `item_factors` follow
    `user_ids` / `item_ids` (the data's external IDs, as strings)."""

    def __init__(self, path, attrs, params, arrays, user_ids, item_ids, seen, k):
        self.path = path
        self.method = attrs["method"]
        self.params = params
        self.attrs = attrs
        self.mu = float(attrs["mu"])
        self.global_mean = float(attrs["global_mean"])
        self.rating_min = float(attrs["rating_min"])
        self.rating_max = float(attrs["rating_max"])
        self.factor_scale = float(attrs.get("factor_scale", 1.0))
        self.user_ids, self.item_ids = user_ids, item_ids
        self._users, self._items = IdIndex(user_ids), IdIndex(item_ids)
        nu, ni = len(user_ids), len(item_ids)
        self.user_bias = arrays["user_bias"] if arrays["user_bias"].size else np.zeros(nu)
        self.item_bias = arrays["item_bias"] if arrays["item_bias"].size else np.zeros(ni)
        self.user_counts, self.item_counts = arrays["user_counts"], arrays["item_counts"]
        self.k = k
        # float32 in the file when every value is a float's (single precision, Bayesian MF's
        # samples): scored in float64 as the program scores them.
        self.user_factors = arrays["user_factors"][:, :k].astype(np.float64) if k else np.zeros((nu, 0))
        self.item_factors = arrays["item_factors"][:, :k].astype(np.float64) if k else np.zeros((ni, 0))
        self._seen = seen  # (ptr, items) or None

    # ---- loading -------------------------------------------------------------------------
    @classmethod
    def load(cls, path, k=None):
        """Load a model file. `k`: use the first k factors (an SVD model's grid); default the
        model's own choice (its `k_selected`, else all)."""
        with h5py.File(path, "r") as f:
            fmt = _text(f.attrs.get("format"))
            if fmt != "distcf-model":
                raise ValueError(f"{path}: not a distcf model file (format {fmt!r})")
            version = int(f.attrs["format_version"])
            if version not in (1, 2):
                raise ValueError(f"{path}: model format version {version} is not supported (1 or 2)")
            g = f["model"]
            attrs = {key: _text(v) for key, v in g.attrs.items()}
            if version == 1:  # version 1 named k `rank` and kept k_selected among the parameters
                attrs.setdefault("n_factors", attrs.get("rank", 0))
                attrs.setdefault("k_selected", attrs.get("param_k_selected", 0))
            params = {key[len("param_"):]: v for key, v in attrs.items() if key.startswith("param_")}
            arrays = {name: g[name][()] for name in ("user_bias", "item_bias", "user_factors", "item_factors",
                                                      "user_counts", "item_counts")}
            n_factors = int(attrs.get("n_factors", 0))
            chosen = int(attrs.get("k_selected", 0))
            if k is None or k == 0:
                k = chosen if chosen > 0 else n_factors
            if k < 0 or k > n_factors or (n_factors > 0 and k == 0):
                raise ValueError(f"k: must be in [1, {n_factors}] for this model, got {k}")
            seen = (f["seen/ptr"][()], f["seen/items"][()]) if "seen/ptr" in f else None
            model = cls(path, attrs, params, arrays, read_ids(f["ids/users"]), read_ids(f["ids/items"]), seen, k)
            model.complete = bool(f.attrs.get("complete", 1))
            return model

    @property
    def n_users(self):
        return len(self.user_ids)

    @property
    def n_items(self):
        return len(self.item_ids)

    def user_index(self, users):
        """Dense indices of external user IDs (-1: not in the model)."""
        return self._users.indices(users)

    def item_index(self, items):
        return self._items.indices(items)

    def user_factors_of(self, users):
        """Factor rows of the given external user IDs (KeyError for an unknown one)."""
        return self.user_factors[self._known(self._users, users, "user")]

    def item_factors_of(self, items):
        return self.item_factors[self._known(self._items, items, "item")]

    @staticmethod
    def _known(index, keys, what):
        idx = index.indices(keys)
        if (idx < 0).any():
            raise KeyError(f"{what} {np.atleast_1d(np.asarray(keys, dtype=object))[idx < 0][0]} is not in the model")
        return idx

    # ---- scores and predictions -----------------------------------------------------------
    def _scores(self, u, i):
        """Unclipped scores of dense pairs (arrays of equal length, all known)."""
        s = self.mu + self.user_bias[u] + self.item_bias[i]
        if self.k:
            s = s + self.factor_scale * np.einsum("ij,ij->i", self.user_factors[u], self.item_factors[i])
        return s

    def _fallback(self, u, i):
        s = np.full(len(u), self.global_mean)
        s += np.where(u >= 0, self.user_bias[np.maximum(u, 0)], 0.0)
        s += np.where(i >= 0, self.item_bias[np.maximum(i, 0)], 0.0)
        return np.clip(s, self.rating_min, self.rating_max)

    def predict(self, users, items, cold_start="model", cold_threshold=3):
        """Predicted ratings of (user, item) pairs given by external IDs, as `distcf predict`:
        clipped to the rating scale; a user or item not in the model gets the baseline's
        fallback. cold_start="fallback" also gives it to pairs whose user or item has fewer than
        `cold_threshold` training ratings."""
        if cold_start not in ("model", "fallback"):
            raise ValueError("cold_start: 'model' or 'fallback'")
        u, i = self.user_index(users), self.item_index(items)
        if len(u) != len(i):
            raise ValueError("users and items: give as many of each")
        known = (u >= 0) & (i >= 0)
        cold = ~known
        cold |= (u >= 0) & (self.user_counts[np.maximum(u, 0)] < cold_threshold)
        cold |= (i >= 0) & (self.item_counts[np.maximum(i, 0)] < cold_threshold)
        use_model = ~cold | ((cold_start == "model") & known)
        out = np.empty(len(u))
        out[use_model] = np.clip(self._scores(u[use_model], i[use_model]), self.rating_min, self.rating_max)
        fb = ~use_model
        warm_user = (u >= 0) & (self.user_counts[np.maximum(u, 0)] >= cold_threshold)
        out[fb] = self._fallback(np.where(warm_user, u, -1)[fb], i[fb])
        return out

    # ---- top-N -----------------------------------------------------------------------------
    def seen_items(self, user):
        """Dense indices of the training items of a user (what recommend excludes)."""
        u = self._known(self._users, [user], "user")[0]
        if self._seen is None:
            return np.zeros(0, dtype=np.int32)
        ptr, items = self._seen
        return items[ptr[u]:ptr[u + 1]]

    def _best(self, scores, n):
        """Indices of the n best of each row (larger score first, then smaller item: the
        program's order), -inf entries never listed; rows padded with -1."""
        rows, cols = scores.shape
        take = min(n, cols)
        if take < cols:
            part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        else:
            part = np.tile(np.arange(cols), (rows, 1))
        s = np.take_along_axis(scores, part, axis=1)
        order = np.lexsort((part, -s), axis=1)
        idx = np.take_along_axis(part, order, axis=1)
        if take < cols:
            # argpartition breaks a tie at the cut arbitrarily: where more items share the last
            # listed score than fit, the smaller items win, as in the program.
            last = np.take_along_axis(scores, idx[:, -1:], axis=1)[:, 0]
            for r in np.nonzero((scores >= last[:, None]).sum(axis=1) > take)[0]:
                cand = np.nonzero(scores[r] >= last[r])[0]
                idx[r] = cand[np.lexsort((cand, -scores[r, cand]))][:take]
        best = np.take_along_axis(scores, idx, axis=1)
        idx = np.where(np.isneginf(best), -1, idx)
        if take < n:
            idx = np.hstack([idx, np.full((rows, n - take), -1)])
        return idx

    def _user_scores(self, u):
        """Unclipped scores of dense users u (array) against every item."""
        s = (self.mu + self.user_bias[u])[:, None] + self.item_bias[None, :]
        if self.k:
            s = s + self.factor_scale * (self.user_factors[u] @ self.item_factors.T)
        return s

    def _mask_seen(self, s, u):
        if self._seen is None:
            return s
        ptr, items = self._seen
        for r, uu in enumerate(u):
            s[r, items[ptr[uu]:ptr[uu + 1]]] = -np.inf
        return s

    def recommend(self, user, n=10, exclude_seen=True):
        """The n best items for a user: (item IDs, predicted ratings), best first, as
        `distcf recommend --user`. A user not in the model gets the most rated items with the
        baseline's prediction."""
        u = self.user_index([user])[0]
        if u < 0:
            counts = self.item_counts.astype(np.float64)[None, :]
            idx = self._best(counts, n)[0]
            idx = idx[idx >= 0]
            return self.item_ids[idx], self._fallback(np.full(len(idx), -1), idx)
        s = self._user_scores(np.array([u]))
        if exclude_seen:
            s = self._mask_seen(s, [u])
        idx = self._best(s, n)[0]
        idx = idx[idx >= 0]
        return self.item_ids[idx], np.clip(s[0, idx], self.rating_min, self.rating_max)

    def recommend_all(self, n=10, exclude_seen=True, block_users=None):
        """Top n for every user, as Spark's recommendForAllUsers and `distcf recommend
        --all-users`: (items, scores), arrays of n_users x n with rows in the order of
        `user_ids`; items are external IDs (None where a user has fewer than n candidates,
        score nan). Scored a block of users at a time: memory O(block x items + users x n)."""
        if block_users is None:
            block_users = max(1, _ITEM_BLOCK_BYTES // (8 * max(1, self.n_items)))
        items = np.empty((self.n_users, n), dtype=object)
        scores = np.full((self.n_users, n), np.nan)
        for b0 in range(0, self.n_users, block_users):
            u = np.arange(b0, min(self.n_users, b0 + block_users))
            s = self._user_scores(u)
            if exclude_seen:
                s = self._mask_seen(s, u)
            idx = self._best(s, n)
            have = idx >= 0
            rows = np.take_along_axis(s, np.maximum(idx, 0), axis=1)
            items[b0:b0 + len(u)] = np.where(have, self.item_ids[np.maximum(idx, 0)], None)
            scores[b0:b0 + len(u)] = np.where(have, np.clip(rows, self.rating_min, self.rating_max), np.nan)
        return items, scores

    def similar_items(self, item, n=10):
        """The n items most similar to `item` by cosine of the item factors (itself excluded):
        (item IDs, cosines), as `distcf similar`."""
        if not self.k:
            raise ValueError(f"similar_items: the model has no item factors (method {self.method})")
        i = self._known(self._items, [item], "item")[0]
        V = self.item_factors
        norm = np.sqrt(np.einsum("ij,ij->i", V, V))
        with np.errstate(divide="ignore", invalid="ignore"):
            cos = (V @ V[i]) / (norm * norm[i])
        cos = np.where((norm > 0) & (norm[i] > 0), cos, -np.inf)
        cos[i] = -np.inf
        idx = self._best(cos[None, :], n)[0]
        # an item without factors is similar to nothing, but is still listed after the others
        idx = idx[idx >= 0]
        return self.item_ids[idx], cos[idx]

    # ---- fold-in ------------------------------------------------------------------------------
    def fold_in(self, ratings, binary=None, out=None):
        """New users' ratings folded into the model with the method's own row solve (the
        `distcf foldin` command, so the result is the program's): `ratings` is an iterable of
        (user, item, rating) with external IDs. Returns the new Model (written to `out`, or to a
        temporary file)."""
        from .runner import run

        tmp = tempfile.mkdtemp(prefix="distcf-foldin-")
        try:
            src = os.path.join(tmp, "ratings.txt")
            with open(src, "w") as fh:
                for user, item, rating in ratings:
                    fh.write(f"{user}\t{item}\t{float(rating)!r}\n")
            target = out or os.path.join(tmp, "model.h5")
            run("foldin", model=self.path, ratings=src, out=target, binary=binary)
            model = Model.load(target)
            if out is None:  # everything is in memory now
                model.path = None
            return model
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def __repr__(self):
        return (f"Model({self.path!r}, method={self.method!r}, {self.n_users} users x {self.n_items} items, "
                f"k={self.k})")
