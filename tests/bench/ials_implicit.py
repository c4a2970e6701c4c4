"""implicit's ALS on the files libreco trains on, for tests/bench/bench_ials.sh.

ncf TRAIN TEST NEGATIVES FACTORS REG ALPHA ITERATIONS THREADS
    fits on the NCF train file (user<TAB>item), evaluates HR@10 and NDCG@10
    after every iteration on the test file and its 99 negatives (a negative
    scoring >= the positive ranks above it, as libreco's pessimistic ties),
    and prints one JSON line per iteration with the fit's own time so far
    (evaluation not counted), then one line with the whole fit's time.
knn TRAIN TEST NEGATIVES K THREADS
    implicit's BM25 item-kNN: fit seconds, HR@10 and NDCG@10.
make-synthetic TSV USERS ITEMS PAIRS
    writes a popularity-skewed implicit data set of that shape.
synthetic TSV FACTORS ITERATIONS THREADS
    fits the user<TAB>item file and prints the seconds of each iteration and
    the peak RSS of the process.
recommend TSV PREFIX K THREADS OUT
    the whole top-K job on a libreco model's factors (`reco export --format
    npy --out PREFIX`): reads the user<TAB>item pairs (the model's training
    pairs), builds the CSR in the factors' row order, runs implicit's batch
    recommend with the pairs filtered, writes user, item, rank, score as TSV;
    prints the seconds of the recommend call alone.
same-sets A.tsv B.tsv
    exits 1 unless the two TSVs (user, item, rank, score, a header) give every
    user the same set of items; prints the users compared.
"""
import json
import resource
import sys
import time

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from implicit.cpu.als import AlternatingLeastSquares


def read_pairs(path):
    data = np.loadtxt(path, dtype=np.int64, usecols=(0, 1), ndmin=2)
    return data[:, 0], data[:, 1]


def index(ids, vocabulary):
    return np.array([vocabulary.setdefault(int(i), len(vocabulary)) for i in ids], dtype=np.int64)


def read_negatives(path, users, items):
    rows = []
    with open(path) as lines:
        for line in lines:
            fields = line.split("\t")
            user, item = fields[0].strip("()").split(",")
            rows.append((users[int(user)], items[int(item)],
                         [items[int(n)] for n in fields[1:] if n.strip()]))
    return rows


def sampled_metrics(model, rows, k=10):
    hits, ndcg = 0.0, 0.0
    user_factors, item_factors = model.user_factors, model.item_factors
    for user, positive, negatives in rows:
        candidates = np.array([positive] + negatives)
        scores = item_factors[candidates] @ user_factors[user]
        above = int(np.sum(scores[1:] >= scores[0]))
        if above < k:
            hits += 1.0
            ndcg += 1.0 / np.log2(above + 2.0)
    return hits / len(rows), ndcg / len(rows)


def read_ncf(train, test, negatives, users, items):
    """The training pairs as indices, and the test rows with their negatives;
    test and negative items the training file lacks get indices too (libreco
    reads the three files into one vocabulary)."""
    train_users, train_items = read_pairs(train)
    u = index(train_users, users)
    i = index(train_items, items)
    test_users, test_items = read_pairs(test)
    index(test_users, users)
    index(test_items, items)
    with open(negatives) as lines:
        for line in lines:
            index([int(n) for n in line.split("\t")[1:] if n.strip()], items)
    return u, i, read_negatives(negatives, users, items)


def ncf(train, test, negatives, factors, reg, alpha, iterations, threads):
    users, items = {}, {}
    u, i, rows = read_ncf(train, test, negatives, users, items)
    matrix = sp.csr_matrix((np.ones(len(u), dtype=np.float32), (u, i)), shape=(len(users), len(items)))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    model = AlternatingLeastSquares(factors=int(factors), regularization=float(reg), alpha=float(alpha),
                                    iterations=int(iterations), num_threads=int(threads), random_state=42)
    fit_seconds = [0.0]

    def after_iteration(iteration, elapsed, loss):
        fit_seconds[0] += elapsed
        hr, ndcg = sampled_metrics(model, rows)
        print(json.dumps({"iteration": iteration + 1, "fit_seconds": round(fit_seconds[0], 4),
                          "HR@10": round(hr, 4), "NDCG@10": round(ndcg, 4)}), flush=True)

    with threadpool_limits(1, "blas"):
        model.fit(matrix, show_progress=False)  # warm-up: OpenMP threads, imports
        model = AlternatingLeastSquares(factors=int(factors), regularization=float(reg), alpha=float(alpha),
                                        iterations=int(iterations), num_threads=int(threads), random_state=42)
        started = time.perf_counter()
        model.fit(matrix, show_progress=False, callback=after_iteration)
        total = time.perf_counter() - started
    print(json.dumps({"done": True, "fit_seconds_with_evaluation": round(total, 3),
                      "fit_seconds": round(fit_seconds[0], 3)}), flush=True)


def knn(train, test, negatives, k, threads):
    """implicit's BM25Recommender (K1 1.2, B 0.75) with K neighbours: fit time
    and HR@10 / NDCG@10 on the sampled protocol (scores of the recommend path:
    the user's items times the similarity rows)."""
    from implicit.nearest_neighbours import BM25Recommender
    users, items = {}, {}
    u, i, rows = read_ncf(train, test, negatives, users, items)
    matrix = sp.csr_matrix((np.ones(len(u), dtype=np.float64), (u, i)), shape=(len(users), len(items)))
    matrix.sum_duplicates()
    model = BM25Recommender(K=int(k), num_threads=int(threads))
    started = time.perf_counter()
    model.fit(matrix, show_progress=False)
    fit = time.perf_counter() - started
    similarity = model.similarity.tocsr()
    hits, ndcg = 0.0, 0.0
    for user, positive, negative_items in rows:
        candidates = np.array([positive] + negative_items)
        scores = np.asarray(matrix[user] @ similarity[:, candidates].toarray()).ravel()
        above = int(np.sum(scores[1:] >= scores[0]))
        if above < 10:
            hits += 1.0
            ndcg += 1.0 / np.log2(above + 2.0)
    print(json.dumps({"fit_seconds": round(fit, 3), "HR@10": round(hits / len(rows), 4),
                      "NDCG@10": round(ndcg / len(rows), 4)}))


def synthetic(path, factors, iterations, threads):
    users, items = read_pairs(path)
    matrix = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)))
    matrix.sum_duplicates()
    model = AlternatingLeastSquares(factors=int(factors), regularization=0.1, alpha=4.0,
                                    iterations=int(iterations), num_threads=int(threads), random_state=42)
    seconds = []
    with threadpool_limits(1, "blas"):
        model.fit(matrix, show_progress=False, callback=lambda it, elapsed, loss: seconds.append(elapsed))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"iteration_seconds": [round(s, 3) for s in seconds], "peak_rss_mb": round(peak_mb)}))


def positions(ids, of):
    """Row of each id of `of` in `ids` (integer ids, as libreco exports them)."""
    lookup = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    lookup[ids] = np.arange(len(ids))
    return lookup[of]


def recommend(path, prefix, k, threads, out):
    k, threads = int(k), int(threads)
    users, items = read_pairs(path)
    user_ids, item_ids = np.load(prefix + "_user_ids.npy"), np.load(prefix + "_item_ids.npy")
    rows, columns = positions(user_ids, users), positions(item_ids, items)
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, columns)),
                           shape=(len(user_ids), len(item_ids)))
    model = AlternatingLeastSquares(factors=1, num_threads=threads)
    model.user_factors = np.load(prefix + "_user_factors.npy")
    model.item_factors = np.load(prefix + "_item_factors.npy")
    start = time.time()
    with threadpool_limits(threads, "blas"):
        top, scores = model.recommend(np.arange(len(user_ids)), matrix, N=k,
                                      filter_already_liked_items=True)
    seconds = time.time() - start
    table = np.column_stack((np.repeat(user_ids, k), item_ids[top.ravel()],
                             np.tile(np.arange(1, k + 1), len(user_ids)), scores.ravel()))
    with open(out, "w") as sink:
        sink.write("user_id\titem_id\trank\tscore\n")
        np.savetxt(sink, table, fmt=("%d", "%d", "%d", "%.6g"), delimiter="\t")
    print(json.dumps({"recommend_seconds": round(seconds, 3)}))


def same_sets(a, b):
    tables = [np.loadtxt(path, skiprows=1, usecols=(0, 1), dtype=np.int64, ndmin=2)
              for path in (a, b)]
    sets = []
    for table in tables:
        order = np.lexsort((table[:, 1], table[:, 0]))
        sets.append(table[order])
    if sets[0].shape != sets[1].shape or not np.array_equal(sets[0], sets[1]):
        differ = len(set(map(tuple, sets[0])) ^ set(map(tuple, sets[1])))
        print(json.dumps({"users": int(len(np.unique(sets[0][:, 0]))), "pairs_differing": differ}))
        sys.exit(1)
    print(json.dumps({"users": int(len(np.unique(sets[0][:, 0]))), "same_sets": True}))


def make_synthetic(path, n_users, n_items, n_pairs):
    """Writes about n_pairs distinct user<TAB>item pairs, items drawn with a
    popularity skew (the product of two uniforms), users uniformly."""
    rng = np.random.default_rng(7)
    n_users, n_items, n_pairs = int(n_users), int(n_items), int(n_pairs)
    users = rng.integers(0, n_users, size=int(n_pairs * 1.1))
    items = (n_items * rng.random(len(users)) * rng.random(len(users))).astype(np.int64)
    keys = np.unique(users * n_items + items)[:n_pairs]
    rng.shuffle(keys)
    pairs = np.column_stack((keys // n_items, keys % n_items))
    np.savetxt(path, pairs, fmt="%d", delimiter="\t")


if __name__ == "__main__":
    if sys.argv[1] == "make-synthetic":
        make_synthetic(*sys.argv[2:6])
        sys.exit(0)
    if sys.argv[1] == "ncf":
        ncf(*sys.argv[2:10])
    elif sys.argv[1] == "knn":
        knn(*sys.argv[2:7])
    elif sys.argv[1] == "synthetic":
        synthetic(*sys.argv[2:6])
    elif sys.argv[1] == "recommend":
        recommend(*sys.argv[2:7])
    elif sys.argv[1] == "same-sets":
        same_sets(*sys.argv[2:4])
    else:
        sys.exit(__doc__)
