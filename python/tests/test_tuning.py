"""pylibreco.tune: the library's tuner from Python, and MF's loss chosen from the data."""
import math

import numpy as np
import pytest

import pylibreco


@pytest.fixture(scope="module")
def small():
    return pylibreco.Dataset.synthetic(120, 150, 4000, 3)


def test_ease_search_and_refit(small):
    result = pylibreco.tune("ease", small, trials=3, seed=5)
    assert [trial.id for trial in result.trials] == [1, 2, 3]
    # the first trial runs the defaults: nothing drawn but its epochs
    assert result.trials[0].settings == {"epochs": 1}
    assert all(10 <= trial.settings["weight_decay"] <= 1e4 for trial in result.trials[1:])
    best = max(result.trials, key=lambda trial: trial.score)
    assert result.score == best.score
    assert result.settings == best.settings
    assert result.flags == best.flags
    assert result.flags.endswith("--epochs 1")
    assert isinstance(result.model, pylibreco.EASE)
    # the refit saw every row: the validation rows come back as seen items
    items, _ = result.model.recommend(0, k=5)
    assert len(items) == 5


def test_seed_repeats_the_search(small):
    def run(seed):
        return pylibreco.tune("ials", small, trials=4, max_epochs=3, seed=seed, refit=False)
    first, again, other = run(7), run(7), run(8)
    assert [t.settings for t in first.trials] == [t.settings for t in again.trials]
    assert [t.score for t in first.trials] == [t.score for t in again.trials]
    assert first.trials[1].settings != other.trials[1].settings
    assert first.model is None
    # 3 trials of one epoch each in the first rung, then the best third to 3
    assert [t.epochs for t in first.trials[:4]] == [1, 1, 1, 1]
    assert first.trials[-1].epochs == 3


def test_ratings_choose_the_lowest_rmse(small):
    result = pylibreco.tune(pylibreco.MF, small, trials=3, max_epochs=2, refit=False)
    assert result.score == min(trial.score for trial in result.trials)
    assert 0.5 < result.score < 3.0  # an RMSE of 1-5 stars, not a hit rate
    drawn = result.trials[1].settings
    assert drawn["optimizer"] == "adam" and drawn["biases"] is True
    assert "negatives" not in drawn


def test_report_can_stop(small):
    seen = []
    result = pylibreco.tune("ials", small, trials=0, budget=0, max_epochs=3,
                            report=lambda trial: seen.append(trial.id) or len(seen) == 2,
                            refit=False)
    assert seen == [1, 2]
    assert len(result.trials) == 2


def test_report_errors_reach_the_caller(small):
    def broken(trial):
        raise KeyError("from the report")
    with pytest.raises(KeyError, match="from the report"):
        pylibreco.tune("ease", small, trials=2, report=broken)


def test_bad_family(small):
    with pytest.raises(ValueError, match="model"):
        pylibreco.tune("svd", small)


def test_mf_chooses_mse_on_ratings(small):
    train, test = small.split_random(0.2, seed=1)
    model = pylibreco.MF().fit(train, epochs=8)
    assert model._settings["loss"] == "mse"
    assert model._settings["factors"] == 32
    rmse = model.evaluate_ratings(test)["rmse"]
    assert math.isfinite(rmse) and rmse < 1.3
    implicit = pylibreco.Dataset.from_arrays(np.array([0, 0, 1, 2]), np.array([0, 1, 2, 3]))
    assert "loss" not in pylibreco.MF().fit(implicit, epochs=1)._settings
    assert pylibreco.MF(loss="bce").fit(train, epochs=1)._settings["loss"] == "bce"
