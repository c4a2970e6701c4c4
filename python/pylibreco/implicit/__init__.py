"""implicit's API (implicit 0.7) on libreco: a program written for implicit
runs after changing its import line, e.g.

    from pylibreco.implicit.als import AlternatingLeastSquares
    from pylibreco.implicit.bpr import BayesianPersonalizedRanking
    from pylibreco.implicit.lmf import LogisticMatrixFactorization
    from pylibreco.implicit.nearest_neighbours import BM25Recommender, CosineRecommender

Models take a users x items scipy CSR matrix; recommend, similar_items and
similar_users return implicit's (ids, scores) arrays (2-D for an array of
ids); save/load and pickle keep the model. See docs/python.md for what
differs (the libraries' own losses and defaults).
"""
from . import als, bpr, lmf, nearest_neighbours
from ._base import ParameterWarning

__all__ = ["als", "bpr", "lmf", "nearest_neighbours", "ParameterWarning"]
