"""The record of one forward pass: every stage's values, in order, by name.

The Trace is the one source of truth for intermediate values: the API serialises it, the
views draw it, and `explain` reads it instead of recomputing anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from engine.errors import UnknownLayer


class StageRecord(NamedTuple):
    """One stage's output. `shape` is per image; `values` has that shape for a one-image
    trace, and a leading batch axis (N, *shape) for a batch trace. (A NamedTuple: 14 of them
    are made per forward pass, and a frozen dataclass costs ~1 µs more each.)"""
    name: str
    kind: str
    shape: tuple
    params: dict
    values: np.ndarray


@dataclass(slots=True)
class Trace:
    records: list                      # StageRecord, `input` first, output stage last
    batched: bool = False
    _index: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._index = {r.name: r for r in self.records}

    def __getitem__(self, name: str) -> StageRecord:
        try:
            return self._index[name]
        except KeyError:
            raise UnknownLayer(f"unknown layer {name!r}; valid names: "
                               f"{', '.join(self._index)}") from None

    def __contains__(self, name) -> bool:
        return name in self._index

    def __iter__(self):
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def names(self) -> list[str]:
        return list(self._index)

    @property
    def probabilities(self) -> np.ndarray:
        """The last stage's values when it is a softmax: (K,) for one image, (N, K) for a
        batch. A model without a final softmax (an imported one may end on its logits) gets
        the softmax of its last stage, so `probabilities` always means probabilities."""
        last = self.records[-1]
        if last.kind == "softmax":
            return last.values
        e = np.exp(last.values - last.values.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    @property
    def prediction(self):
        """Index of the most probable class: an int for one image, (N,) ints for a batch."""
        p = self.probabilities
        return p.argmax(axis=-1) if self.batched else int(p.argmax())
