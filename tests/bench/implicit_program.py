#!/usr/bin/env python3
"""A program written for implicit 0.7, run on pylibreco.implicit: the only
lines that differ from the implicit program are the four imports below
(implicit's: `from implicit.als import AlternatingLeastSquares`, and so on).
It fits ALS, BPR, BM25 and cosine on a CSR matrix of ml-100k's u.data,
recommends for one user and a batch (filter_already_liked_items,
filter_items, items), asks similar_items and similar_users, recalculates a
user with ALS, and checks that save/load and pickle give the same
recommendations; any difference raises. Then each model, fitted again on a
random 80% of the entries, is measured by precision@10 on the other 20%
(popularity's too, as the floor).

Usage: implicit_program.py [U_DATA]   (default: $RECO_DATA_DIR/ml-100k/u.data;
exits 77, skipped, when neither is there)
"""
import os
import pickle
import sys
import tempfile
import time

import numpy as np

try:
    from scipy.sparse import csr_matrix
except ImportError:  # implicit needs scipy as much
    print("implicit_program: no scipy: skipped")
    sys.exit(77)

from pylibreco.implicit.als import AlternatingLeastSquares
from pylibreco.implicit.bpr import BayesianPersonalizedRanking
from pylibreco.implicit.nearest_neighbours import BM25Recommender, CosineRecommender


def read_u_data(path):
    """users, items, ratings of ml-100k's u.data (ids as indices)."""
    table = np.loadtxt(path, dtype=np.int64, usecols=(0, 1, 2), ndmin=2)
    return table[:, 0], table[:, 1], table[:, 2].astype(np.float32)


def precision_at_10(model, users, items, ratings, shape):
    """Fits on a random 80% of the entries (seed 0) and returns the mean
    share of each test user's top 10 found among its other 20%, and
    popularity's."""
    test = np.random.RandomState(0).rand(len(users)) < 0.2
    train = csr_matrix((ratings[~test], (users[~test], items[~test])), shape=shape)
    truth = csr_matrix((np.ones(test.sum()), (users[test], items[test])), shape=shape)
    model.fit(train, show_progress=False)
    queried = np.unique(users[test])
    ids, _ = model.recommend(queried, train[queried], N=10)
    popular = np.argsort(-np.asarray(train.sum(axis=0)).ravel(), kind="stable")

    def hits(row, user):
        return len(set(row[:10]) & set(truth[user].indices)) / 10

    liked = [set(train[user].indices) for user in queried]
    baseline = [[i for i in popular[:len(seen) + 10] if i not in seen][:10] for seen in liked]
    return (np.mean([hits(row, user) for row, user in zip(ids, queried)]),
            np.mean([hits(row, user) for row, user in zip(baseline, queried)]))


def same(first, second, what):
    for a, b in zip(first, second):
        if not np.array_equal(a, b):
            raise AssertionError(f"{what}: {a} != {b}")


def exercise(model, user_items, folder):
    start = time.perf_counter()
    model.fit(user_items, show_progress=False)
    fit_seconds = time.perf_counter() - start
    users = np.arange(1, min(user_items.shape[0], 101))
    user = int(users[0])

    ids, scores = model.recommend(user, user_items[user], N=10)
    liked = set(user_items[user].indices)
    assert len(ids) == 10 and not liked & set(ids), "liked items were recommended"
    assert np.all(np.diff(scores) <= 0), "scores are not in decreasing order"

    batch_ids, batch_scores = model.recommend(users, user_items[users], N=10)
    assert batch_ids.shape == (len(users), 10) and batch_scores.shape == (len(users), 10)
    same([batch_ids[0], batch_scores[0]], [ids, scores], "batch row 0 against one user")

    blocked = ids[:3]
    filtered, _ = model.recommend(user, user_items[user], N=10, filter_items=blocked)
    assert not set(blocked) & set(filtered), "filter_items were recommended"
    among = np.arange(1, 51)
    chosen, _ = model.recommend(user, user_items[user], N=5, items=among)
    assert set(chosen) <= set(among), "items outside `items` were recommended"
    everything, _ = model.recommend(user, user_items[user], N=10,
                                    filter_already_liked_items=False)
    assert len(everything) == 10

    similar, _ = model.similar_items(int(ids[0]), N=5)
    assert len(similar) == 5
    similar_batch, _ = model.similar_items(ids[:4], N=5)
    assert similar_batch.shape == (4, 5)
    try:
        neighbours, _ = model.similar_users(user, N=5)
        assert neighbours[0] == user, "a user is not the nearest to itself"
        assert model.similar_users(users[:4], N=5)[0].shape == (4, 5)
    except NotImplementedError:  # implicit's item-kNN has no similar_users either
        pass

    if isinstance(model, AlternatingLeastSquares):
        again, _ = model.recommend(user, user_items[user], N=10, recalculate_user=True)
        overlap = len(set(again) & set(ids))
        assert overlap >= 5, f"recalculate_user shares {overlap} of 10 items"

    path = os.path.join(folder, type(model).__name__)
    model.save(path)
    loaded = type(model).load(path)
    same(loaded.recommend(users, user_items[users], N=10), (batch_ids, batch_scores),
         "save/load")
    unpickled = pickle.loads(pickle.dumps(model))
    same(unpickled.recommend(users, user_items[users], N=10), (batch_ids, batch_scores),
         "pickle")
    if hasattr(model, "user_factors"):
        assert isinstance(model.user_factors, np.ndarray)
        assert model.item_factors.shape[0] == user_items.shape[1]
    return fit_seconds


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else None
    if path is None and os.environ.get("RECO_DATA_DIR"):
        path = os.path.join(os.environ["RECO_DATA_DIR"], "ml-100k", "u.data")
    if path is None or not os.path.exists(path):
        print("implicit_program: no u.data (set RECO_DATA_DIR or give a path): skipped")
        return 77
    users, items, ratings = read_u_data(path)
    user_items = csr_matrix((ratings, (users, items)))
    models = [lambda: AlternatingLeastSquares(factors=64, regularization=0.05, iterations=15,
                                              random_state=1),
              lambda: BayesianPersonalizedRanking(factors=64, iterations=100, random_state=1),
              lambda: BM25Recommender(K=100), lambda: CosineRecommender(K=100)]
    with tempfile.TemporaryDirectory() as folder:
        for make in models:
            model = make()
            seconds = exercise(model, user_items, folder)
            precision, popularity = precision_at_10(make(), users, items, ratings,
                                                    user_items.shape)
            print(f"{type(model).__name__}: fit {seconds:.2f} s on {user_items.nnz} entries; "
                  "recommend, similar_items/users, save/load and pickle as implicit's; "
                  f"precision@10 on a 20% holdout {precision:.3f} (popularity {popularity:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
