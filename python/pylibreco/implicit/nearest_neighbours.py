"""implicit.nearest_neighbours's item-item recommenders on libreco's
item-kNN model (RECO_MODEL_ITEMKNN): the K most similar items of each item
under cosine, TF-IDF or BM25 weighting, a user scored by the sum over its
items of their value times the neighbour weights.

    from pylibreco.implicit.nearest_neighbours import BM25Recommender
    model = BM25Recommender(K=20)
    model.fit(user_items)
    ids, scores = model.recommend(0, user_items[0], N=10)
"""
from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from .. import models
from . import _base


class ItemItemRecommender(_base.RecommenderBase):
    """The item-kNN model; `similarity` is its neighbour matrix as a scipy
    CSR matrix (row i: item i's K neighbours and their weights), numbered by
    the matrix's columns."""

    native = models.ItemKNN
    weighting = "cosine"

    def __init__(self, K: int = 20, num_threads: int = 0):
        self._keep(locals())
        self.similarity = None

    def _native_settings(self) -> dict:
        return {"neighbours": self.K, "weighting": self.weighting}

    def _kept(self) -> dict:
        return {"K": self.K}

    def _refresh(self) -> None:
        from scipy.sparse import csr_matrix
        model = self.model
        rows, columns, weights = [], [], []
        for item in range(model.n_items):
            found, similarity = model.similar_items(item, self.K)
            rows.append(np.full(len(found), self._item_columns[item]))
            columns.append(self._item_columns[found])
            weights.append(similarity)
        self.similarity = csr_matrix(
            (np.concatenate(weights) if weights else [],
             (np.concatenate(rows) if rows else [], np.concatenate(columns) if columns else [])),
            shape=(self._shape[1], self._shape[1]), dtype=np.float32)

    def recommend(self, userid: Any, user_items: Any, N: int = 10,
                  filter_already_liked_items: bool = True, filter_items: Any = None,
                  recalculate_user: bool = False,
                  items: Any = None) -> Tuple[np.ndarray, np.ndarray]:
        """The N best items of a user id (or of each of an array of ids),
        scored from its row of user_items: the sum of its items' values
        times their neighbour weights."""
        users, one = _base.one_or_many(userid)
        matrix = _base.csr_of(user_items)
        _base.check_rows(matrix, len(users))
        width = self.similarity.shape[0]
        rows = matrix[:, :width] if matrix.shape[1] > width else matrix
        scores = np.asarray((rows @ self.similarity[:rows.shape[1]]).todense(), dtype=np.float64)
        scores, candidates = _base.restrict(
            scores, matrix if filter_already_liked_items else None, filter_items, items, width)
        return _base.ranked(scores, N, candidates, one)

    def similar_items(self, itemid: Any, N: int = 10, recalculate_item: bool = False,
                      item_users: Any = None, filter_items: Any = None,
                      items: Any = None) -> Tuple[np.ndarray, np.ndarray]:
        """The N items of the item's neighbour row with the largest
        weights (ids outside its K neighbours score 0)."""
        if recalculate_item:
            raise NotImplementedError("Recalculate_item isn't implemented")
        queries, one = _base.one_or_many(itemid)
        scores = np.asarray(self.similarity[queries].todense(), dtype=np.float64)
        scores, candidates = _base.restrict(scores, None, filter_items, items, scores.shape[1])
        return _base.ranked(scores, N, candidates, one)

    def similar_users(self, userid: Any, N: int = 10, filter_users: Any = None,
                      users: Any = None):
        raise NotImplementedError("similar_users isn't implemented for item-item recommenders")


class CosineRecommender(ItemItemRecommender):
    """Item-item on the cosine of the items' columns."""
    weighting = "cosine"


class TFIDFRecommender(ItemItemRecommender):
    """Item-item on TF-IDF weighted columns."""
    weighting = "tfidf"


class BM25Recommender(ItemItemRecommender):
    """Item-item on BM25 weighted columns (K1 term saturation, B length
    normalization, as implicit's)."""
    weighting = "bm25"

    def __init__(self, K: int = 20, K1: float = 1.2, B: float = 0.75, num_threads: int = 0):
        super().__init__(K, num_threads)
        self.K1, self.B = K1, B

    def _native_settings(self) -> dict:
        return {**super()._native_settings(), "bm25": (self.K1, self.B)}
