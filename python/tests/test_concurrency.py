import ctypes
import sys
import threading

import numpy as np

import pylibreco
from pylibreco import _native as native


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


def _counted_during(call):
    """How far a Python thread counts while `call` runs in this thread."""
    counted = [0]
    running, done = threading.Event(), threading.Event()

    def count():
        running.set()
        while not done.is_set():
            counted[0] += 1

    counter = threading.Thread(target=count)
    counter.start()
    running.wait()
    before = counted[0]
    call()
    after = counted[0]
    done.set()
    counter.join()
    return after - before


class _EpochRunner:
    """GMF epochs on `train` through `library`'s reco_* functions (for a
    ctypes.PyDLL, which holds the GIL throughout each call)."""

    _PROTOTYPES = [
        ("reco_backend_open", ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]),
        ("reco_backend_free", None, [ctypes.c_void_p]),
        ("reco_model_new", ctypes.c_int, [ctypes.c_int, ctypes.c_size_t, ctypes.c_size_t,
                                          ctypes.POINTER(ctypes.c_void_p)]),
        ("reco_model_init", ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64]),
        ("reco_model_free", None, [ctypes.c_void_p]),
        ("reco_trainer_new", ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]),
        ("reco_trainer_free", None, [ctypes.c_void_p]),
        ("reco_trainer_epoch", ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p,
                                              ctypes.c_void_p]),
    ]

    def __init__(self, library, train):
        for name, result, arguments in self._PROTOTYPES:
            function = getattr(library, name)
            function.restype, function.argtypes = result, arguments
        self.lib, self.train = library, train
        self.backend, self.model, self.trainer = (ctypes.c_void_p(), ctypes.c_void_p(),
                                                  ctypes.c_void_p())
        assert library.reco_backend_open(b"cpu", ctypes.byref(self.backend)) == 0
        assert library.reco_model_new(pylibreco.models.KINDS["gmf"], train.n_users, train.n_items,
                                      ctypes.byref(self.model)) == 0
        assert library.reco_model_init(self.model, self.backend, 7) == 0
        assert library.reco_trainer_new(self.model, ctypes.byref(self.trainer)) == 0

    def epoch(self):
        assert self.lib.reco_trainer_epoch(self.trainer, self.train._handle, None) == 0

    def free(self):
        self.lib.reco_trainer_free(self.trainer)
        self.lib.reco_model_free(self.model)
        self.lib.reco_backend_free(self.backend)


def test_other_threads_run_while_libreco_trains(ncf_split):
    """The package's calls release the GIL: a Python thread keeps counting
    through its GMF epoch, where it stops dead when the same epoch is called
    with the GIL held (the baseline: a ctypes.PyDLL of the same library)."""
    data, train, test = ncf_split
    held = _EpochRunner(ctypes.PyDLL(native.lib._name), train)
    # the counter may run for one switch interval either side of a held
    # call: keep that short beside an epoch (a quarter second)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        counted_held = _counted_during(held.epoch)
        counted_released = _counted_during(lambda: pylibreco.GMF().fit(train, epochs=1))
    finally:
        sys.setswitchinterval(interval)
        held.free()
    # with the GIL held both would be of one size: here tens of times apart
    assert counted_released > 1000 and counted_released > 5 * counted_held, \
        (counted_released, counted_held)
