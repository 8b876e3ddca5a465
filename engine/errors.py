"""Engine errors. The app maps each to a 4xx; the engine itself knows nothing of HTTP.

Every message says what was wrong *and* what is accepted, because it reaches the user as-is.
"""
from __future__ import annotations


class EngineError(Exception):
    """Base class: anything the engine refuses because of its input (never a bug)."""


class SpecError(EngineError, ValueError):
    """A network spec names an unsupported kind/param or its sizes do not divide."""


class DataError(EngineError, ValueError):
    """A data file (MNIST IDX) is missing, truncated or not what it claims to be."""


class BadInput(EngineError, ValueError):
    """An image or array handed to the engine has the wrong shape, type or range."""


class UnknownLayer(EngineError, KeyError):
    """A stage name that the network does not have."""

    def __str__(self) -> str:  # KeyError would repr() the message, adding quotes
        return str(self.args[0]) if self.args else ""


class UnitOutOfRange(EngineError, IndexError):
    """A unit index outside its stage's shape (or with the wrong number of indices)."""


class ModelFileError(EngineError, ValueError):
    """A saved model file is missing, corrupt or incompatible with the engine."""


class ImportRefused(EngineError, ValueError):
    """An ONNX / PyTorch file that cannot become a ConvScope model: an unsupported op or
    structure (named, with its node and what is supported), a weights-only or corrupt file,
    or stages that differ from the source framework beyond float32 tolerance."""
