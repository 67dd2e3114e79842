"""Batched decode on a CPU: what a decode step of b sequences costs against one of a single sequence.

The roofline prices a decode step of a few sequences like one (the weights are read once; the FLOPs
are far below the machine's). On a CPU's one thread the kernels do not: a matrix product of 2 or 3
rows takes a slower path than a single row's (measured with the reference stack here: 1.35x at 2
sequences, 1.55x at 3, ~1.6x at 4, ~1.8x at 8). A profile can carry the measured curve (`plmodel
calibrate` writes it); the realistic accounting then scales the cloud's decode work of b sequences
to the curve's ratio over the roofline's own. Profiles without it (every shipped GPU and phone) keep
the roofline.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .errors import PlmodelError

KEYS = ("sequences", "slowdown")


@dataclass(frozen=True)
class DecodeRowsSpec:
    """A decode step of `sequences[i]` sequences takes `slowdown[i]` times one of a single sequence
    (linear between the points, the last value beyond them)."""

    sequences: tuple
    slowdown: tuple
    source: str = ""

    def __post_init__(self):
        if not self.sequences or len(self.sequences) != len(self.slowdown) or self.sequences[0] != 1:
            raise PlmodelError("expected sequences and slowdown lists of the same length, starting at 1 sequence",
                               field="decode_batch_slowdown")
        if any(b <= a for a, b in zip(self.sequences, self.sequences[1:])):
            raise PlmodelError(f"sequences: expected increasing counts, got {list(self.sequences)}",
                               field="decode_batch_slowdown")
        if not all(0.5 <= s <= 100.0 for s in self.slowdown):
            raise PlmodelError(f"slowdown: expected factors from 0.5 to 100, got {list(self.slowdown)}",
                               field="decode_batch_slowdown")

    def at(self, sequences):
        return np.interp(sequences, self.sequences, self.slowdown)


def from_mapping(data, src: str) -> DecodeRowsSpec | None:
    """A profile's `decode_batch_slowdown:` block, or None."""
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) != set(KEYS):
        raise PlmodelError('field "decode_batch_slowdown": expected a mapping with sequences and slowdown lists', src)
    lists = []
    for key in KEYS:
        v = data[key]
        if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            raise PlmodelError(f'field "decode_batch_slowdown.{key}": expected a list of numbers, got {v!r}', src)
        lists.append(tuple(float(x) for x in v))
    try:
        return DecodeRowsSpec(*lists, src)
    except PlmodelError as exc:
        raise PlmodelError(f'field "decode_batch_slowdown": {exc.message}', src) from None


def apply(pieces, one, cloud_hw, step):
    """`pieces` of a decode step of `step.batch` sequences with the cloud's work scaled by the measured
    ratio over the roofline's own (`one`: the same step's pieces for one sequence); at least 1x."""
    curve = cloud_hw.decode_rows
    if curve is None or step.phase != "decode" or step.positions != 1:
        return pieces
    factor = np.maximum(curve.at(step.batch) / curve.slowdown[0] * one.cloud_layer_s / pieces.cloud_layer_s, 1.0)
    return replace(pieces, cloud_layer_s=pieces.cloud_layer_s * factor,
                   stage_cloud_s=[s * factor for s in pieces.stage_cloud_s])
