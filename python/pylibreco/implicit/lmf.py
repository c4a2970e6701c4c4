"""implicit.lmf's LogisticMatrixFactorization on libreco's biased MF with
the logistic loss (BCE) on sampled negatives, trained with AdaGrad as
implicit's is.

    from pylibreco.implicit.lmf import LogisticMatrixFactorization
    model = LogisticMatrixFactorization(factors=30, iterations=30).fit(user_items)
"""
from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from .. import models
from .._native import check, lib
from . import _mf
from .als import seed_of


class LogisticMatrixFactorization(_mf.MatrixFactorizationBase):
    """implicit's LMF keywords: factors, learning_rate (AdaGrad's),
    regularization (weight decay), iterations (epochs), neg_prop (negatives
    sampled a positive); dtype and use_gpu are accepted and have no effect.
    As implicit's, the factors carry the biases: user_factors ends in
    (user bias + global bias, 1), item_factors in (1, item bias), so that
    their dot product is the model's logit."""

    native = models.MF

    def __init__(self, factors: int = 30, learning_rate: float = 1.00,
                 regularization: float = 0.6, dtype: Any = np.float32, iterations: int = 30,
                 neg_prop: int = 30, use_gpu: bool = False, num_threads: int = 0,
                 random_state: Any = None):
        self._keep(locals())

    def _native_settings(self) -> dict:
        seed = seed_of(self.random_state)
        # implicit penalizes a user's factors once an iteration, against the
        # sum of its entries' and negatives' terms; libreco decays the rows of
        # each example: the same balance is regularization over (1 +
        # neg_prop) times the mean entries of a user
        per_user = self._entries / max(self._users, 1)
        decay = self.regularization / ((1 + self.neg_prop) * max(per_user, 1.0))
        return {"factors": self.factors, "biases": True, "loss": "bce",
                "negatives": self.neg_prop, "optimizer": "adagrad",
                "learning_rate": self.learning_rate, "weight_decay": decay,
                "init_seed": seed, "seed": seed}

    def fit(self, user_items: Any, show_progress: bool = True, callback: Any = None) -> None:
        """As implicit's LMF.fit (see RecommenderBase.fit)."""
        self._entries = getattr(user_items, "nnz", 0)
        self._users = int(np.count_nonzero(np.diff(user_items.tocsr().indptr))) \
            if self._entries else 0
        super().fit(user_items, show_progress, callback)

    def _kept(self) -> dict:
        return {"factors": self.factors, "learning_rate": self.learning_rate,
                "regularization": self.regularization, "iterations": self.iterations,
                "neg_prop": self.neg_prop}

    def _epochs(self) -> int:
        return self.iterations

    def _refresh(self) -> None:
        super()._refresh()
        model = self.model
        users, items = np.zeros(model.n_users, np.float32), np.zeros(model.n_items, np.float32)
        overall = ctypes.c_float()
        pointer = ctypes.POINTER(ctypes.c_float)
        check(lib.reco_model_get_biases(model._handle, users.ctypes.data_as(pointer),
                                        items.ctypes.data_as(pointer), ctypes.byref(overall)))
        user_columns = np.zeros((self._shape[0], 2), dtype=np.float32)
        user_columns[self._user_rows] = np.column_stack([users + overall.value,
                                                         np.ones_like(users)])
        item_columns = np.zeros((self._shape[1], 2), dtype=np.float32)
        item_columns[self._item_columns] = np.column_stack([np.ones_like(items), items])
        self.user_factors = np.hstack([self.user_factors, user_columns])
        self.item_factors = np.hstack([self.item_factors, item_columns])
