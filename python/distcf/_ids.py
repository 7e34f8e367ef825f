"""External IDs as distcf stores them (/ids/users, /ids/items): int64, or fixed-length strings."""

import numpy as np


def read_ids(dataset):
    """The IDs of an /ids dataset as strings (what the command line prints and accepts)."""
    raw = dataset[()]
    if raw.dtype.kind in "iu":
        return np.array([str(v) for v in raw], dtype=object)
    return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in raw], dtype=object)


class IdIndex:
    """External ID <-> dense index, for IDs given as str or int."""

    def __init__(self, ids):
        self.ids = ids
        self._index = {v: i for i, v in enumerate(ids)}

    def __len__(self):
        return len(self.ids)

    def find(self, key):
        """Dense index of an external ID, or -1 when unknown."""
        return self._index.get(str(key), -1)

    def indices(self, keys):
        return np.array([self.find(k) for k in np.atleast_1d(np.asarray(keys, dtype=object))], dtype=np.int64)
