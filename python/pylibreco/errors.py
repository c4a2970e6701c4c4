"""Exceptions: one class per libreco status, all under RecoError.

Every call that returns a status other than RECO_OK raises the class of that
status; its message is reco_last_error() of the calling thread (for example
"ratings.dat:12: field 3 (rating): expected a number, got 'x'").
"""


class RecoError(Exception):
    """A libreco call failed; ``status`` is the C status code."""

    status = None


class InvalidArgument(RecoError, ValueError):
    status = 1


class OutOfMemory(RecoError, MemoryError):
    status = 2


class IOFailure(RecoError, OSError):
    status = 3


class ParseError(RecoError, ValueError):
    status = 4


class FormatError(RecoError, ValueError):
    status = 5


class OutOfRange(RecoError, IndexError):
    status = 6


class BackendUnavailable(RecoError):
    status = 7


class BackendError(RecoError):
    status = 8


class StateError(RecoError):
    status = 9


class Interrupted(RecoError):
    status = 10


BY_STATUS = {cls.status: cls for cls in (
    InvalidArgument, OutOfMemory, IOFailure, ParseError, FormatError, OutOfRange,
    BackendUnavailable, BackendError, StateError, Interrupted)}
