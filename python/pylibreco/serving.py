"""Serving: per-request filters (exclusion and allow lists, item tags such as
MovieLens genres, whose seen items are left out) and approximate search over
an HNSW index of the item factors; the C calls of reco/filter.h and
reco/index.h (docs/serving in docs/python.md).

>>> tags = ItemTags.read(model, "ml-1m/movies.dat")            # doctest: +SKIP
>>> only_comedies = Filter(model, tags=tags, genres=["Comedy"]) # doctest: +SKIP
>>> items, scores = model.recommend_filtered([0, 1], 10, only_comedies)  # doctest: +SKIP
>>> index = Index.build(model)                                  # doctest: +SKIP
>>> items, scores = model.recommend_approximate([0, 1], 10, index, ef=100)  # doctest: +SKIP
"""
from __future__ import annotations

import ctypes
import os
from typing import Any, Iterable, List, Optional, Union

import numpy as np

from . import _arrays
from ._native import c_float_p, c_int32_p, c_size_p, check, lib, text
from .dataset import Dataset

PathLike = Union[str, "os.PathLike[str]"]
SEEN = {"model": 0, "dataset": 1, "none": 2}


class ItemTags:
    """The tags of a model's items read from a titles file: the genres of
    MovieLens movies.dat, movies.csv and ml-100k's u.item."""

    def __init__(self, handle, model):
        self._handle = handle
        self._model = model  # the tags are the model's items': keep it alive

    @classmethod
    def read(cls, model, path: PathLike) -> "ItemTags":
        handle = ctypes.c_void_p()
        check(lib.reco_item_tags_read(model._ready(), text(path), ctypes.byref(handle)))
        return cls(handle, model)

    @property
    def names(self) -> List[str]:
        """Every tag, in the order the file first names them."""
        return [lib.reco_item_tags_name(self._handle, i).decode()
                for i in range(lib.reco_item_tags_count(self._handle))]

    def has(self, item: int, tag: str) -> bool:
        return bool(lib.reco_item_tags_has(self._handle, int(item), tag.encode()))

    def __del__(self):
        if getattr(self, "_handle", None):
            lib.reco_item_tags_free(self._handle)
            self._handle = None


class Filter:
    """Which items a recommendation may hold, for one model: `exclude_items`
    left out for every user, only `only_items` (a candidate set, implicit's
    ``items=``), only items with one of `genres` and none of `not_genres`
    (`tags` an ItemTags or a titles file's path), and whose seen items are
    left out (`seen`: "model", the default, "none", or a Dataset read with
    the model's ids). Items are the model's indices. One filter serves many
    requests, from several threads too."""

    def __init__(self, model, exclude_items: Optional[Iterable[int]] = None,
                 only_items: Optional[Iterable[int]] = None,
                 genres: Iterable[str] = (), not_genres: Iterable[str] = (),
                 tags: Union[ItemTags, PathLike, None] = None,
                 seen: Union[str, Dataset] = "model"):
        self._handle = None
        handle = ctypes.c_void_p()
        check(lib.reco_filter_new(model._ready(), ctypes.byref(handle)))
        self._handle = handle
        self._model = model
        if tags is not None and not isinstance(tags, ItemTags):
            tags = ItemTags.read(model, tags)
        self._tags = tags
        self._seen = seen  # a dataset must outlive the filter
        for items, call in ((exclude_items, lib.reco_filter_exclude_items),
                            (only_items, lib.reco_filter_only_items)):
            if items is not None:
                array = _arrays.indices(list(items), "items")
                check(call(handle, array.ctypes.data_as(c_int32_p), len(array)))
        genres, not_genres = list(genres), list(not_genres)
        if (genres or not_genres) and tags is None:
            raise ValueError("genres and not_genres need tags (an ItemTags or a titles file)")
        for tag in genres:
            check(lib.reco_filter_include_tag(handle, tags._handle, str(tag).encode()))
        for tag in not_genres:
            check(lib.reco_filter_exclude_tag(handle, tags._handle, str(tag).encode()))
        if isinstance(seen, Dataset):
            check(lib.reco_filter_set_seen(handle, SEEN["dataset"], seen._handle))
        elif seen in SEEN and seen != "dataset":
            check(lib.reco_filter_set_seen(handle, SEEN[seen], None))
        else:
            raise ValueError(f"seen: expected 'model', 'none' or a Dataset, got {seen!r}")

    def __del__(self):
        if getattr(self, "_handle", None):
            lib.reco_filter_free(self._handle)
            self._handle = None


class Index:
    """An HNSW index over a model's item factors (MF, GMF, iALS), for
    approximate top k by inner product: `m` neighbours a node, and
    `ef_construction` candidates an insertion; the same model and settings
    give the same index. Its file holds the graph; the model gives the
    vectors."""

    def __init__(self, handle, model):
        self._handle = handle
        self._model = model

    @classmethod
    def build(cls, model, m: int = 16, ef_construction: int = 100, seed: int = 42) -> "Index":
        handle = ctypes.c_void_p()
        check(lib.reco_index_build(model._ready(), int(m), int(ef_construction), int(seed),
                                   ctypes.byref(handle)))
        return cls(handle, model)

    @classmethod
    def load(cls, model, path: PathLike) -> "Index":
        handle = ctypes.c_void_p()
        check(lib.reco_index_load(model._ready(), text(path), ctypes.byref(handle)))
        return cls(handle, model)

    def save(self, path: PathLike) -> None:
        check(lib.reco_index_save(self._handle, text(path)))

    def __del__(self):
        if getattr(self, "_handle", None):
            lib.reco_index_free(self._handle)
            self._handle = None


def ranked(call, users: Any, k: int, *arguments):
    """One C call that ranks k items for many users into (n, k) arrays; rows
    with fewer than k candidates end in item -1 and score NaN."""
    users = _arrays.indices(np.atleast_1d(users), "users")
    items = np.full((len(users), k), -1, dtype=np.int32)
    scores = np.full((len(users), k), np.nan, dtype=np.float32)
    counts = np.empty(len(users), dtype=np.uintp)
    check(call(users.ctypes.data_as(c_int32_p), len(users), k, *arguments,
               items.ctypes.data_as(c_int32_p), scores.ctypes.data_as(c_float_p),
               counts.ctypes.data_as(c_size_p)))
    for row, count in enumerate(counts):
        items[row, count:] = -1
        scores[row, count:] = np.nan
    return items, scores
