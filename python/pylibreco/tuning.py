"""Tuning: the library's tuner (reco_tuner_*, docs/training.md#tuning) from
Python, the search that ``reco tune`` runs.

>>> result = tune("ease", ml_100k, trials=4)          # doctest: +SKIP
>>> result.settings, result.score                     # doctest: +SKIP
({'weight_decay': 512.3, 'epochs': 1}, 0.71)
>>> result.model.recommend(1, k=10)                   # doctest: +SKIP
"""
from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Union

from ._native import TRIAL_FN, check, lib
from .backend import Backend, default_backend
from .dataset import Dataset, as_dataset
from .models import KINDS, LOSSES, METRICS, OPTIMIZERS, WEIGHTINGS, Model, has_ratings

# reco_setting's values, as the models' keywords name them
_SETTINGS = ["factors", "learning_rate", "weight_decay", "unobserved_weight", "negatives",
             "neighbours", "weighting", "optimizer", "biases", "init_std", "epochs"]
_COUNTS = {"factors", "negatives", "neighbours", "epochs"}
_NAMES = {"weighting": {v: k for k, v in WEIGHTINGS.items()},
          "optimizer": {v: k for k, v in OPTIMIZERS.items()}}


@dataclass
class Trial:
    """One trial after one rung: the settings it drew, the epochs trained, its
    `score` (the best epoch's validation value averaged with its neighbours')
    and the seconds it took."""
    id: int
    settings: Dict[str, Any]
    epochs: int
    score: float
    seconds: float
    flags: str


@dataclass
class TuneResult:
    """What tune() found: the best trial's settings (keywords of the model's
    class, with `epochs` for fit), its validation `score`, the same as
    ``reco train`` flags, every trial's report, and the model refit with
    those settings (None with refit=False)."""
    settings: Dict[str, Any]
    score: float
    flags: str
    trials: List[Trial] = field(default_factory=list)
    model: Optional[Model] = None


def _trial_settings(trial) -> Dict[str, Any]:
    settings = {}
    for index, name in enumerate(_SETTINGS):
        value = lib.reco_trial_setting(trial, index)
        if math.isnan(value):
            continue
        if name in _NAMES:
            value = _NAMES[name][int(value)]
        elif name == "biases":
            value = bool(value)
        elif name in _COUNTS:
            value = int(value)
        settings[name] = value
    return settings


def _flags(trial) -> str:
    size = lib.reco_trial_flags(trial, None, 0) + 1
    buffer = ctypes.create_string_buffer(size)
    lib.reco_trial_flags(trial, buffer, size)
    return buffer.value.decode()


def _trial(trial) -> Trial:
    return Trial(id=lib.reco_trial_id(trial), settings=_trial_settings(trial),
                 epochs=lib.reco_trial_epochs(trial), score=lib.reco_trial_score(trial),
                 seconds=lib.reco_trial_seconds(trial), flags=_flags(trial))


def _holdout(train: Dataset, explicit: bool, seed: int):
    """Validation rows carved from the training rows as reco tune carves them:
    each user's latest row with 99 sampled negatives, or a tenth for ratings."""
    if explicit:
        return train.split_random(0.1, seed=seed)
    rest, valid = train.split_leave_one_out()
    valid.sample_test_negatives(train, 99, seed=seed)
    return rest, valid


def tune(model: Union[str, type], train: Any, valid: Optional[Dataset] = None, *,
         loss: Optional[str] = None, metric: Optional[str] = None, k: int = 10,
         budget: float = 60.0, trials: int = 0, max_epochs: int = 0, seed: int = 42,
         threads: int = 0, refit: bool = True, backend: Optional[Backend] = None,
         report: Optional[Callable[[Trial], Any]] = None) -> TuneResult:
    """Searches the settings of a model family ("mf", "ials", "ease",
    "itemknn", "gmf", "mlp", "neumf", or one of the model classes) on `train`
    within `budget` seconds or `trials` trials (0: no limit), by successive
    halving on the validation rows: `valid`, or carved from `train` as reco
    tune does (each user's latest row against 99 sampled negatives; a random
    tenth for ratings). MF's loss follows the data (MSE on ratings) unless
    given; `metric` defaults to RMSE for MSE, HR@k otherwise. `report(trial)`
    sees each trial after each rung and may return True to stop. With
    `refit`, the best settings are trained afresh on all of `train`
    (training + validation rows) and returned as result.model.

    >>> result = tune("ials", (users, items), trials=9, max_epochs=3)  # doctest: +SKIP
    >>> IALS(**{k: v for k, v in result.settings.items() if k != "epochs"})  # doctest: +SKIP
    """
    kind = model if isinstance(model, str) else getattr(model, "kind", None)
    kind = KINDS.get(kind, kind) if isinstance(kind, str) else kind
    if kind not in KINDS.values():
        raise ValueError(f"model: expected one of {sorted(KINDS)} or a model class, got {model!r}")
    train = as_dataset(train, "train")
    if loss is None:
        loss = getattr(model, "defaults", {}).get("loss")
    if loss is None:
        loss = "mse" if kind == KINDS["mf"] and has_ratings(train) else "bce"
    explicit = loss == "mse"
    metric = metric or ("rmse" if explicit else "hr")
    rows = train
    if valid is None:
        train, valid = _holdout(rows, explicit, seed)
    backend = backend or default_backend()
    handle = ctypes.c_void_p()
    check(lib.reco_tuner_new(kind, LOSSES[loss], ctypes.byref(handle)))
    seen: List[Trial] = []
    failure: List[BaseException] = []

    def on_trial(trial, _user_data):
        seen.append(_trial(trial))
        try:
            return 1 if report and report(seen[-1]) else 0
        except BaseException as error:  # raised again once C has returned
            failure.append(error)
            return 1

    hook = TRIAL_FN(on_trial)
    try:
        check(lib.reco_tuner_set_budget(handle, float(budget), int(trials)))
        check(lib.reco_tuner_set_max_epochs(handle, int(max_epochs)))
        check(lib.reco_tuner_set_seed(handle, int(seed)))
        check(lib.reco_tuner_set_threads(handle, int(threads)))
        check(lib.reco_tuner_set_report(handle, hook, None))
        status = lib.reco_tuner_run(handle, backend._handle, train._handle, valid._handle,
                                    METRICS[metric], int(k))
        if failure:
            raise failure[0]
        check(status)
        best = lib.reco_tuner_best(handle)
        result = TuneResult(settings=_trial_settings(best), score=lib.reco_trial_score(best),
                            flags=_flags(best), trials=seen)
        if refit:
            fitted = ctypes.c_void_p()
            check(lib.reco_tuner_fit_best(handle, backend._handle, rows._handle,
                                          ctypes.byref(fitted)))
            result.model = Model._of_handle(fitted, backend)
            result.model._settings.update(
                {name: value for name, value in result.settings.items() if name != "epochs"})
            result.model._settings["loss"] = loss
            result.model._train = rows
        return result
    finally:
        lib.reco_tuner_free(handle)
