"""implicit.als's AlternatingLeastSquares on libreco's iALS (RECO_MODEL_IALS).

    from pylibreco.implicit.als import AlternatingLeastSquares
    model = AlternatingLeastSquares(factors=64, regularization=0.05, iterations=15)
    model.fit(user_items)                      # a users x items CSR matrix
    ids, scores = model.recommend(0, user_items[0], N=10)
"""
from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from .. import models
from .._native import check, lib
from . import _base, _mf


def seed_of(random_state: Any) -> int:
    """implicit's random_state (an int, a RandomState, or None: fresh) as a seed."""
    if random_state is None:
        return int(np.random.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return int(random_state)


class AlternatingLeastSquares(_mf.MatrixFactorizationBase):
    """implicit's ALS keywords on libreco's iALS: regularization is its
    lambda, alpha its confidence (an entry of value r weighs alpha r, as in
    implicit; recalculate_user and partial_fit_users weigh each item 1),
    use_cg picks the CG solver (else Cholesky), iterations its epochs.
    dtype, use_native, use_gpu and calculate_training_loss are accepted and
    have no effect (libreco computes in float32 on its own backend)."""

    native = models.IALS

    def __init__(self, factors: int = 100, regularization: float = 0.01, alpha: float = 1.0,
                 dtype: Any = np.float32, use_native: bool = True, use_cg: bool = True,
                 use_gpu: bool = False, iterations: int = 15,
                 calculate_training_loss: bool = False, num_threads: int = 0,
                 random_state: Any = None):
        self._keep(locals())
        self.cg_steps = 3

    def _native_settings(self) -> dict:
        return {"factors": self.factors, "weight_decay": self.regularization,
                "confidence": 1.0, "solver": "cg" if self.use_cg else "cholesky",
                "cg_steps": self.cg_steps, "init_seed": seed_of(self.random_state)}

    def _values(self, values: np.ndarray) -> np.ndarray:
        # implicit weighs an entry of value r by alpha r; libreco's iALS by
        # 1 + confidence x rating: the rating alpha r - 1 with confidence 1
        return self.alpha * np.asarray(values, dtype=np.float64) - 1.0

    def _kept(self) -> dict:
        return {"factors": self.factors, "regularization": self.regularization,
                "alpha": self.alpha, "iterations": self.iterations}

    def _epochs(self) -> int:
        return self.iterations

    def _refresh(self) -> None:
        super()._refresh()
        self._solver = None

    def _solve(self, user_items, row):
        """A user's factors solved for one row of user_items, the items
        fixed: an exact solve (reco_model_refit_user) on a copy of the model,
        so that the model itself is left as it is."""
        if self._solver is None:
            self._solver = models.Model.from_bytes(self._ready().to_bytes())
        liked = self._liked(user_items, row)
        check(lib.reco_model_refit_user(self._solver._handle, 0,
                                        liked.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
                                        len(liked)))
        return self._solver.user_factors[0]

    def recalculate_user(self, userid: Any, user_items: Any) -> np.ndarray:
        """The factors of user id(s) solved for their rows of user_items."""
        users, one = _base.one_or_many(userid)
        _base.check_rows(_base.csr_of(user_items), len(users))
        factors = np.stack([self._solve(user_items, row) for row in range(len(users))])
        return factors[0] if one else factors

    def partial_fit_users(self, userids: Any, user_items: Any) -> None:
        """Solves the factors of the given users for their rows of
        user_items and keeps them: existing users are refitted, new user ids
        are added to the model (folded in)."""
        users, _ = _base.one_or_many(userids)
        _base.check_rows(_base.csr_of(user_items), len(users))
        model = self._ready()
        folded = list(self._user_rows[model.n_users - self._folded_count():])
        index = {int(row): i for i, row in enumerate(self._user_rows)}
        for row, user in enumerate(users):
            liked = self._liked(user_items, row)
            pointer = liked.ctypes.data_as(ctypes.POINTER(ctypes.c_int32))
            if int(user) in index:
                check(lib.reco_model_refit_user(model._handle, index[int(user)], pointer,
                                                len(liked)))
            else:
                index[int(user)] = model.fold_in(liked)
                folded.append(int(user))
        check(lib.reco_model_set_metadata(model._handle, _base.FOLDED.encode(),
                                          ",".join(str(u) for u in folded).encode()))
        self._adopt(model)

    def _folded_count(self) -> int:
        folded = lib.reco_model_metadata(self._ready()._handle, _base.FOLDED.encode())
        return len(folded.decode().split(",")) if folded else 0

    def partial_fit_items(self, itemids: Any, item_users: Any) -> None:
        raise NotImplementedError("partial_fit_items: libreco's iALS adds users only "
                                  "(refit the model for new items)")
