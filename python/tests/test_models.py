import numpy as np
import pytest

import pylibreco


def test_keyword_settings_reach_the_library(ncf_split):
    data, train, test = ncf_split
    model = pylibreco.NeuMF(factors=4, layers=(16, 8), negatives=2, learning_rate=0.01,
                          batch_size=512, seed=3).fit(train, epochs=1)
    assert model.user_factors.shape == (data.n_users, 4 + 8)
    with pytest.raises(TypeError, match="unknown hyper-parameter"):
        pylibreco.GMF(factor=8)
    with pytest.raises(ValueError, match="optimizer: expected one of"):
        pylibreco.GMF(optimizer="rmsprop").fit(train)
    with pytest.raises(pylibreco.InvalidArgument, match="factors 0"):
        pylibreco.GMF(factors=0).fit(train)


def test_training_improves_on_the_untrained_model(ncf_split, trained):
    data, train, test = ncf_split
    untrained = pylibreco.NeuMF().init(data.n_users, data.n_items)
    assert trained.evaluate_sampled(test)["hr"] > untrained.evaluate_sampled(test)["hr"] + 0.1
    assert len(trained.history) == 1 and 0 < trained.history[0] < 1


def test_serving_round_trips(ncf_split, trained):
    data, train, test = ncf_split
    items, scores = trained.recommend(3, k=10)
    assert items.dtype == np.int32 and scores.dtype == np.float32 and len(items) == 10
    assert np.all(np.diff(scores) <= 0)
    seen = set(train.items[train.users == 3].tolist())
    assert not seen & set(items.tolist())
    unfiltered, _ = trained.recommend(3, k=10, filter_already_liked_items=False)
    assert np.allclose(trained.predict(np.full(10, 3), unfiltered),
                       trained.recommend(3, 10, filter_already_liked_items=False)[1])
    batch_items, batch_scores = trained.recommend_batch([3, 5], k=10)
    assert batch_items.shape == (2, 10) and (batch_items[0] == items).all()
    similar, similarities = trained.similar_items(7, k=5)
    assert 7 not in similar and np.all(np.abs(similarities) <= 1.0001)
    assert trained.user_factors.shape == (data.n_users, 8 + 32)
    assert trained.item_id(trained.item_index(data.item_id(4))) == data.item_id(4)
    with pytest.raises(TypeError, match="user: expected an int"):
        trained.recommend("3")
    with pytest.raises(pylibreco.OutOfRange):
        trained.recommend(10**6)
    with pytest.raises(ValueError, match="items: 1 values for 2 users"):
        trained.predict([1, 2], [3])


def test_save_load_and_fold_in(tmp_path, ncf_split, trained):
    data, train, test = ncf_split
    path = tmp_path / "model.reco"
    trained.save(path)
    loaded = pylibreco.Model.load(path)
    assert isinstance(loaded, pylibreco.NeuMF)
    assert np.array_equal(loaded.predict([1, 2], [3, 4]), trained.predict([1, 2], [3, 4]))
    user = loaded.fold_in([1, 5, 9], steps=5)
    assert user == data.n_users and loaded.n_users == data.n_users + 1
    with pytest.raises(pylibreco.FormatError, match="bad magic"):
        (tmp_path / "junk.reco").write_bytes(b"not a model at all")
        pylibreco.Model.load(tmp_path / "junk.reco")
    with pytest.raises(pylibreco.StateError, match="not trained"):
        pylibreco.GMF().recommend(0)


def test_every_model_kind_trains_and_evaluates(fixtures):
    data = pylibreco.Dataset.synthetic(120, 90, 3000, seed=5)
    train, test = data.split_random(0.2, seed=1)
    rmse = pylibreco.MF(loss="mse", biases=True, factors=16, learning_rate=0.01) \
        .fit(train, epochs=10).evaluate_ratings(test)
    assert set(rmse) == {"rmse", "mae", "mse"} and rmse["rmse"] < 1.3
    ranking = pylibreco.BPRMF(factors=16).fit(train.binarize(4), epochs=2) \
        .evaluate_ranking(test.binarize(4), exclude=train, k=20)
    assert set(ranking) == {"hr", "ndcg", "recall", "precision", "map"}
    for cls in (pylibreco.GMF, pylibreco.MLP):
        assert cls().fit(train, epochs=1).n_items == data.n_items


def test_ials_trains_saves_and_folds_in(tmp_path, ncf_split):
    data, train, test = ncf_split
    untrained = pylibreco.IALS(factors=16).init(data.n_users, data.n_items)
    model = pylibreco.IALS(factors=16, weight_decay=0.01, unobserved_weight=0.5,
                         solver="cholesky").fit(train, epochs=5)
    assert len(model.history) == 5 and model.history[-1] < model.history[0]
    assert model.evaluate_sampled(test)["hr"] > untrained.evaluate_sampled(test)["hr"] + 0.1
    path = tmp_path / "ials.reco"
    model.save(path)
    loaded = pylibreco.Model.load(path)
    assert isinstance(loaded, pylibreco.IALS)
    assert np.array_equal(loaded.predict([1, 2], [3, 4]), model.predict([1, 2], [3, 4]))
    # fold-in is one exact solve: the same items give the same row, whatever the steps
    first = loaded.fold_in([1, 5, 9], steps=1)
    second = loaded.fold_in([9, 5, 1], steps=50)
    factors = loaded.user_factors
    assert np.array_equal(factors[first], factors[second])
    with pytest.raises(ValueError, match="solver: expected one of"):
        pylibreco.IALS(solver="lu").fit(train)
    with pytest.raises(pylibreco.StateError, match="iALS setting"):
        pylibreco.MF(unobserved_weight=0.5).fit(train)


def test_rmse_of_a_ranking_model_warns(fixtures):
    data = pylibreco.Dataset.synthetic(120, 90, 3000, seed=5)
    train, test = data.split_random(0.2, seed=1)
    with pytest.warns(UserWarning, match="trained to rank"):
        pylibreco.MF(loss="bce").fit(train, epochs=1).evaluate_ratings(test)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pylibreco.MF(loss="mse").fit(train, epochs=1).evaluate_ratings(test)


def test_ease_and_item_knn(tmp_path, ncf_split):
    data, train, test = ncf_split
    untrained = pylibreco.IALS(factors=8).init(data.n_users, data.n_items)
    for model in (pylibreco.EASE(weight_decay=100.0),
                  pylibreco.ItemKNN(neighbours=20, weighting="cosine")):
        model.fit(train, epochs=1)
        assert np.isnan(model.history[0])  # a closed form has no training loss
        assert model.evaluate_sampled(test)["hr"] > untrained.evaluate_sampled(test)["hr"] + 0.1
        path = tmp_path / "model.reco"
        model.save(path)
        loaded = pylibreco.Model.load(path)
        assert type(loaded) is type(model)
        assert np.array_equal(loaded.recommend(3, k=5, filter_already_liked_items=False)[0],
                              model.recommend(3, k=5, filter_already_liked_items=False)[0])
        with pytest.raises(pylibreco.StateError, match="no embeddings"):
            loaded.item_factors
    with pytest.raises(ValueError, match="weighting: expected one of"):
        pylibreco.ItemKNN(weighting="jaccard").fit(train)


def test_validation_early_stopping_and_pretraining(ncf_split):
    data, train, test = ncf_split
    model = pylibreco.GMF().fit(train, epochs=3, valid=test, metric="hr", patience=1)
    epoch, value = model.best_validation
    assert 0 <= epoch < 3 and value == pytest.approx(model.evaluate_sampled(test)["hr"])
    gmf = pylibreco.GMF().fit(train, epochs=1)
    mlp = pylibreco.MLP().fit(train, epochs=1)
    neumf = pylibreco.NeuMF.from_pretrained(gmf, mlp, optimizer="sgd", learning_rate=0.01)
    assert neumf.evaluate_sampled(test)["hr"] > 0.2
    neumf.fit(train, epochs=1)


def test_progress_callback_and_stopping(ncf_split):
    data, train, test = ncf_split
    reports = []
    pylibreco.GMF().fit(train, epochs=1, callback=lambda r: reports.append(r) or len(reports) >= 3)
    assert len(reports) == 3 and reports[-1]["step"] == 3 and reports[0]["epoch"] == 0

    def broken(report):
        raise KeyError("from the callback")
    with pytest.raises(KeyError, match="from the callback"):
        pylibreco.GMF().fit(train, epochs=1, callback=broken)


def test_backend_threads():
    backend = pylibreco.Backend("cpu", threads=2)
    assert backend.threads == 2 and backend.name == "cpu"
    backend.threads = 1
    assert backend.threads == 1
    with pytest.raises(TypeError):
        backend.threads = -1
    with pytest.raises(pylibreco.OutOfRange):
        backend.threads = 5000
    with pytest.raises(pylibreco.BackendUnavailable):
        pylibreco.Backend("tpu")


def test_backend_description():
    description = pylibreco.Backend("cpu", threads=2).description
    assert description.startswith("cpu: 2 threads, BLIS ") and " kernels (" in description


def test_version():
    assert pylibreco.version().count(".") == 2
