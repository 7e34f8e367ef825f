"""distcf from Python: model files, rating stores and the command-line program.

    import distcf
    model = distcf.Model.load("model.h5")
    model.predict(["1", "2"], ["50", "172"])
    ids, scores = model.recommend("1", n=10)

Every result equals the `distcf` commands' on the same file (the tests compare them).
"""

from .dataset import Dataset
from .model import Model
from .runner import DistcfError, find_binary, run

__all__ = ["Dataset", "DistcfError", "Model", "find_binary", "run"]
__version__ = "0.3.0"
