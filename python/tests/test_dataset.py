import gzip

import numpy as np
import pytest
import scipy.sparse

import pylibreco


def test_read_every_format(fixtures):
    for name, rows in [("ratings.dat", None), ("ratings.csv", None), ("u.data", None),
                       ("pairs.tsv", None)]:
        data = pylibreco.Dataset.read(f"{fixtures}/{name}")
        assert len(data) > 0
        assert data.users.dtype == np.int32 and len(data.users) == len(data)
    data = pylibreco.Dataset.read(f"{fixtures}/ratings.dat", format="movielens")
    assert data.ratings is not None and data.timestamps is not None
    with pytest.raises(ValueError, match="format: expected one of"):
        pylibreco.Dataset.read(f"{fixtures}/ratings.dat", format="parquet")


def test_read_gzip_and_errors(tmp_path, fixtures):
    packed = tmp_path / "r.dat.gz"
    with open(f"{fixtures}/ratings.dat", "rb") as plain, gzip.open(packed, "wb") as out:
        out.write(plain.read())
    assert len(pylibreco.Dataset.read(packed)) == len(pylibreco.Dataset.read(f"{fixtures}/ratings.dat"))
    bad = tmp_path / "bad.dat"
    bad.write_text("1::2::x::4\n")
    with pytest.raises(pylibreco.ParseError, match=r"bad.dat:1: field 3 \(rating\)") as caught:
        pylibreco.Dataset.read(bad)
    assert isinstance(caught.value, pylibreco.RecoError) and isinstance(caught.value, ValueError)
    with pytest.raises(pylibreco.IOFailure, match="cannot open"):
        pylibreco.Dataset.read(tmp_path / "missing.dat")


def test_columns_are_read_only_views_that_outlive_the_name():
    data = pylibreco.Dataset.from_arrays([5, 5, 9], [1, 2, 1], ratings=[4.0, 3.5, 1.0],
                                       timestamps=[10, 20, 30])
    users, ratings = data.users, data.ratings
    del data
    assert users.tolist() == [0, 0, 1]
    assert ratings.tolist() == [4.0, 3.5, 1.0]
    with pytest.raises(ValueError):
        users[0] = 3


def test_from_arrays_takes_any_integer_ids_and_refuses_the_rest():
    for dtype in (np.int8, np.uint16, np.int32, np.uint64, np.int64):
        data = pylibreco.Dataset.from_arrays(np.array([3, 4], dtype=dtype), np.array([7, 8], dtype))
        assert data.user_id(1) == 4 and data.item_index(8) == 1
    with pytest.raises(TypeError, match="users: expected integer ids"):
        pylibreco.Dataset.from_arrays(np.array([1.5, 2.0]), [1, 2])
    with pytest.raises(ValueError, match=r"users: id 'u\\t1' cannot be a libreco id"):
        pylibreco.Dataset.from_arrays(["u\t1", "u2"], [1, 2])
    with pytest.raises(ValueError, match="expected a 1-D array"):
        pylibreco.Dataset.from_arrays(np.zeros((2, 2), dtype=int), [1, 2])
    with pytest.raises(ValueError, match="items: 1 values for 2 users"):
        pylibreco.Dataset.from_arrays([1, 2], [1])
    with pytest.raises(ValueError, match="ids must be >= 0"):
        pylibreco.Dataset.from_arrays([-1], [1])
    with pytest.raises(pylibreco.OutOfRange):
        pylibreco.Dataset.from_arrays([1], [1]).user_id(5)


def test_from_csr():
    matrix = scipy.sparse.csr_matrix(np.array([[0, 5, 0], [3, 0, 1]], dtype=np.float32))
    data = pylibreco.Dataset.from_csr(matrix)
    assert len(data) == 3
    assert sorted(zip(data.users.tolist(), data.items.tolist(), data.ratings.tolist())) == \
        sorted([(data.user_index(0), data.item_index(1), 5.0),
                (data.user_index(1), data.item_index(0), 3.0),
                (data.user_index(1), data.item_index(2), 1.0)])
    assert pylibreco.Dataset.from_csr(matrix, implicit=True).ratings is None
    with pytest.raises(TypeError, match="scipy.sparse"):
        pylibreco.Dataset.from_csr([[1, 2]])


def test_splits_transforms_and_negatives(fixtures):
    data = pylibreco.Dataset.synthetic(50, 40, 800, seed=3)
    train, test = data.split_leave_one_out()
    assert len(train) + len(test) == len(data) and train.shares_vocabulary(test)
    a, b = data.split_random(0.25, seed=1, stratify=True)
    assert len(a) + len(b) == len(data)
    tr, va, te = data.split_three_way(0.1, 0.1, seed=1)
    assert len(tr) + len(va) + len(te) == len(data)
    positives = data.binarize(4)
    assert positives.ratings is None and len(positives) < len(data)
    assert np.allclose(data.scale_ratings(0.2).ratings, data.ratings * 0.2)
    with pytest.raises(pylibreco.OutOfRange):
        data.scale_ratings(1e38)
    test.sample_test_negatives(data, 5, seed=1)
    assert len(test.test_negatives(0)) == 5
    negatives = train.sample_negatives(3, seed=2)
    assert negatives.shape == (len(train), 3) and negatives.dtype == np.int32
    repeated = pylibreco.Dataset.from_arrays([1, 1, 1], [2, 3, 2], ratings=[1, 2, 3])
    assert repeated.deduplicate("keep_last").ratings.tolist() == [2.0, 3.0]
    with pytest.raises(pylibreco.InvalidArgument, match="repeat user 1 and item 2"):
        repeated.deduplicate("refuse")


def test_titles(fixtures):
    data = pylibreco.Dataset.read(f"{fixtures}/ratings.dat")
    data.read_titles(f"{fixtures}/movies.dat")
    assert data.item_title(data.item_index(10)) == "Toy Story (1995)"
    assert data.item_title(data.item_index(20)) == "Café au lait (1993)"
    assert data.item_title(10**6) is None
