"""libreco from Python: datasets, models, training, evaluation and serving
over libreco's stable C ABI (ctypes and numpy; no compiled extension).

    import pylibreco
    data = pylibreco.Dataset.read("ml-1m/ratings.dat")
    train, test = data.split_leave_one_out()
    test.sample_test_negatives(data, 99, seed=42)
    model = pylibreco.NeuMF().fit(train, epochs=10)
    print(model.evaluate_sampled(test))          # {'hr': ..., 'ndcg': ...}
    items, scores = model.recommend(0, k=10)

See docs/python.md.
"""
from ._native import lib as _lib
from .backend import Backend
from .dataset import Dataset
from .errors import (BackendError, BackendUnavailable, FormatError, Interrupted, InvalidArgument,
                     IOFailure, OutOfMemory, OutOfRange, ParseError, RecoError, StateError)
from .models import BPRMF, EASE, GMF, IALS, MF, MLP, ItemKNN, Model, NeuMF
from .serving import Filter, Index, ItemTags
from .tuning import Trial, TuneResult, tune

__all__ = ["Backend", "Dataset", "Model", "MF", "BPRMF", "GMF", "MLP", "NeuMF", "IALS", "EASE", "ItemKNN", "RecoError",
           "InvalidArgument", "OutOfMemory", "IOFailure", "ParseError", "FormatError",
           "OutOfRange", "BackendUnavailable", "BackendError", "StateError", "Interrupted",
           "Filter", "Index", "ItemTags", "tune", "Trial", "TuneResult", "version"]


def version():
    """The version of the libreco library loaded, "MAJOR.MINOR.PATCH"."""
    return _lib.reco_version_string().decode()
