import threading

import numpy as np

import libreco


def test_recommend_from_several_threads(ncf_split, trained):
    data, train, test = ncf_split
    users = list(range(0, 400, 7))
    expected = {user: trained.recommend(user, k=10) for user in users}
    mismatches, errors = [], []

    def serve(offset):
        try:
            for user in users[offset::4]:
                items, scores = trained.recommend(user, k=10)
                if not (np.array_equal(items, expected[user][0]) and
                        np.array_equal(scores, expected[user][1])):
                    mismatches.append(user)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and not mismatches


def test_other_threads_run_while_libreco_trains(ncf_split):
    """ctypes releases the GIL during C calls: a Python thread keeps counting."""
    data, train, test = ncf_split
    counted = [0]
    done = threading.Event()

    def count():
        while not done.is_set():
            counted[0] += 1

    counter = threading.Thread(target=count)
    counter.start()
    libreco.GMF().fit(train, epochs=2)
    done.set()
    counter.join()
    assert counted[0] > 1000
