"""implicit's matrix-factorization models (ALS, BPR) over a libreco model:
user_factors and item_factors are numpy arrays numbered by the matrix's
rows and columns, and the serving calls score with them as implicit does."""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from . import _base


class MatrixFactorizationBase(_base.RecommenderBase):
    user_factors: Optional[np.ndarray] = None
    item_factors: Optional[np.ndarray] = None

    def _refresh(self) -> None:
        model = self.model
        users, items = model.user_factors, model.item_factors
        self.user_factors = np.zeros((self._shape[0], users.shape[1]), dtype=np.float32)
        self.user_factors[self._user_rows] = users
        self.item_factors = np.zeros((self._shape[1], items.shape[1]), dtype=np.float32)
        self.item_factors[self._item_columns] = items
        # columns without entries in training: the model never saw them, and
        # their zero factors would outrank every negative score
        self._unseen_items = np.ones(self._shape[1], dtype=bool)
        self._unseen_items[self._item_columns] = False

    def _user_vectors(self, users, user_items, recalculate_user):
        if recalculate_user:
            return np.stack([self._solve(user_items, row) for row in range(len(users))])
        return self.user_factors[users]

    def _solve(self, user_items, row):
        raise NotImplementedError("recalculate_user is not supported with this model")

    def recommend(self, userid: Any, user_items: Any, N: int = 10,
                  filter_already_liked_items: bool = True, filter_items: Any = None,
                  recalculate_user: bool = False, items: Any = None) -> Tuple[np.ndarray, np.ndarray]:
        """The N best items of a user id (1-D ids and scores) or of an array
        of user ids (2-D), as implicit's recommend: user_items holds one row
        per user, whose items are left out with filter_already_liked_items;
        filter_items are left out too; items restricts the candidates."""
        users, one = _base.one_or_many(userid)
        if filter_already_liked_items or recalculate_user:
            _base.csr_of(user_items)
            _base.check_rows(user_items, len(users))
        vectors = self._user_vectors(users, user_items, recalculate_user)
        scores = _base.dot_rows(vectors, self.item_factors)
        scores[:, self._unseen_items[:scores.shape[1]]] = -np.inf
        scores, candidates = _base.restrict(
            scores, user_items if filter_already_liked_items else None, filter_items, items,
            self.item_factors.shape[0])
        return _base.ranked(scores, N, candidates, one)

    def _similar(self, factors, ids, N, filtered, among):
        queries, one = _base.one_or_many(ids)
        unit = factors.astype(np.float64)
        norms = np.linalg.norm(unit, axis=1)
        empty = norms == 0  # a row of zeros (no entries) is similar to nothing
        norms[empty] = 1.0
        unit /= norms[:, None]
        scores = _base.dot_rows(unit[queries], unit)
        scores[:, empty] = -np.inf
        scores, candidates = _base.restrict(scores, None, filtered, among, factors.shape[0])
        return _base.ranked(scores, N, candidates, one)

    def similar_items(self, itemid: Any, N: int = 10, recalculate_item: bool = False,
                      item_users: Any = None, filter_items: Any = None,
                      items: Any = None) -> Tuple[np.ndarray, np.ndarray]:
        """The N items nearest an item id (or each of an array) by cosine of
        item factors, the item itself first."""
        if recalculate_item:
            raise NotImplementedError("recalculate_item is not supported with this model")
        return self._similar(self.item_factors, itemid, N, filter_items, items)

    def similar_users(self, userid: Any, N: int = 10, filter_users: Any = None,
                      users: Any = None) -> Tuple[np.ndarray, np.ndarray]:
        """The N users nearest a user id (or each of an array) by cosine of
        user factors, the user itself first."""
        return self._similar(self.user_factors, userid, N, filter_users, users)
