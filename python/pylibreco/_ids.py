"""External ids, integer or text, through the C id maps: one lookup serves
datasets and models (their C calls differ only in the handle's type)."""
import ctypes

from ._native import ID_TEXT_MAX, check, lib
from .errors import StateError


class IdMap:
    """The four lookups of a dataset ("dataset") or a model ("model")."""

    def __init__(self, family):
        self._calls = {kind: (getattr(lib, f"reco_{family}_{kind}_id"),
                              getattr(lib, f"reco_{family}_{kind}_id_text"),
                              getattr(lib, f"reco_{family}_{kind}_index"),
                              getattr(lib, f"reco_{family}_{kind}_index_of_text"))
                       for kind in ("user", "item")}

    def external(self, handle, kind, index):
        """The id of an index: an int for an integer id, else its str."""
        as_int, as_text, _, _ = self._calls[kind]
        value = ctypes.c_int64()
        try:
            check(as_int(handle, int(index), ctypes.byref(value)))
            return value.value
        except StateError:  # a text id
            buffer = ctypes.create_string_buffer(ID_TEXT_MAX)
            check(as_text(handle, int(index), buffer, ID_TEXT_MAX))
            return buffer.value.decode("utf-8")

    def index(self, handle, kind, external):
        """The index of an id (int, or any other value by its str)."""
        _, _, of_int, of_text = self._calls[kind]
        value = ctypes.c_int32()
        if hasattr(external, "__index__") and not isinstance(external, (str, bytes)):
            if of_int(handle, int(external), ctypes.byref(value)) == 0:
                return value.value
            external = int(external)  # a vocabulary of text ids holds it as its digits
        elif isinstance(external, bytes):
            external = external.decode("utf-8")
        check(of_text(handle, str(external).encode("utf-8"), ctypes.byref(value)))
        return value.value


DATASET = IdMap("dataset")
MODEL = IdMap("model")
