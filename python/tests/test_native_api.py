"""What a Python practitioner expects of the native models: fit from CSR,
arrays and frames with any hashable ids, raw ids in predict and recommend,
clipped predictions, pickling, similar_users, type hints."""
import pickle
import typing
import warnings

import numpy as np
import pytest

import pylibreco

USERS = ["ann", "bob", "ann", "cat", "bob", "cat", "dan", "dan"]
ITEMS = ["B01", "B01", "C7", "C7", "D2", "E9", "E9", "B01"]
RATINGS = [5.0, 4.0, 1.0, 2.0, 3.0, 4.5, 5.0, 2.0]


def test_text_ids_go_through_the_c_id_maps():
    data = pylibreco.Dataset.from_arrays(USERS, ITEMS, RATINGS)
    assert (data.n_users, data.n_items, len(data)) == (4, 4, 8)
    assert [data.user_id(i) for i in range(4)] == ["ann", "bob", "cat", "dan"]
    assert data.item_index("E9") == 3 and data.item_id(2) == "D2"
    np.testing.assert_array_equal(data.ratings, np.array(RATINGS, dtype=np.float32))
    implicit = pylibreco.Dataset.from_arrays(USERS, ITEMS)
    assert implicit.ratings is None and len(implicit) == 8
    # a text that is a plain decimal integer is that integer id
    mixed = pylibreco.Dataset.from_arrays(["7", "x"], [b"a1", 3])
    # read as text, and given back as an int where the text is a plain integer
    assert mixed.user_id(0) == 7 and mixed.item_id(0) == "a1" and mixed.item_id(1) == 3
    assert mixed.item_index(3) == 1 and mixed.user_index("7") == 0 and mixed.user_index(7) == 0
    with pytest.raises(ValueError, match=r"items: id \('a', 1\) cannot be a libreco id"):
        pylibreco.Dataset.from_arrays(["x", "y"], [("a", 1), 3])
    with pytest.raises(pylibreco.OutOfRange):
        data.user_index("eve")
    with pytest.raises(ValueError, match="cannot be a libreco id"):
        pylibreco.Dataset.from_arrays(["a b "], ["x"])
    with pytest.raises(TypeError, match="expected integer ids"):
        pylibreco.Dataset.from_arrays([1.5], [2])


def test_fit_takes_csr_tuples_and_frames():
    sparse = pytest.importorskip("scipy.sparse")
    matrix = sparse.csr_matrix(np.array([[1, 0, 2], [0, 3, 0]], dtype=np.float32))
    model = pylibreco.IALS(factors=4).fit(matrix, epochs=2)
    assert (model.n_users, model.n_items) == (2, 3)
    model = pylibreco.IALS(factors=4).fit((USERS, ITEMS), epochs=2)
    assert model.user_id(3) == "dan" and model.item_index("D2") == 2
    frame = {"user": np.array(USERS), "item": np.array(ITEMS), "rating": np.array(RATINGS)}
    data = pylibreco.Dataset.from_frame(frame)
    assert data.user_id(0) == "ann" and data.ratings[0] == 5.0
    with pytest.raises(KeyError, match="no column 'user'"):
        pylibreco.Dataset.from_frame({"u": [1], "item": [2]})
    with pytest.raises(TypeError, match="expected a Dataset, a scipy.sparse matrix"):
        pylibreco.MF().fit([1, 2, 3])


def test_fit_takes_a_pandas_frame():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"user": USERS, "item": ITEMS, "rating": RATINGS})
    model = pylibreco.MF(loss="mse").fit(frame, epochs=1)
    assert model.user_id(1) == "bob"


def test_raw_ids_in_predict_and_recommend_and_clipping():
    model = pylibreco.MF(loss="mse", factors=4, learning_rate=0.05, init_seed=3)
    model.fit((USERS, ITEMS, RATINGS), epochs=30)
    by_index = model.predict([model.user_index("bob")], [model.item_index("C7")])
    assert model.predict("bob", "C7", raw=True) == pytest.approx(float(by_index[0]))
    both = model.predict(["bob", "ann"], ["C7", "B01"], raw=True)
    assert both.shape == (2,) and both[0] == by_index[0]
    assert model.rating_range == (1.0, 5.0)
    clipped = model.predict(["bob", "ann"], ["C7", "B01"], raw=True, clip=True)
    np.testing.assert_array_equal(clipped, np.clip(both, 1.0, 5.0))
    items, scores = model.recommend("ann", k=2, raw=True)
    # ann's training items B01 and C7 are left out
    assert set(items) <= {"D2", "E9"} and len(items) == 2 and scores[0] >= scores[1]
    rows, _ = model.recommend(["ann", "cat"], k=2, raw=True)
    assert rows[0] == items
    with pytest.raises(pylibreco.OutOfRange):
        model.predict("eve", "C7", raw=True)


def test_clipping_needs_ratings():
    model = pylibreco.IALS(factors=4).fit((USERS, ITEMS), epochs=1)
    with pytest.raises(pylibreco.StateError, match="no rating range"):
        model.predict(0, 0, clip=True)


def test_an_array_of_users_is_a_batch():
    data = pylibreco.Dataset.synthetic(60, 40, 1200, seed=2)
    model = pylibreco.IALS(factors=8).fit(data, epochs=3)
    items, scores = model.recommend(np.array([3, 5]), k=4)
    assert items.shape == (2, 4)
    one, _ = model.recommend(5, k=4)
    np.testing.assert_array_equal(items[1], one)


def test_similar_users():
    data = pylibreco.Dataset.synthetic(60, 40, 1200, seed=2)
    model = pylibreco.IALS(factors=8).fit(data, epochs=3)
    users, similarities = model.similar_users(4, k=5)
    factors = model.user_factors.astype(np.float64)
    cosine = factors @ factors[4] / np.linalg.norm(factors, axis=1) / np.linalg.norm(factors[4])
    cosine[4] = -np.inf
    np.testing.assert_array_equal(users, np.argsort(-cosine, kind="stable")[:5])
    np.testing.assert_allclose(similarities, cosine[users], rtol=1e-5)
    knn = pylibreco.ItemKNN().fit(data, epochs=1)
    with pytest.raises(pylibreco.StateError):
        knn.similar_users(0)


@pytest.mark.parametrize("kind", ["IALS", "MF", "NeuMF", "ItemKNN"])
def test_pickling_keeps_the_model(kind):
    data = pylibreco.Dataset.from_arrays(USERS * 3, ITEMS * 3)
    model = getattr(pylibreco, kind)(seed=1).fit(data, epochs=2)
    copy = pickle.loads(pickle.dumps(model))
    assert type(copy) is type(model)
    np.testing.assert_array_equal(copy.history, model.history)  # NaN for ItemKNN's epochs
    users, items = np.repeat(np.arange(4), 4), np.tile(np.arange(4), 4)
    np.testing.assert_array_equal(copy.predict(users, items), model.predict(users, items))
    assert copy.user_id(3) == "dan"
    assert pylibreco.Model.from_bytes(model.to_bytes()).item_id(3) == "E9"
    copy.fit(data, epochs=1)  # goes on training with the pickled settings
    assert len(copy.history) == 3


def test_rmse_of_a_ranking_model_warns():
    data = pylibreco.Dataset.from_arrays(USERS, ITEMS, RATINGS)
    with pytest.warns(UserWarning, match="trained to rank"):
        pylibreco.MF(loss="bce").fit(data, epochs=1).evaluate_ratings(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pylibreco.MF(loss="mse").fit(data, epochs=1).evaluate_ratings(data)


def test_type_hints_and_py_typed():
    hints = typing.get_type_hints(pylibreco.Model.recommend)
    assert set(hints) >= {"user", "k", "filter_already_liked_items", "return"}
    assert typing.get_type_hints(pylibreco.Dataset.from_arrays)["return"] is pylibreco.Dataset
    import importlib.resources
    assert importlib.resources.files("pylibreco").joinpath("py.typed").is_file()


@pytest.mark.parametrize("kind", ["IALS", "MF", "ItemKNN"])
def test_recommend_after_load_leaves_the_training_items_out(kind, tmp_path):
    data = pylibreco.Dataset.synthetic(50, 30, 600, seed=9)
    model = getattr(pylibreco, kind)(seed=1).fit(data, epochs=2)
    model.save(tmp_path / "m.reco")
    for copy in (pylibreco.Model.load(tmp_path / "m.reco"), pickle.loads(pickle.dumps(model))):
        for user in range(0, 50, 7):
            seen = set(data.items[data.users == user])
            items, scores = copy.recommend(user, k=30)
            assert len(items) == 30 - len(seen) and not seen & set(items)
            np.testing.assert_array_equal((items, scores), model.recommend(user, k=30))
            everything, _ = copy.recommend(user, k=30, filter_already_liked_items=False)
            assert sorted(everything) == list(range(30))


def test_docstring_examples_run():
    import doctest
    for module in (pylibreco.models, pylibreco.dataset):
        result = doctest.testmod(module)
        assert result.attempted >= 4 and result.failed == 0, module.__name__
