"""Datasets: interactions (user, item, rating, timestamp) with their vocabulary."""
from __future__ import annotations

import ctypes
import os
import tempfile
from typing import Any, Hashable, Iterable, Optional, Sequence, Tuple, Union

import numpy as np

from . import _arrays
from ._ids import DATASET
from ._native import ID_TEXT_MAX, c_int32_p, c_size, check, lib, text

FORMATS = {"auto": 0, "movielens": 1, "csv": 2, "tsv": 3, "pairs": 4}
DUPLICATES = {"keep_all": 0, "keep_first": 1, "keep_last": 2, "refuse": 3}
STRATIFY = 1
IDS_TEXT = 2  # RECO_IDS_TEXT: every id of the file read as text


def _new_handle():
    return ctypes.c_void_p()


def _column(values):
    """An id column as an array; a list of tuples (or other sequences used
    as ids) becomes a 1-D array of objects, not a 2-D one."""
    if isinstance(values, np.ndarray):
        return values
    values = list(values) if not hasattr(values, "__len__") else values
    array = np.asarray(values, dtype=object) if any(
        isinstance(v, (tuple, list)) for v in values) else np.asarray(values)
    if array.ndim == 2 and array.dtype == object:
        column = np.empty(len(values), dtype=object)
        column[:] = [tuple(v) if isinstance(v, list) else v for v in values]
        return column
    return array


def _id_text(value, name):
    """An id as the text a ratings file would hold, refused when a file
    could not hold it."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{name}: integer ids must be >= 0, got {value}")
        return str(value)
    text_value = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    encoded = text_value.encode("utf-8")
    if not encoded or len(encoded) >= ID_TEXT_MAX or any(c.isspace() for c in text_value):
        raise ValueError(f"{name}: id {value!r} cannot be a libreco id (1 to {ID_TEXT_MAX - 1} "
                         "bytes, no space, tab or line break)")
    return text_value


def as_dataset(data: Any, name: str = "data") -> "Dataset":
    """A Dataset from what fit takes: a Dataset; a scipy.sparse user x item
    matrix; a pandas DataFrame with user and item (and rating, timestamp)
    columns; or a tuple (users, items[, ratings[, timestamps]])."""
    if isinstance(data, Dataset):
        return data
    if hasattr(data, "tocoo"):
        return Dataset.from_csr(data)
    if hasattr(data, "columns") and hasattr(data, "keys"):
        return Dataset.from_frame(data)
    if isinstance(data, tuple) and 2 <= len(data) <= 4:
        return Dataset.from_arrays(*data)
    raise TypeError(f"{name}: expected a Dataset, a scipy.sparse matrix, a pandas DataFrame or "
                    f"a tuple (users, items[, ratings[, timestamps]]), got {type(data).__name__}")


class Dataset:
    """Interactions read from a file or built from arrays. Users and items are
    dense indices (0 .. n_users - 1) mapped to the external ids of the data;
    datasets made from one another (splits, filters) share that mapping.

    Make one with ``Dataset.read``, ``Dataset.from_arrays``,
    ``Dataset.from_csr`` or ``Dataset.synthetic``."""

    def __init__(self, handle, parents=()):
        self._handle = handle
        self._parents = parents  # datasets whose vocabulary this one uses

    def __del__(self):
        if getattr(self, "_handle", None):
            lib.reco_dataset_free(self._handle)
            self._handle = None

    # -- construction ---------------------------------------------------

    @classmethod
    def read(cls, path, format="auto", vocabulary_of=None):
        """Reads a ratings file: MovieLens '::', CSV (header optional), TSV,
        pairs, or "auto"; "-" is standard input; gzip is read as is. With
        ``vocabulary_of``, ids map through (and extend) that dataset's
        vocabulary, as for a separate test file."""
        if format not in FORMATS:
            raise ValueError(f"format: expected one of {sorted(FORMATS)}, got {format!r}")
        handle = _new_handle()
        if vocabulary_of is None:
            check(lib.reco_dataset_read(text(path), FORMATS[format], ctypes.byref(handle)))
            return cls(handle)
        check(lib.reco_dataset_read_shared(text(path), FORMATS[format], vocabulary_of._handle,
                                           ctypes.byref(handle)))
        return cls(handle, (vocabulary_of,))

    @classmethod
    def from_arrays(cls, users: Iterable[Hashable], items: Iterable[Hashable],
                    ratings: Optional[Iterable[float]] = None,
                    timestamps: Optional[Iterable[int]] = None) -> "Dataset":
        """Interactions from 1-D arrays of equal length: user and item ids,
        optional ratings and integer timestamps. Ids are integers (>= 0) or
        any other hashable values, taken by their str() as text ids through
        libreco's id maps, so a model keeps them in its file; when either
        column holds text, every id is read as text (user_id gives a plain
        decimal integer back as an int).

        >>> data = Dataset.from_arrays(["ann", "bob", "ann"], ["B01", "B01", "C7"])
        >>> data.n_users, data.n_items, data.user_id(1)
        (2, 2, 'bob')
        """
        users, items = _column(users), _column(items)
        for name, column in (("users", users), ("items", items)):
            if column.ndim != 1:
                raise ValueError(f"{name}: expected a 1-D array, got shape {column.shape}")
        n = len(users)
        if len(items) != n:
            raise ValueError(f"items: {len(items)} values for {n} users")
        if ratings is not None:
            ratings = _arrays.floats(ratings, "ratings")
            if len(ratings) != n:
                raise ValueError(f"ratings: {len(ratings)} values for {n} rows")
        if timestamps is not None:
            timestamps = _arrays.one_dimensional(timestamps, "timestamps", np.int64,
                                                 lambda a: a.dtype.kind in "iu",
                                                 "integer timestamps")
            if len(timestamps) != n:
                raise ValueError(f"timestamps: {len(timestamps)} values for {n} rows")
        if n and (users.dtype.kind in "USO" or items.dtype.kind in "USO"):
            return cls._from_text_ids(users, items, ratings, timestamps)
        users = _arrays.integer_ids(users, "users")
        items = _arrays.integer_ids(items, "items")
        handle = _new_handle()
        check(lib.reco_dataset_from_arrays(
            _arrays.pointer(users, ctypes.c_int64), _arrays.pointer(items, ctypes.c_int64),
            _arrays.pointer(ratings, ctypes.c_float),
            _arrays.pointer(timestamps, ctypes.c_int64), n, ctypes.byref(handle)))
        return cls(handle)

    @classmethod
    def _from_text_ids(cls, users, items, ratings, timestamps):
        # the C library maps text ids when it reads them: a TSV file it reads
        # at once (ratings of 1 for implicit data, dropped again by binarize)
        columns = [[_id_text(value, "users") for value in users],
                   [_id_text(value, "items") for value in items],
                   ratings if ratings is not None else np.ones(len(users), dtype=np.float32)]
        if timestamps is not None:
            columns.append(timestamps)
        with tempfile.TemporaryDirectory(prefix="pylibreco-") as folder:
            path = os.path.join(folder, "ratings.tsv")
            with open(path, "w", encoding="utf-8", newline="\n") as out:
                for row in zip(*columns):
                    out.write("\t".join([row[0], row[1], repr(float(row[2]))] +
                                        [str(int(value)) for value in row[3:]]) + "\n")
            handle = _new_handle()
            check(lib.reco_dataset_read_ids(text(path), FORMATS["tsv"], IDS_TEXT, None,
                                            ctypes.byref(handle)))
            data = cls(handle)
        return data.binarize(1.0) if ratings is None else data

    @classmethod
    def from_frame(cls, frame: Any, user: str = "user", item: str = "item",
                   rating: Optional[str] = "rating",
                   timestamp: Optional[str] = "timestamp") -> "Dataset":
        """From a pandas DataFrame (or any mapping of column names to
        arrays): the columns named `user` and `item` hold the ids (integers
        or any hashable values), `rating` and `timestamp` are used when the
        frame has them (None: never).

        >>> frame = {"user": ["a", "b"], "item": [10, 11], "rating": [4.0, 2.0]}  # or a DataFrame
        >>> Dataset.from_frame(frame)
        Dataset(2 rows, 2 users, 2 items, ratings)
        """
        names = list(frame.keys())
        for column in (user, item):
            if column not in names:
                raise KeyError(f"from_frame: no column {column!r} (columns: {names})")

        def optional(column):
            return np.asarray(frame[column]) if column is not None and column in names else None

        return cls.from_arrays(np.asarray(frame[user]), np.asarray(frame[item]),
                               optional(rating), optional(timestamp))

    @classmethod
    def from_csr(cls, matrix: Any, implicit: bool = False) -> "Dataset":
        """From a scipy.sparse user x item matrix: row r is user id r, column c
        item id c, each stored value a rating (``implicit``: no ratings)."""
        try:
            coo = matrix.tocoo()
        except AttributeError:
            raise TypeError("from_csr: expected a scipy.sparse matrix") from None
        ratings = None if implicit else coo.data
        return cls.from_arrays(coo.row, coo.col, ratings)

    @classmethod
    def synthetic(cls, n_users=943, n_items=1682, n_ratings=100000, seed=42):
        """A MovieLens-like dataset made on the spot (ratings 1..5, timestamps)."""
        handle = _new_handle()
        check(lib.reco_dataset_synthetic(n_users, n_items, n_ratings, seed, ctypes.byref(handle)))
        return cls(handle)

    def _derived(self, call, *arguments):
        handle = _new_handle()
        check(call(self._handle, *arguments, ctypes.byref(handle)))
        return Dataset(handle, (self,))

    # -- sizes, columns, ids --------------------------------------------

    def __len__(self):
        return lib.reco_dataset_size(self._handle)

    @property
    def n_users(self):
        return lib.reco_dataset_n_users(self._handle)

    @property
    def n_items(self):
        return lib.reco_dataset_n_items(self._handle)

    @property
    def users(self):
        """User indices of the rows (read-only view, no copy)."""
        return _arrays.view(lib.reco_dataset_users(self._handle), len(self), ctypes.c_int32, self)

    @property
    def items(self):
        return _arrays.view(lib.reco_dataset_items(self._handle), len(self), ctypes.c_int32, self)

    @property
    def ratings(self):
        """Ratings of the rows, or None for implicit data."""
        pointer = lib.reco_dataset_ratings(self._handle)
        return _arrays.view(pointer, len(self), ctypes.c_float, self) if pointer else None

    @property
    def timestamps(self):
        pointer = lib.reco_dataset_timestamps(self._handle)
        return _arrays.view(pointer, len(self), ctypes.c_int64, self) if pointer else None

    def user_id(self, index: int) -> Union[int, str]:
        """The data's id of a user index: an int, or a str for a text id."""
        return DATASET.external(self._handle, "user", index)

    def item_id(self, index: int) -> Union[int, str]:
        return DATASET.external(self._handle, "item", index)

    def user_index(self, user_id: Hashable) -> int:
        """The index of a user id (int, or text); OutOfRange when unknown."""
        return DATASET.index(self._handle, "user", user_id)

    def item_index(self, item_id: Hashable) -> int:
        return DATASET.index(self._handle, "item", item_id)

    def shares_vocabulary(self, other):
        return bool(lib.reco_dataset_shares_vocabulary(self._handle, other._handle))

    # -- titles ----------------------------------------------------------

    def read_titles(self, path):
        """Reads movies.dat, u.item or movies.csv: titles by item id."""
        check(lib.reco_dataset_read_titles(self._handle, text(path)))

    def item_title(self, index):
        """The item's title (str), or None."""
        title = lib.reco_dataset_item_title(self._handle, index)
        return title.decode("utf-8") if title is not None else None

    # -- transforms and splits ------------------------------------------

    def binarize(self, threshold):
        """The rows rated >= threshold, as implicit positives."""
        return self._derived(lib.reco_dataset_binarize, float(threshold))

    def scale_ratings(self, scale):
        return self._derived(lib.reco_dataset_scale_ratings, float(scale))

    def deduplicate(self, policy="keep_last"):
        """Rows repeating a (user, item) pair: "keep_all", "keep_first",
        "keep_last" or "refuse" (raises InvalidArgument)."""
        if policy not in DUPLICATES:
            raise ValueError(f"policy: expected one of {sorted(DUPLICATES)}, got {policy!r}")
        return self._derived(lib.reco_dataset_deduplicate, DUPLICATES[policy])

    def split_leave_one_out(self):
        """(train, test): each user's latest row (by timestamp) is its test row."""
        train, test = _new_handle(), _new_handle()
        check(lib.reco_dataset_split_leave_one_out(self._handle, ctypes.byref(train),
                                                   ctypes.byref(test)))
        return Dataset(train, (self,)), Dataset(test, (self,))

    def split_random(self, test_fraction=0.2, seed=0, stratify=False):
        """(train, test), a random global holdout (per rating value with stratify)."""
        train, test = _new_handle(), _new_handle()
        check(lib.reco_dataset_split_random(self._handle, test_fraction, seed,
                                            STRATIFY if stratify else 0, ctypes.byref(train),
                                            ctypes.byref(test)))
        return Dataset(train, (self,)), Dataset(test, (self,))

    def split_three_way(self, valid_fraction=0.2, test_fraction=0.2, seed=0, stratify=False):
        """(train, valid, test)."""
        train, valid, test = _new_handle(), _new_handle(), _new_handle()
        check(lib.reco_dataset_split_three_way(self._handle, valid_fraction, test_fraction, seed,
                                               STRATIFY if stratify else 0, ctypes.byref(train),
                                               ctypes.byref(valid), ctypes.byref(test)))
        return Dataset(train, (self,)), Dataset(valid, (self,)), Dataset(test, (self,))

    # -- negatives -------------------------------------------------------

    def sample_test_negatives(self, interactions, n_negatives=99, seed=42):
        """Attaches to every row n items its user has no row for in
        ``interactions`` (the NCF protocol's test negatives)."""
        check(lib.reco_dataset_sample_test_negatives(self._handle, interactions._handle,
                                                     n_negatives, seed))

    def read_test_negatives(self, path):
        """Attaches test negatives from an NCF .negative file."""
        check(lib.reco_dataset_read_test_negatives(self._handle, text(path)))

    def test_negatives(self, row):
        """The negatives attached to a row (int32 array; empty when none)."""
        count = c_size()
        pointer = lib.reco_dataset_test_negatives(self._handle, row, ctypes.byref(count))
        return _arrays.view(pointer, count.value, ctypes.c_int32, self).copy()

    def sample_negatives(self, k, seed=0, epoch=0):
        """k training negatives for each row: an int32 array (rows, k)."""
        out = np.empty((len(self), k), dtype=np.int32)
        check(lib.reco_dataset_sample_negatives(self._handle, k, seed, epoch,
                                                out.ctypes.data_as(c_int32_p)))
        return out

    def __repr__(self):
        kind = "ratings" if lib.reco_dataset_ratings(self._handle) else "implicit"
        return f"Dataset({len(self)} rows, {self.n_users} users, {self.n_items} items, {kind})"
