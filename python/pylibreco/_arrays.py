"""numpy in and out: checked conversions of arguments, read-only views of C
memory that keep their owner alive."""
import ctypes

import numpy as np


def one_dimensional(values, name, dtype, kind_check, expected):
    """values as a contiguous 1-D array of `dtype`, refused (TypeError or
    ValueError) when it is not of the expected kind or shape."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {array.shape}")
    if array.size and not kind_check(array):
        raise TypeError(f"{name}: expected {expected}, got an array of {array.dtype}")
    return np.ascontiguousarray(array, dtype=dtype)


def integer_ids(values, name):
    """External ids: an integer array (any width, signed or not) of ids >= 0."""
    array = one_dimensional(
        values, name, np.int64, lambda a: a.dtype.kind in "iu",
        "integer ids (or text ids: strings, any hashable objects)")
    if array.size and array.min() < 0:
        raise ValueError(f"{name}: ids must be >= 0, got {array.min()}")
    return array


def indices(values, name):
    """Dense indices (int32), as the datasets and models number users and items."""
    array = one_dimensional(values, name, np.int64, lambda a: a.dtype.kind in "iu",
                            "integer indices")
    if array.size and (array.min() < 0 or array.max() > np.iinfo(np.int32).max):
        raise ValueError(f"{name}: indices must be in [0, 2^31)")
    return array.astype(np.int32)


def floats(values, name):
    return one_dimensional(values, name, np.float32, lambda a: a.dtype.kind in "iuf",
                           "numbers")


def pointer(array, ctype):
    """A ctypes pointer to a contiguous array (None for None)."""
    if array is None:
        return None
    return array.ctypes.data_as(ctypes.POINTER(ctype))


def view(address, count, ctype, owner):
    """A read-only numpy array over `count` C values at `address`, holding a
    reference to `owner` (whose memory it is) for as long as it lives."""
    if not address or count == 0:
        empty = np.empty(0, dtype=np.dtype(ctype))
        empty.flags.writeable = False
        return empty
    buffer = (ctype * count).from_address(ctypes.addressof(address.contents))
    buffer._owner = owner
    array = np.frombuffer(buffer, dtype=np.dtype(ctype))
    array.flags.writeable = False
    return array
