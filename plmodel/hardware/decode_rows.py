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

from dataclasses import replace

import numpy as np

from plmodel.curves import Curve


class DecodeRowsSpec(Curve):
    """A decode step of `x[i]` sequences takes `slowdown[i]` times one of a single sequence."""

    BLOCK, KEYS, MOST, FIRST = "decode_batch_slowdown", ("sequences", "slowdown"), 100.0, 1


from_mapping = DecodeRowsSpec.from_mapping


def applies(cloud, step) -> bool:
    """Whether `step` is a decode step of one position a sequence on a cloud engine with a measured curve."""
    return cloud.batched_decode is not None and step.phase == "decode" and step.positions == 1


def apply(pieces, one, curve: DecodeRowsSpec, batch):
    """`pieces` of a decode step of `batch` sequences with the cloud's work scaled by `curve`'s
    ratio over the roofline's own (`one`: the same step's pieces for one sequence); at least 1x."""
    factor = np.maximum(curve.at(batch) / curve.slowdown[0] * one.cloud_layer_s / pieces.cloud_layer_s, 1.0)
    return replace(pieces, cloud_layer_s=pieces.cloud_layer_s * factor,
                   stage_cloud_s=[s * factor for s in pieces.stage_cloud_s])
