"""What implicit's models share here: a libreco model trained on the user x
item CSR matrix, its users and items numbered as the matrix's rows and
columns (a row or column with no entries has zero factors), and implicit's
serving calls over those numbers: (ids, scores) arrays, 2-D for a batch."""
from __future__ import annotations

import warnings
from typing import Any, Optional, Tuple

import numpy as np

from .. import models
from .._native import check, lib
from ..backend import Backend
from ..dataset import Dataset

SHAPE = "implicit.shape"      # model metadata: the matrix's "rows,columns"
FOLDED = "implicit.folded"    # rows added by partial_fit_users, in model order


class ParameterWarning(UserWarning):
    """implicit's warning for an argument converted on the way in."""


def csr_of(user_items: Any, name: str = "user_items"):
    """The matrix as a scipy CSR matrix, refused with implicit's message."""
    from scipy.sparse import csr_matrix
    if not isinstance(user_items, csr_matrix):
        raise ValueError(f"{name} needs to be a CSR sparse matrix")
    return user_items


def backend_of(num_threads: int) -> Optional[Backend]:
    return Backend("cpu", threads=num_threads) if num_threads else None


def dot_rows(vectors: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """vectors @ factors.T one row at a time, so that a row's scores are the
    same bits whether it came alone or in a batch."""
    return np.stack([factors @ vector for vector in vectors]) if len(vectors) else \
        np.empty((0, len(factors)), dtype=factors.dtype)


def top(scores: np.ndarray, count: int) -> Tuple[np.ndarray, np.ndarray]:
    """The `count` best columns of each row of scores, best first (ties by
    column), as (ids, scores)."""
    count = min(count, scores.shape[1])
    if count <= 0:
        return (np.empty((scores.shape[0], 0), dtype=np.int32),
                np.empty((scores.shape[0], 0), dtype=scores.dtype))
    order = np.argsort(-scores, axis=1, kind="stable")[:, :count]
    return order.astype(np.int32), np.take_along_axis(scores, order, axis=1)


class RecommenderBase:
    """Shared by every model of this subpackage: fit, save, load, pickle."""

    native: type = models.Model
    model: Optional[models.Model] = None

    def _keep(self, keywords: dict) -> None:
        """Keeps the constructor's keywords as attributes, as implicit's
        models have them (model.factors, model.K, ...); no model yet."""
        for name, value in keywords.items():
            if name not in ("self", "__class__"):
                setattr(self, name, np.dtype(value) if name == "dtype" else value)
        self.model = None

    def _native_settings(self) -> dict:
        raise NotImplementedError

    def _epochs(self) -> int:
        return 1

    def _values(self, values: np.ndarray) -> np.ndarray:
        """The matrix's values as the libreco model's ratings."""
        return values

    def fit(self, user_items: Any, show_progress: bool = True, callback: Any = None) -> None:
        """Trains on a users x items CSR matrix (values: confidences); other
        scipy.sparse matrices are converted, with a ParameterWarning."""
        from scipy.sparse import csr_matrix, issparse
        if not isinstance(user_items, csr_matrix):
            if not issparse(user_items):
                raise ValueError("user_items needs to be a scipy.sparse matrix (CSR)")
            warnings.warn(f"Method expects CSR input, converting {type(user_items).__name__}",
                          ParameterWarning, stacklevel=2)
            user_items = user_items.tocsr()
        matrix = user_items
        if matrix.nnz == 0:
            raise ValueError("user_items: the matrix has no entries to fit")
        coo = matrix.tocoo()
        data = Dataset.from_arrays(coo.row, coo.col, ratings=self._values(coo.data))
        model = self.native(backend=backend_of(getattr(self, "num_threads", 0)),
                            **self._native_settings())
        report = (lambda update: callback(update["epoch"], update["loss"])) if callback else None
        model.fit(data, epochs=self._epochs(), progress=None if show_progress else False,
                  callback=report)
        check(lib.reco_model_set_metadata(model._handle, SHAPE.encode(),
                                          f"{matrix.shape[0]},{matrix.shape[1]}".encode()))
        for name, value in self._kept().items():
            check(lib.reco_model_set_metadata(model._handle, f"implicit.{name}".encode(),
                                              repr(value).encode()))
        self._adopt(model)

    def _kept(self) -> dict:
        """Constructor keywords the model file keeps (load restores them)."""
        return {}

    def _adopt(self, model: models.Model) -> None:
        """Takes a trained or loaded libreco model: the maps between its
        indices and the matrix's rows and columns."""
        self.model = model
        for name, value in self._kept().items():
            kept = lib.reco_model_metadata(model._handle, f"implicit.{name}".encode())
            if kept is not None:
                setattr(self, name, type(value)(kept.decode()))
        shape = lib.reco_model_metadata(model._handle, SHAPE.encode())
        rows, columns = (int(v) for v in shape.decode().split(",")) if shape else \
            (model.n_users, model.n_items)
        folded = lib.reco_model_metadata(model._handle, FOLDED.encode())
        folded = [int(v) for v in folded.decode().split(",")] if folded else []
        trained = model.n_users - len(folded)
        self._user_rows = np.array([model.user_id(i) for i in range(trained)] + folded,
                                   dtype=np.int64)
        self._item_columns = np.array([model.item_id(i) for i in range(model.n_items)],
                                      dtype=np.int64)
        self._shape = (max(rows, int(self._user_rows.max(initial=-1)) + 1), columns)
        self._refresh()

    def _refresh(self) -> None:
        """Reads what serving needs out of the libreco model."""

    def _item_index_of(self) -> np.ndarray:
        """For each column of the matrix, the model's item index or -1."""
        index = np.full(self._shape[1], -1, dtype=np.int64)
        index[self._item_columns] = np.arange(len(self._item_columns))
        return index

    def _liked(self, user_items, row: int) -> np.ndarray:
        """The model's indices of the items of one row of a CSR matrix."""
        columns = user_items.indices[user_items.indptr[row]:user_items.indptr[row + 1]]
        columns = columns[columns < self._shape[1]]
        index = self._item_index_of()[columns]
        return np.ascontiguousarray(index[index >= 0], dtype=np.int32)

    def save(self, path: Any) -> None:
        """Saves the model as a libreco model file (with the matrix's
        shape); as implicit's, a str path gets ".npz" appended unless it
        ends so (load does the same), though the file is libreco's."""
        self._ready().save(npz(path))

    @classmethod
    def load(cls, path: Any) -> "RecommenderBase":
        """A model saved by save()."""
        loaded = cls()
        loaded._adopt(models.Model.load(npz(path)))
        return loaded

    def _ready(self) -> models.Model:
        if self.model is None:
            raise ValueError(f"{type(self).__name__}: fit or load the model first")
        return self.model

    def __getstate__(self):
        state = self.__dict__.copy()
        for derived in ("model", "_user_rows", "_item_columns", "_shape", "user_factors",
                        "item_factors", "similarity", "_solver"):
            state.pop(derived, None)
        state["model_bytes"] = self.model.to_bytes() if self.model is not None else None
        return state

    def __setstate__(self, state):
        data = state.pop("model_bytes")
        self.__dict__.update(state)
        self.model = None
        if data is not None:
            self._adopt(models.Model.from_bytes(data))


def npz(path: Any) -> Any:
    return path + ".npz" if isinstance(path, str) and not path.endswith(".npz") else path


def one_or_many(ids: Any) -> Tuple[np.ndarray, bool]:
    """ids as a 1-D int array, and whether it was one id."""
    one = np.isscalar(ids) or np.ndim(ids) == 0
    return np.atleast_1d(np.asarray(ids, dtype=np.int64)), one


def check_rows(user_items, count: int) -> None:
    if user_items.shape[0] != count:
        raise ValueError("user_items must contain 1 row for every user in userids")


def restrict(scores: np.ndarray, user_items, filter_items, items, width: int):
    """implicit's candidate rules on a (users, items) score matrix: the
    rows' own items (user_items, may be None), filter_items and items
    (not both) set to -inf or left out; returns (scores, candidate ids or
    None for all)."""
    if items is not None and filter_items is not None:
        raise ValueError("Can't set both items and filter_items in recommend call")
    if user_items is not None:
        for row in range(scores.shape[0]):
            columns = user_items.indices[user_items.indptr[row]:user_items.indptr[row + 1]]
            scores[row, columns[columns < width]] = -np.inf
    if filter_items is not None:
        filtered = np.asarray(filter_items, dtype=np.int64)
        scores[:, filtered[(filtered >= 0) & (filtered < width)]] = -np.inf
    if items is not None:
        candidates = np.sort(np.asarray(items, dtype=np.int64))
        if len(candidates) and (candidates.max() >= width or candidates.min() < 0):
            raise IndexError("Some itemids in the items parameter are not in the model")
        return scores[:, candidates], candidates
    return scores, None


def ranked(scores: np.ndarray, count: int, candidates, one: bool):
    ids, best = top(scores, count)
    if candidates is not None:
        ids = candidates[ids].astype(np.int32)
    return (ids[0], best[0]) if one else (ids, best)
