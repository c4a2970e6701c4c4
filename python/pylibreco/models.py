"""Models (MF, GMF, MLP, NeuMF, BPR-MF, iALS, EASE, item-kNN): training,
evaluation and serving.

Keyword hyper-parameters are passed to the C setters only when given, so a
model left alone has libreco's own defaults (docs/training.md): 8 factors,
layers 64-32-16-8, BCE with 4 sampled negatives, Adam with learning rate
0.001, batches of 256. Users and items are the dense indices of the datasets;
``user_index``/``item_id`` map them to and from the data's ids.
"""
from __future__ import annotations

import ctypes
import os
import warnings
from typing import Any, Callable, Dict, Hashable, Optional, Sequence, Tuple, Union

import numpy as np

from . import _arrays
from . import progress as progress_module
from ._ids import MODEL
from ._native import (PROGRESS_FN, Progress, c_float_p, c_int32_p, c_size, c_size_p, check,
                      lib, text)
from .backend import Backend, default_backend
from .dataset import Dataset, as_dataset
from .errors import Interrupted, StateError
from .serving import Filter, Index, ranked

PathLike = Union[str, "os.PathLike[str]"]
# model metadata keys of the Python package: the training ratings' range
RATING_MIN, RATING_MAX = "python.rating_min", "python.rating_max"

KINDS = {"mf": 0, "gmf": 1, "mlp": 2, "neumf": 3, "ials": 4, "ease": 5, "itemknn": 6}
WEIGHTINGS = {"cosine": 0, "tfidf": 1, "bm25": 2}
SOLVERS = {"cholesky": 0, "cg": 1}
LOSSES = {"bce": 0, "mse": 1, "bpr": 2}
OPTIMIZERS = {"sgd": 0, "adagrad": 1, "adam": 2, "adamw": 3}
OUTPUTS = {"identity": 0, "sigmoid": 1, "relu": 2}
METRICS = {"hr": 0, "ndcg": 1, "recall": 2, "precision": 3, "map": 4, "rmse": 5, "mae": 6,
           "mse": 7}


def has_ratings(data: Dataset) -> bool:
    """Whether the rows hold ratings (two values or more), not 1s or clicks."""
    ratings = data.ratings
    return ratings is not None and len(ratings) > 1 and bool((ratings != ratings[0]).any())


def _choice(table, name, value):
    if value not in table:
        raise ValueError(f"{name}: expected one of {sorted(table)}, got {value!r}")
    return table[value]


def _set_layers(handle, sizes):
    sizes = [int(size) for size in sizes]
    array = (ctypes.c_size_t * len(sizes))(*sizes)
    return lib.reco_model_set_layers(handle, array, len(sizes))


# keyword: (C setter, conversion of the Python value to the setter's arguments)
_MODEL_SETTINGS = {
    "factors": (lib.reco_model_set_factors, lambda v: (int(v),)),
    "biases": (lib.reco_model_set_biases, lambda v: (int(bool(v)),)),
    "output": (lib.reco_model_set_output, lambda v: (_choice(OUTPUTS, "output", v),)),
    "dropout": (lib.reco_model_set_dropout, lambda v: (float(v),)),
    "init_std": (lib.reco_model_set_init_std, lambda v: (float(v),)),
    "xavier_embeddings": (lib.reco_model_set_xavier_embeddings, lambda v: (int(bool(v)),)),
}
_TRAINER_SETTINGS = {
    "loss": (lib.reco_trainer_set_loss, lambda v: (_choice(LOSSES, "loss", v),)),
    "mean_reduction": (lib.reco_trainer_set_mean_reduction, lambda v: (int(bool(v)),)),
    "negatives": (lib.reco_trainer_set_negatives, lambda v: (int(v),)),
    "optimizer": (lib.reco_trainer_set_optimizer,
                  lambda v: (_choice(OPTIMIZERS, "optimizer", v),)),
    "learning_rate": (lib.reco_trainer_set_learning_rate, lambda v: (float(v),)),
    "momentum": (lib.reco_trainer_set_momentum, lambda v: (float(v),)),
    "betas": (lib.reco_trainer_set_adam_betas, lambda v: (float(v[0]), float(v[1]))),
    "epsilon": (lib.reco_trainer_set_epsilon, lambda v: (float(v),)),
    "weight_decay": (lib.reco_trainer_set_weight_decay, lambda v: (float(v),)),
    "lr_decay": (lib.reco_trainer_set_lr_decay, lambda v: (float(v),)),
    "batch_size": (lib.reco_trainer_set_batch_size, lambda v: (int(v),)),
    "dense_embeddings": (lib.reco_trainer_set_dense_embeddings, lambda v: (int(bool(v)),)),
    "fixed_negatives": (lib.reco_trainer_set_fixed_negatives, lambda v: (int(bool(v)),)),
    "seed": (lib.reco_trainer_set_seed, lambda v: (int(v),)),
    "per_example": (lib.reco_trainer_set_per_example, lambda v: (int(bool(v)),)),
    # iALS (IALS): lambda is weight_decay
    "unobserved_weight": (lib.reco_trainer_set_unobserved_weight, lambda v: (float(v),)),
    "confidence": (lib.reco_trainer_set_confidence, lambda v: (float(v),)),
    # ItemKNN with weighting="bm25": (K1, B)
    "bm25": (lib.reco_trainer_set_bm25, lambda v: (float(v[0]), float(v[1]))),
}


_EMPTY = []


def _nothing_to_exclude():
    """A dataset without rows: recommend's exclude when nothing is left out
    (NULL would leave out the seen items the model keeps)."""
    if not _EMPTY:
        _EMPTY.append(Dataset.from_arrays(np.empty(0, np.int64), np.empty(0, np.int64)))
    return _EMPTY[0]


class Model:
    """A recommender model; use the subclasses MF, GMF, MLP, NeuMF, BPRMF.

    ``backend`` is a Backend (default: one "auto" backend shared by all);
    ``init_seed`` seeds the initial parameters; the other keywords are the
    model's and trainer's hyper-parameters (see the module's doc)."""

    kind = None
    defaults = {}

    def __init__(self, backend=None, init_seed=42, layers=None, **settings):
        unknown = (set(settings) - set(_MODEL_SETTINGS) - set(_TRAINER_SETTINGS) -
                   {"solver", "cg_steps", "neighbours", "weighting"})
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown hyper-parameter(s) "
                            f"{', '.join(sorted(unknown))}")
        self._settings = {**self.defaults, **settings}
        self._layers = layers
        self._backend = backend
        self._init_seed = init_seed
        self._handle = None
        self._trainer = None
        self._train = None  # the last training set: what recommend filters by default
        self.history = []   # mean training loss of each epoch run by fit
        self.best_validation = None  # (epoch, value) after a fit with validation

    def __del__(self):
        if getattr(self, "_trainer", None):
            lib.reco_trainer_free(self._trainer)
            self._trainer = None
        if getattr(self, "_handle", None):
            lib.reco_model_free(self._handle)
            self._handle = None

    # -- making the C model -----------------------------------------------

    def init(self, n_users, n_items):
        """Creates and initializes the parameters for n_users x n_items (fit
        does it from its training set)."""
        handle = ctypes.c_void_p()
        check(lib.reco_model_new(self.kind, n_users, n_items, ctypes.byref(handle)))
        try:
            for name, (setter, convert) in _MODEL_SETTINGS.items():
                if name in self._settings:
                    check(setter(handle, *convert(self._settings[name])))
            if self._layers is not None:
                check(_set_layers(handle, self._layers))
            self._backend = self._backend or default_backend()
            check(lib.reco_model_init(handle, self._backend._handle, self._init_seed))
        except BaseException:
            lib.reco_model_free(handle)
            raise
        self._handle = handle
        return self

    def _settings_for(self, train) -> Dict[str, Any]:
        """Settings the first fit takes from its data where none were given."""
        return {}

    def _adopt(self, handle, backend):
        self._handle = handle
        self._backend = backend
        return self

    def _ready(self):
        if not self._handle:
            raise StateError(f"{type(self).__name__}: not trained or initialized yet "
                             "(fit, init or load first)")
        return self._handle

    def _trainer_handle(self):
        if not self._trainer:
            trainer = ctypes.c_void_p()
            check(lib.reco_trainer_new(self._ready(), ctypes.byref(trainer)))
            self._trainer = trainer
            for name, (setter, convert) in _TRAINER_SETTINGS.items():
                if name in self._settings:
                    check(setter(trainer, *convert(self._settings[name])))
            if "neighbours" in self._settings or "weighting" in self._settings:
                weighting = _choice(WEIGHTINGS, "weighting", self._settings.get("weighting", "bm25"))
                check(lib.reco_trainer_set_neighbours(trainer, int(self._settings.get("neighbours", 100)),
                                                      weighting))
            if "solver" in self._settings or "cg_steps" in self._settings:
                solver = _choice(SOLVERS, "solver", self._settings.get("solver", "cg"))
                check(lib.reco_trainer_set_solver(trainer, solver,
                                                  int(self._settings.get("cg_steps", 3))))
        return self._trainer

    # -- training ------------------------------------------------------------

    def fit(self, train: Any, epochs: int = 1, valid: Optional[Dataset] = None,
            exclude: Optional[Dataset] = None, metric: str = "hr", k: int = 10,
            patience: Optional[int] = None, progress: Optional[bool] = None,
            callback: Optional[Callable[[Dict[str, float]], Any]] = None) -> "Model":
        """Trains for `epochs` epochs on `train`: a Dataset, a scipy.sparse
        user x item matrix, a pandas DataFrame (columns user, item, and
        rating, timestamp when there), or a tuple (users, items[, ratings]);
        ids of any hashable kind (docs/python.md). With `valid`, the
        model is evaluated after every epoch by `metric` at K = k (items of
        `exclude` left out of full ranking), keeps its best parameters, and
        stops after `patience` epochs without improvement. ``progress``: a bar
        on stderr (None: only on a terminal); ``callback(report)`` is called
        after every batch with a dict (epoch, step, steps, loss,
        samples_per_second) and may return True to stop. Returns self.

        >>> model = IALS(factors=8).fit((["ann", "ann", "bob"], ["x", "y", "x"]), epochs=3)
        >>> model.recommend("bob", k=1, raw=True)[0]
        ['y']
        """
        train = as_dataset(train, "train")
        if not self._handle:
            for name, value in self._settings_for(train).items():
                self._settings.setdefault(name, value)
            self.init(train.n_users, train.n_items)
            check(lib.reco_model_set_vocabulary(self._handle, train._handle))
        ratings = train.ratings
        if ratings is not None and len(ratings):
            check(lib.reco_model_set_metadata(self._handle, RATING_MIN.encode(),
                                              repr(float(ratings.min())).encode()))
            check(lib.reco_model_set_metadata(self._handle, RATING_MAX.encode(),
                                              repr(float(ratings.max())).encode()))
        trainer = self._trainer_handle()
        self._train = train
        bar = progress_module.Bar(epochs) if progress_module.wanted(progress) else None
        failure = []

        def report(pointer, _user_data):
            p = pointer.contents
            update = {"epoch": p.epoch, "step": p.step, "steps": p.steps, "loss": p.loss,
                      "samples_per_second": p.samples_per_second}
            try:
                if bar:
                    bar.update(update)
                return 1 if callback and callback(update) else 0
            except BaseException as error:  # raised again once C has returned
                failure.append(error)
                return 1

        hook = PROGRESS_FN(report) if bar or callback else PROGRESS_FN()
        check(lib.reco_trainer_set_progress(trainer, hook, None))
        try:
            if valid is not None:
                check(lib.reco_trainer_set_validation(
                    trainer, valid._handle, exclude._handle if exclude is not None else None,
                    _choice(METRICS, "metric", metric), k))
                check(lib.reco_trainer_set_early_stopping(trainer, patience or 0))
                self._run(lambda: lib.reco_trainer_fit(trainer, train._handle, epochs), failure)
                epoch, value = c_size(), ctypes.c_double()
                check(lib.reco_trainer_best(trainer, ctypes.byref(epoch), ctypes.byref(value)))
                self.best_validation = (epoch.value, value.value)
            else:
                for _ in range(epochs):
                    loss = ctypes.c_double()
                    self._run(lambda: lib.reco_trainer_epoch(trainer, train._handle,
                                                             ctypes.byref(loss)), failure)
                    self.history.append(loss.value)
        finally:
            lib.reco_trainer_set_progress(trainer, PROGRESS_FN(), None)
            if valid is not None:
                lib.reco_trainer_set_validation(trainer, None, None, 0, k)
        return self

    @staticmethod
    def _run(call, failure):
        status = call()
        if failure:
            raise failure[0]
        try:
            check(status)
        except Interrupted:
            pass  # the callback asked to stop

    # -- serving ---------------------------------------------------------------

    @property
    def n_users(self):
        return lib.reco_model_n_users(self._ready())

    @property
    def n_items(self):
        return lib.reco_model_n_items(self._ready())

    def predict(self, users: Any, items: Any, raw: bool = False,
                clip: bool = False) -> Union[np.ndarray, float]:
        """Scores of (users[i], items[i]) pairs: a float32 array (a float
        for one user and one item). ``raw``: users and items are the data's
        ids (Surprise's raw ids) rather than indices. ``clip``: scores are
        clipped to the training ratings' range, as rating predictions
        (the range is kept in the model file).

        >>> model = MF(loss="mse").fit(([1, 1, 2], [7, 8, 7], [4.0, 2.0, 5.0]), epochs=2)
        >>> model.predict(2, 8, raw=True, clip=True) <= 5.0
        True
        """
        one = np.ndim(users) == 0 and np.ndim(items) == 0
        users, items = np.atleast_1d(users), np.atleast_1d(items)
        if raw:
            users = self.user_indices(users)
            items = self.item_indices(items)
        users = _arrays.indices(users, "users")
        items = _arrays.indices(items, "items")
        if len(users) != len(items):
            raise ValueError(f"items: {len(items)} values for {len(users)} users")
        scores = np.empty(len(users), dtype=np.float32)
        check(lib.reco_model_predict(self._ready(), users.ctypes.data_as(c_int32_p),
                                     items.ctypes.data_as(c_int32_p), len(users),
                                     scores.ctypes.data_as(c_float_p)))
        if clip:
            scores = np.clip(scores, *self.rating_range)
        return float(scores[0]) if one else scores

    @property
    def rating_range(self) -> Tuple[float, float]:
        """(lowest, highest) rating of the training data, kept in the model
        file; StateError when the model was trained without ratings."""
        low = lib.reco_model_metadata(self._ready(), RATING_MIN.encode())
        high = lib.reco_model_metadata(self._handle, RATING_MAX.encode())
        if low is None or high is None:
            raise StateError(f"{type(self).__name__}: no rating range (trained without ratings "
                             "or outside this package): cannot clip")
        return float(low), float(high)

    def _exclusion(self, filter_already_liked_items, exclude):
        if not filter_already_liked_items:
            return _nothing_to_exclude()._handle
        if exclude is not None:
            return exclude._handle
        if self._train is not None and not lib.reco_model_has_seen(self._handle):
            return self._train._handle  # a model made without a trainer (from_pretrained)
        return None  # the user's seen items, which the model (and its file) keeps

    def recommend(self, user: Any, k: int = 10, filter_already_liked_items: bool = True,
                  exclude: Optional[Dataset] = None,
                  raw: bool = False) -> Tuple[Any, np.ndarray]:
        """The user's top k items and their scores, two arrays. Items the user
        has in `exclude` (default: its training items, which the model keeps,
        in its file and pickle too) are left out unless
        filter_already_liked_items is False. An array of users gives
        recommend_batch's (n, k) arrays. ``raw``: the user is the data's id
        and the items come back as a list of the data's ids.

        >>> items, scores = model.recommend(0, k=10)          # doctest: +SKIP
        >>> model.recommend("u1", k=3, raw=True)              # doctest: +SKIP
        (['B01', 'C7', 'A2'], array([0.9, 0.7, 0.4], dtype=float32))
        """
        if raw:
            user = self.user_indices(user) if np.ndim(user) else self.user_index(user)
            items, scores = self.recommend(user, k, filter_already_liked_items, exclude)
            if items.ndim == 2:
                return [[self.item_id(i) for i in row if i >= 0] for row in items], scores
            return [self.item_id(i) for i in items], scores
        if not isinstance(user, (int, np.integer)) or isinstance(user, bool):
            if np.ndim(user):
                return self.recommend_batch(user, k, filter_already_liked_items, exclude)
            raise TypeError(f"user: expected an int index, got {type(user).__name__}")
        return self._listed(lib.reco_model_recommend, int(user), k,
                            self._exclusion(filter_already_liked_items, exclude))

    def _listed(self, call, index, k, *exclude):
        """One C call that lists up to k items (or users) and scores: the
        buffers are ctypes arrays, numpy views over them (a numpy array's
        ctypes pointer costs more than the call itself on a small model)."""
        found, scores, count = (ctypes.c_int32 * k)(), (ctypes.c_float * k)(), c_size()
        check(call(self._ready(), index, k, *exclude, found, scores, ctypes.byref(count)))
        return (np.frombuffer(found, dtype=np.int32, count=count.value),
                np.frombuffer(scores, dtype=np.float32, count=count.value))

    def recommend_batch(self, users: Any, k: int = 10, filter_already_liked_items: bool = True,
                        exclude: Optional[Dataset] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Top k of many users: arrays (len(users), k) of items and scores;
        rows with fewer than k candidates end in item -1 and score NaN."""
        model = self._ready()
        return ranked(lambda *ranking: lib.reco_model_recommend_batch(model, *ranking), users, k,
                      self._exclusion(filter_already_liked_items, exclude))

    def recommend_filtered(self, users: Any, k: int = 10,
                           filter: Optional[Filter] = None) -> Tuple[np.ndarray, np.ndarray]:
        """recommend_batch under a Filter (exclusion and allow lists, genres,
        whose seen items); None leaves out the model's seen items only.

        >>> model.recommend_filtered([0, 1], 10, Filter(model, only_items=[3, 5, 8]))  # doctest: +SKIP
        """
        model = self._ready()
        return ranked(lambda *ranking: lib.reco_model_recommend_filtered(model, *ranking), users,
                      k, filter._handle if filter is not None else None)

    def recommend_approximate(self, users: Any, k: int = 10, index: Optional[Index] = None,
                              ef: int = 100,
                              filter: Optional[Filter] = None) -> Tuple[np.ndarray, np.ndarray]:
        """recommend_filtered through an HNSW Index of the item factors (built
        here when not given: minutes for a million items): `ef` candidates
        a search, the recall/speed knob (docs/performance.md)."""
        model = self._ready()
        index = index if index is not None else Index.build(self)

        def call(users_p, n_users, k, *rest):
            return lib.reco_model_recommend_approximate(model, index._handle, users_p, n_users, k,
                                                        int(ef), *rest)
        return ranked(call, users, k, filter._handle if filter is not None else None)

    def similar_items(self, item: int, k: int = 10) -> Tuple[np.ndarray, np.ndarray]:
        """The k items whose embeddings are closest to the item's (cosine);
        EASE and item-kNN rank the item's row of their item-item matrix."""
        return self._listed(lib.reco_model_similar_items, int(item), k)

    def similar_users(self, user: int, k: int = 10) -> Tuple[np.ndarray, np.ndarray]:
        """The k users whose embeddings are closest to the user's (cosine),
        the user left out; StateError for the models without embeddings."""
        return self._listed(lib.reco_model_similar_users, int(user), k)

    def _embeddings(self, getter, rows):
        dim = lib.reco_model_embedding_dim(self._ready())
        out = np.empty((rows, dim), dtype=np.float32)
        check(getter(self._handle, out.ctypes.data_as(c_float_p)))
        return out

    @property
    def user_factors(self):
        """(n_users, dim) float32: GMF (or MF) factors, then MLP embeddings."""
        return self._embeddings(lib.reco_model_get_user_embeddings, self.n_users)

    @property
    def item_factors(self):
        return self._embeddings(lib.reco_model_get_item_embeddings, self.n_items)

    def fold_in(self, liked_items, steps=20, seed=0):
        """Adds a user who liked `liked_items`, training only that user's
        rows; returns the new user's index."""
        liked = _arrays.indices(liked_items, "liked_items")
        user = ctypes.c_int32()
        check(lib.reco_model_fold_in(self._ready(), liked.ctypes.data_as(c_int32_p), len(liked),
                                     steps, seed, ctypes.byref(user)))
        return user.value

    def user_id(self, index: int) -> Union[int, str]:
        """The training data's id of a user index (int, or str for a text
        id); the model file keeps them."""
        return MODEL.external(self._ready(), "user", index)

    def item_id(self, index: int) -> Union[int, str]:
        return MODEL.external(self._ready(), "item", index)

    def user_index(self, user_id: Hashable) -> int:
        """The index of one of the training data's user ids (OutOfRange when
        unknown)."""
        return MODEL.index(self._ready(), "user", user_id)

    def item_index(self, item_id: Hashable) -> int:
        return MODEL.index(self._ready(), "item", item_id)

    def user_indices(self, user_ids: Any) -> np.ndarray:
        """user_index of every id of an array: int32."""
        return np.array([self.user_index(i) for i in np.atleast_1d(user_ids)], dtype=np.int32)

    def item_indices(self, item_ids: Any) -> np.ndarray:
        return np.array([self.item_index(i) for i in np.atleast_1d(item_ids)], dtype=np.int32)

    def item_title(self, index, dataset=None):
        """The item's title from `dataset` (default: the training set)."""
        source = dataset if dataset is not None else self._train
        return source.item_title(index) if source is not None else None

    # -- evaluation --------------------------------------------------------

    def _evaluate(self, call, names, k, *datasets):
        metrics = ctypes.c_void_p()
        check(lib.reco_metrics_new(ctypes.byref(metrics)))
        try:
            check(lib.reco_metrics_set_k(metrics, k))
            check(call(metrics, self._ready(), *datasets))
            results = {}
            for name in names:
                value = ctypes.c_double()
                check(lib.reco_metrics_get(metrics, METRICS[name], ctypes.byref(value)))
                results[name] = value.value
            return results
        finally:
            lib.reco_metrics_free(metrics)

    def evaluate_sampled(self, test, k=10):
        """NCF protocol (test negatives attached): {"hr", "ndcg"} at K = k."""
        return self._evaluate(lib.reco_metrics_evaluate_sampled, ("hr", "ndcg"), k,
                              test._handle)

    def evaluate_ranking(self, test, exclude=None, k=10):
        """Full ranking: {"hr", "ndcg", "recall", "precision", "map"} at K = k,
        the items of `exclude` (e.g. the training set) left out."""
        return self._evaluate(lib.reco_metrics_evaluate_ranking,
                              ("hr", "ndcg", "recall", "precision", "map"), k, test._handle,
                              exclude._handle if exclude is not None else None)

    def evaluate_ratings(self, test):
        """{"rmse", "mae", "mse"} of the scores against the test ratings.
        Warns (UserWarning) when the model was trained
        here with a ranking loss (BCE, the default, or BPR) or is a ranking
        family: its scores are not ratings."""
        trained_for_ranking = self._trainer is not None and \
            self._settings.get("loss", "bce") != "mse"
        if trained_for_ranking or self.kind in (KINDS["ials"], KINDS["ease"], KINDS["itemknn"]):
            warnings.warn(f"{type(self).__name__}: RMSE of a model trained to rank "
                          f"(loss {self._settings.get('loss', 'bce')!r}): its scores are not "
                          "ratings; train with loss='mse' for rating prediction", stacklevel=2)
        return self._evaluate(lib.reco_metrics_evaluate_ratings, ("rmse", "mae", "mse"), 10,
                              test._handle)

    # -- files -----------------------------------------------------------------

    def save(self, path: PathLike) -> None:
        """Saves the model (settings, vocabulary, parameters) atomically."""
        check(lib.reco_model_save(self._ready(), text(path)))

    @staticmethod
    def load(path: PathLike, backend: Optional[Backend] = None) -> "Model":
        """A model saved by save(), or by any libreco program, as an instance
        of its class (MF, GMF, MLP, NeuMF, IALS, EASE or ItemKNN).

        >>> model.save("model.reco"); Model.load("model.reco")  # doctest: +SKIP
        NeuMF(943 users x 1682 items)
        """
        backend = backend or default_backend()
        handle = ctypes.c_void_p()
        check(lib.reco_model_load(text(path), backend._handle, ctypes.byref(handle)))
        return Model._of_handle(handle, backend)

    def to_bytes(self) -> bytes:
        """The bytes save() would write (the model file in memory)."""
        address, size = ctypes.c_void_p(), c_size()
        check(lib.reco_model_save_buffer(self._ready(), ctypes.byref(address), ctypes.byref(size)))
        try:
            return ctypes.string_at(address, size.value)
        finally:
            lib.reco_free(address)

    @staticmethod
    def from_bytes(data: bytes, backend: Optional[Backend] = None) -> "Model":
        """A model from to_bytes()'s bytes (or a model file's), checked as
        load() checks a file."""
        backend = backend or default_backend()
        handle = ctypes.c_void_p()
        check(lib.reco_model_load_buffer(bytes(data), len(data), backend._handle,
                                         ctypes.byref(handle)))
        return Model._of_handle(handle, backend)

    @staticmethod
    def _of_handle(handle, backend):
        kind = lib.reco_model_kind_of(handle)
        cls = {c.kind: c for c in (MF, GMF, MLP, NeuMF, IALS, EASE, ItemKNN)}[kind]
        return cls(backend=backend)._adopt(handle, backend)

    # pickle: the model file's bytes and the Python side's settings; the
    # unpickled model runs on the default backend, and a trainer is made anew
    def __getstate__(self):
        return {"model": self.to_bytes() if self._handle else None,
                "settings": self._settings, "layers": self._layers,
                "init_seed": self._init_seed, "history": self.history,
                "best_validation": self.best_validation}

    def __setstate__(self, state):
        self.__init__(init_seed=state["init_seed"], layers=state["layers"],
                      **state["settings"])
        self.history = list(state["history"])
        self.best_validation = state["best_validation"]
        if state["model"] is not None:
            loaded = Model.from_bytes(state["model"])
            self._adopt(loaded._handle, loaded._backend)
            loaded._handle = None

    def __repr__(self):
        state = f"{self.n_users} users x {self.n_items} items" if self._handle else "untrained"
        return f"{type(self).__name__}({state})"


class MF(Model):
    """Matrix factorization p_u . q_i (+ biases with biases=True).

    Without a loss, the first fit chooses it from its data as ``reco train``
    does: MSE on ratings (two values or more), with biases, 32 factors and
    Adam at 0.002 with weight decay 1e-3 unless given (ml-100k 80/20: test
    RMSE 0.903 after 16 epochs); BCE with sampled negatives otherwise."""
    kind = KINDS["mf"]

    def _settings_for(self, train):
        if "loss" in self._settings or not has_ratings(train):
            return {}
        return {"loss": "mse", "biases": True, "factors": 32, "learning_rate": 0.002,
                "weight_decay": 1e-3}


class BPRMF(MF):
    """MF trained with the BPR loss (one sampled negative per positive)."""
    defaults = {"loss": "bpr"}


class GMF(Model):
    """Generalized matrix factorization: act(h . (p_u * q_i) + b)."""
    kind = KINDS["gmf"]


class MLP(Model):
    """An MLP tower over the concatenated user and item embeddings."""
    kind = KINDS["mlp"]


class NeuMF(Model):
    """GMF and an MLP tower side by side under one head (the NCF paper's)."""
    kind = KINDS["neumf"]

    @classmethod
    def from_pretrained(cls, gmf, mlp, alpha=0.5, **settings):
        """NeuMF initialized from a trained GMF and MLP (alpha weighs the
        GMF half of the head); keywords are the trainer's settings."""
        handle = ctypes.c_void_p()
        check(lib.reco_model_neumf_from_pretrained(gmf._ready(), mlp._ready(), alpha,
                                                   ctypes.byref(handle)))
        model = cls(backend=gmf._backend, **settings)._adopt(handle, gmf._backend)
        model._train = gmf._train
        return model


class IALS(Model):
    """iALS (Rendle et al. 2022): MF's dot product trained by alternating
    least squares, one epoch one alternation. Keywords: factors (64),
    weight_decay (lambda, 0.007), unobserved_weight (0.3), confidence (0:
    every observed pair weighs 1; else 1 + confidence x rating), init_std
    (0.1, divided by sqrt(factors)), solver ("cg" or "cholesky"), cg_steps
    (3); docs/training.md."""
    kind = KINDS["ials"]


class EASE(Model):
    """EASE (Steck 2019): the user's training items times a closed-form
    item-item matrix; one epoch is the fit. weight_decay is lambda (1000).
    No embeddings; similar_items ranks an item's row of the matrix."""
    kind = KINDS["ease"]


class ItemKNN(Model):
    """Item-kNN as implicit's ItemItemRecommender: neighbours (100) most
    similar items per item under weighting ("bm25", "tfidf" or "cosine");
    one epoch is the fit. No embeddings."""
    kind = KINDS["itemknn"]
