"""Rating stores (format distcf-ratings): ratings as CSR arrays ready for scipy.sparse."""

import h5py
import numpy as np

from ._ids import IdIndex, read_ids


class Dataset:
    """A rating store read whole: `indptr`, `indices`, `data` (CSR by user, columns ascending),
    the external IDs of rows and columns, and the stored train/test split when there is one."""

    def __init__(self, path, n_users, n_items, user, item, value, user_ids, item_ids, is_test, attrs):
        self.path = path
        self.shape = (int(n_users), int(n_items))
        self.user_ids = user_ids
        self.item_ids = item_ids
        self.attrs = attrs
        self._users = IdIndex(user_ids)
        self._items = IdIndex(item_ids)
        self._user, self._item, self._value, self._is_test = user, item, value, is_test
        self.indptr, self.indices, self.data = self._csr(np.ones(len(user), dtype=bool))

    @classmethod
    def load(cls, path):
        with h5py.File(path, "r") as f:
            fmt = f.attrs.get("format")
            fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
            if fmt != "distcf-ratings":
                raise ValueError(f"{path}: not a distcf rating store (format {fmt!r})")
            user = f["ratings/user"][()].astype(np.int64)
            item = f["ratings/item"][()].astype(np.int64)
            value = f["ratings/value"][()].astype(np.float64)
            is_test = f["split/is_test"][()].astype(bool) if "split/is_test" in f else None
            attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
            return cls(path, f.attrs["n_users"], f.attrs["n_items"], user, item, value,
                       read_ids(f["ids/users"]), read_ids(f["ids/items"]), is_test, attrs)

    @property
    def nnz(self):
        return len(self.data)

    @property
    def has_split(self):
        return self._is_test is not None

    def _csr(self, keep):
        u, i, v = self._user[keep], self._item[keep], self._value[keep]
        order = np.lexsort((i, u))  # stores are (user, item) ascending already; cheap to make sure
        u, i, v = u[order], i[order], v[order]
        indptr = np.zeros(self.shape[0] + 1, dtype=np.int64)
        np.add.at(indptr, u + 1, 1)
        return np.cumsum(indptr), i.astype(np.int32), v

    def split(self, side):
        """The 'train' or 'test' side of a stored split as (indptr, indices, data)."""
        if self._is_test is None:
            raise ValueError(f"{self.path}: no stored split (distcf split --test-fraction makes one)")
        if side not in ("train", "test"):
            raise ValueError("side: 'train' or 'test'")
        return self._csr(self._is_test if side == "test" else ~self._is_test)

    def to_scipy(self, side=None):
        """A scipy.sparse.csr_matrix (users x items) of all ratings, or of one side of the split."""
        import scipy.sparse

        indptr, indices, data = (self.indptr, self.indices, self.data) if side is None else self.split(side)
        return scipy.sparse.csr_matrix((data, indices, indptr), shape=self.shape)

    def user_index(self, users):
        """Dense indices of external user IDs (-1: unknown)."""
        return self._users.indices(users)

    def item_index(self, items):
        return self._items.indices(items)

    def __repr__(self):
        return f"Dataset({self.path!r}, {self.shape[0]} users x {self.shape[1]} items, {self.nnz} ratings)"
