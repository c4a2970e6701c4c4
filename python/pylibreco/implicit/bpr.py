"""implicit.bpr's BayesianPersonalizedRanking on libreco's MF with the BPR
loss, trained by per-example SGD as implicit's is.

    from pylibreco.implicit.bpr import BayesianPersonalizedRanking
    model = BayesianPersonalizedRanking(factors=64, iterations=100).fit(user_items)
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import models
from . import _mf
from .als import seed_of


class BayesianPersonalizedRanking(_mf.MatrixFactorizationBase):
    """implicit's BPR keywords: learning_rate and regularization (weight
    decay) per example, iterations its epochs; dtype, use_gpu and
    verify_negative_samples are accepted and have no effect (libreco's
    sampler draws from the items the user has no entry for)."""

    native = models.BPRMF

    def __init__(self, factors: int = 100, learning_rate: float = 0.01,
                 regularization: float = 0.01, dtype: Any = np.float32, iterations: int = 100,
                 use_gpu: bool = False, num_threads: int = 0,
                 verify_negative_samples: bool = True, random_state: Any = None):
        self._keep(locals())

    def _native_settings(self) -> dict:
        seed = seed_of(self.random_state)
        return {"factors": self.factors, "optimizer": "sgd", "per_example": True,
                "learning_rate": self.learning_rate, "weight_decay": self.regularization,
                "init_seed": seed, "seed": seed}

    def _kept(self) -> dict:
        return {"factors": self.factors, "learning_rate": self.learning_rate,
                "regularization": self.regularization, "iterations": self.iterations}

    def _epochs(self) -> int:
        return self.iterations
