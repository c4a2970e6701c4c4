"""Backends: where a model's memory and math live ("cpu", "cuda", "auto")."""
import ctypes

from ._native import check, lib, text


class Backend:
    """An opened backend. ``threads`` is shared by every model on it
    (None: the process's CPU budget, see docs/embedding.md)."""

    def __init__(self, name="auto", threads=None):
        self._handle = ctypes.c_void_p()
        check(lib.reco_backend_open(text(name), ctypes.byref(self._handle)))
        if threads is not None:
            self.threads = threads

    def __del__(self):
        if getattr(self, "_handle", None):
            lib.reco_backend_free(self._handle)
            self._handle = None

    @property
    def name(self):
        return lib.reco_backend_name(self._handle).decode()

    @property
    def threads(self):
        return lib.reco_backend_threads(self._handle)

    @property
    def description(self):
        """What the backend computes with, as reco_backend_describe says it:
        the CPU's threads and BLIS kernels (and why those), or the GPU."""
        line = ctypes.create_string_buffer(256)
        check(lib.reco_backend_describe(self._handle, line, len(line)))
        return line.value.decode()

    @threads.setter
    def threads(self, count):
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise TypeError(f"threads: expected an int >= 0 (0: the default), got {count!r}")
        check(lib.reco_backend_set_threads(self._handle, count))

    def __repr__(self):
        return f"Backend({self.name!r}, threads={self.threads})"


_default = None


def default_backend():
    """The backend models use when none is given: "auto", opened once."""
    global _default
    if _default is None:
        _default = Backend("auto")
    return _default
