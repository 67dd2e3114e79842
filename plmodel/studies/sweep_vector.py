"""Analytical sweeps on the vectorised path: a grid's points as a few vectorised scenarios (vectors.py) -
for each value of the other axes, the ranks, batch sizes, prompt lengths and RTTs as flat arrays - each
estimated at once. A block's points that need different numbers of cloud GPUs are estimated apart (the
engine's group is one number). The records equal the per-point path's (records.task_records) value for
value, in the same order; points the closed form cannot take as arrays (a pipelined prefill cuts a
prompt of one length) go point by point.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from plmodel.analysis.estimate import estimate
from plmodel.frozen import frozen
from plmodel.hardware.feasibility import point_gpus
from plmodel.studies.records import phase_records, task_records
from plmodel.studies.tables import FIRST
from plmodel.studies.tasks import ORDER, Task
from plmodel.units import MS
from plmodel.vectors import point, take

#: The axes that become arrays; the others are one value a block.
VECTOR = ("ranks", "batches", "prompts", "rtts")
#: Input columns the arrays carry as floats, written as integers.
INTEGER_COLUMNS = ("rank_c2d", "rank_d2c", "batch", "prompt_tokens")


@frozen
class Block:
    """A vectorised scenario and, for each of its points, its position among the grid's points."""

    scenario: object
    order: np.ndarray
    targets: str
    phases: tuple
    engine: str = "analytical"


def blocks(grid):
    """The grid's points as Blocks (every scenario validated as it is built; errors name the sweep key)."""

    values = grid.values
    sizes = [len(values[k]) for k in ORDER]
    strides = dict(zip(ORDER, np.cumprod([1] + sizes[::-1])[::-1][1:], strict=True))
    idx = dict(zip(VECTOR, (a.ravel() for a in np.meshgrid(*(np.arange(len(values[k])) for k in VECTOR),
                                                             indexing="ij")), strict=True))
    pairs = np.array(values["ranks"], dtype=float)[idx["ranks"]]
    arrays = {"ranks": (pairs[:, 0], pairs[:, 1]), "batches": np.array(values["batches"], dtype=float)[idx["batches"]],
              "prompts": np.array(values["prompts"], dtype=float)[idx["prompts"]]}
    rtt_ms = np.array([np.nan if r is None else r for r in values["rtts"]], dtype=float)[idx["rtts"]]
    base = sum(idx[k] * strides[k] for k in VECTOR)
    others = [k for k in ORDER if k not in VECTOR]
    for combo in itertools.product(*(range(len(values[k])) for k in others)):
        point = {k: values[k][i] for k, i in zip(others, combo, strict=True)}
        link = point["network"]
        point.update(arrays, rtts=None, network=_with_rtt(link, rtt_ms))
        order = base + sum(i * strides[k] for k, i in zip(others, combo, strict=True))
        yield Block(grid.scenario(point), order, point["targets"], tuple(values["phases"]), grid.settings["engine"])


def _with_rtt(link, rtt_ms):
    """The link with an RTT a point: the axis's (ms), or the profile's where the axis says None."""
    from dataclasses import replace

    return replace(link, rtt_s=np.where(np.isnan(rtt_ms), link.rtt_s, rtt_ms * MS))


def block_records(block: Block) -> list:
    """[(rows, record)] of a block's points: a record a phase (arrays over the points, or one value for all),
    and the positions of its rows among the grid's (point x phases + phase)."""

    scn, n_phases, out = block.scenario, len(block.phases), []
    if not all(d.vectorised for d in scn.designs):  # point by point
        for i in range(len(block.order)):
            recs = task_records(Task(point(scn, i), block.phases, block.targets, block.engine, 0, 1, 0))
            out += [(np.array([block.order[i] * n_phases + p]), rec) for p, rec in enumerate(recs)]
        return out
    gpus = point_gpus(scn)
    for g in np.unique(gpus):
        at = np.flatnonzero(gpus == g)
        sub = take(scn, at)
        out += [(block.order[at] * n_phases + p, rec)
                for p, rec in enumerate(phase_records(sub, estimate(sub, with_cost=False), block))]
    return out


def sweep_frame(cfg, progress=None) -> pd.DataFrame:
    """Every record of an analytical sweep, in the per-point path's order and columns: each column filled
    at its rows' positions from every block."""

    parts, offset = [], 0
    for grid in cfg.grids:
        phases = len(grid.values["phases"])
        for block in blocks(grid):
            parts += [(rows + offset * phases, rec) for rows, rec in block_records(block)]
            if progress:
                progress(len(block.order))
        offset += grid.size
    n = sum(len(rows) for rows, _ in parts)
    columns, keys = {}, list(parts[0][1])
    for key in [c for c in FIRST if c in keys] + [c for c in keys if c not in FIRST]:  # as tables.to_frame orders
        values = [rec[key] for _, rec in parts]
        numeric = all(isinstance(v, (np.ndarray, np.number, int, float)) and not isinstance(v, str) for v in values)
        col = np.empty(n, dtype=np.result_type(*values) if numeric else object)
        for (rows, _), v in zip(parts, values, strict=True):
            col[rows] = v
        columns[key] = col.astype("int64") if key in INTEGER_COLUMNS else col
    return pd.DataFrame(columns).infer_objects()
