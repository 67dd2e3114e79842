"""The GPU time of a batch that mixes sequences: decode tokens at their contexts and prefill chunks.

A batch's composition is five numbers (`Mix`): decode sequences, their summed context, prefill tokens,
the prefill's attention square (sum of chunk x (cached + chunk) tokens, the full square as workload.py
counts it) and prefill sequences that end in this batch (they need logits). Every count of
workload.py is affine in these, so each piece of cloud work (a decoder layer, the A or B of a stage,
the two ends run on the GPU for cloud-only) is stored as coefficients found by evaluating
workload.py at six single-phase steps (solved exactly, checked on a seventh). A batch's
time is then a few multiply-adds, timed by the Core v2 engine (accelerator and host time apart, TP
split and all-reduces as engine.layer_s does), so a one-request batch costs what the closed form says.
"""

from __future__ import annotations

import functools

import numpy as np

from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.hardware.engine import Rates
from plmodel.step import Step
from plmodel.workload import ends_work, layer_work, stage_works

#: The composition of a batch: (decode sequences, summed decode context, prefill tokens,
#: prefill attention square, prefill sequences that end here); the constant term is implicit.
N_FEATURES = 5
#: The single-phase steps the coefficients are read from: (phase, batch, context).
PROBES = (("decode", 1, 1), ("decode", 2, 1), ("decode", 1, 2),
          ("prefill", 1, 1), ("prefill", 1, 2), ("prefill", 1, 3), ("prefill", 2, 1))


def features(phase: str, batch: int, context: int) -> tuple:
    """The Mix of one single-phase step."""
    if phase == "decode":
        return (batch, batch * context, 0, 0, 0)
    return (0, 0, batch * context, batch * context * context, batch)


def fit(work_of) -> tuple:
    """(constant, coefficients) of (flop, bytes) of `work_of(step)` (a Work's cloud or device side),
    solved exactly from the first six probes (integer arithmetic, each coefficient rounded once) and checked
    on the seventh: work not affine in the Mix is refused."""
    rows, (diagonal, inverse) = [(1, *features(*p)) for p in PROBES], _probe_inverse()
    values = [[float(v) for v in work_of(Step(*p))] for p in PROBES]
    coeffs = [[exact_combination(r, d, [v[i] for v in values[:6]]) for i in range(2)] for r, d in zip(inverse, diagonal)]
    check = [sum(c[i] * x for c, x in zip(coeffs, rows[6])) for i in range(2)]
    if any(abs(check[i] - values[6][i]) > abs(values[6][i]) * 1e-9 + 1 for i in range(2)):
        raise PlmodelError("the fleet model needs work affine in the batch's tokens and contexts", field="model")
    return tuple(tuple(c[i] for c in coeffs) for i in range(2))  # ((flop0, ...), (bytes0, ...))


@functools.lru_cache(maxsize=1)
def _probe_inverse() -> tuple:
    """(d, r): the inverse of the first six probes' feature rows (with a constant) is r[i][j] / d[i], by
    Gauss-Jordan on integers."""
    m = [[1, *features(*p)] + [int(i == j) for j in range(6)] for i, p in enumerate(PROBES[:6])]
    for k in range(6):
        pivot = next(r for r in range(k, 6) if m[r][k] != 0)
        m[k], m[pivot] = m[pivot], m[k]
        for i in range(6):
            if i != k and m[i][k]:
                m[i] = [m[k][k] * x - m[i][k] * y for x, y in zip(m[i], m[k])]
    return tuple(m[i][i] for i in range(6)), tuple(tuple(m[i][6:]) for i in range(6))


def exact_combination(weights, d: int, values) -> float:
    """sum(w_j v_j) / d for integer weights and floats v_j, exact and then rounded once (a float is an integer
    over a power of two: over the largest of those powers the sum is an integer)."""
    ratios = [v.as_integer_ratio() for v in values]
    scale = max(q for _, q in ratios)
    return sum(w * p * (scale // q) for w, (p, q) in zip(weights, ratios)) / (d * scale)


@frozen
class Part:
    """One piece of cloud work: FLOP and bytes affine in the Mix, fixed host time, whether a
    tensor-parallel group splits it, and how many all-reduces of the hidden states it ends with."""

    flop: tuple  # (constant, 5 coefficients)
    nbytes: tuple
    layers: float = 0.0  # host: decoder layers
    calls: float = 0.0  # host: launched calls
    split: bool = False  # divided over a tensor-parallel group (the stack and the ends; A and B are not)
    allreduces: int = 0  # a decoder layer: two (after attention and after the MLP)
    per_sequence_bytes: float = 0.0  # A and B per user: read once a sequence in the batch

    def cost(self, r, mix, hidden_bytes_per_token: float) -> tuple:
        """(seconds, accelerator seconds, host seconds) of this part for a batch of composition `mix` on an
        engine's Rates `r` (engine.py's one law, on plain floats: a fleet asks millions of times)."""
        f, b = self.flop, self.nbytes
        flop = f[0] + f[1] * mix[0] + f[2] * mix[1] + f[3] * mix[2] + f[4] * mix[3] + f[5] * mix[4]
        nbytes = b[0] + b[1] * mix[0] + b[2] * mix[1] + b[3] * mix[2] + b[4] * mix[3] + b[5] * mix[4]
        nbytes += self.per_sequence_bytes * (mix[0] + mix[4])
        extra = 0.0
        if self.split and r.gpus > 1:
            flop, nbytes = flop / r.gpus, nbytes / r.gpus
            extra = self.allreduces * r.allreduce_s((mix[0] + mix[2]) * hidden_bytes_per_token)
        accel, host = r.accel_s(flop, nbytes, max, min), r.host_s(self.layers, self.calls)
        return r.combine(accel, host, max, min) + extra, accel, host


def rates(engine) -> Rates:
    """The Rates of an Engine: the engine's one law, which `Part.cost` runs on plain floats."""
    return engine.rates


def _cloud(w):
    return np.array([w.cloud_flop, w.cloud_bytes], dtype=float)


def _ends_on_gpu(w):
    return np.array([w.device_flop, w.device_bytes], dtype=float)


def layer_part(scn) -> Part:
    """A decoder layer without adapters (cloud weights and activations at the adapter's bits)."""
    return _layer_part(scn.model, scn.adapter.cloud_weight_bits, scn.adapter.act_bits)


@functools.lru_cache(maxsize=64)
def _layer_part(model, weight_bits, act_bits) -> Part:
    flop, nbytes = fit(lambda s: _cloud(layer_work(model, s, weight_bits, act_bits)))
    return Part(flop, nbytes, layers=1.0, split=True, allreduces=2)


def stage_parts(scn, per_user_adapters: bool = False) -> list:
    """A and B of each stage of an adapted layer, one Part a stage; `per_user_adapters`: every user
    has their own A and B, so their weight bytes are read once a sequence, not once a batch."""
    return list(_stage_parts(scn.model, scn.adapter, per_user_adapters))


@functools.lru_cache(maxsize=256)
def _stage_parts(model, adapter, per_user_adapters: bool) -> tuple:
    parts = []
    for k in range(len(stage_works(model, adapter, Step("decode")))):
        flop, nbytes = fit(lambda s, k=k: _cloud(stage_works(model, adapter, s)[k]))
        weights = stage_works(model, adapter, Step("decode"))[k].cloud_weight_bytes
        if per_user_adapters:
            nbytes = (nbytes[0] - weights, *nbytes[1:])
        parts.append(Part(flop, nbytes, calls=1.0, per_sequence_bytes=weights if per_user_adapters else 0.0))
    return tuple(parts)


def ends_part(scn) -> Part:
    """Embedding and LM head run on the GPU (cloud-only serving), split over the group like the stack."""
    return _ends_part(scn.model, scn.adapter.cloud_weight_bits, scn.adapter.act_bits)


@functools.lru_cache(maxsize=64)
def _ends_part(model, weight_bits, act_bits) -> Part:
    flop, nbytes = fit(lambda s: _ends_on_gpu(ends_work(model, s, weight_bits, act_bits)))
    return Part(flop, nbytes, calls=1.0, split=True)


def parts_cost(parts, r, mix, hidden_bytes_per_token: float) -> tuple:
    """(seconds, accelerator seconds, host seconds) of [(Part, share)] for a batch of composition `mix`."""
    total = accel = host = 0.0
    for part, share in parts:
        t, a, h = part.cost(r, mix, hidden_bytes_per_token)
        total, accel, host = total + share * t, accel + share * a, host + share * h
    return total, accel, host


def batch_cost(parts, r, mix, hidden_bytes_per_token: float, runtime, sequences: float) -> tuple:
    """(seconds, accelerator seconds, host seconds) of a serving batch of `sequences` sequences: its parts on the
    GPU (parts_cost) and the runtime's serving host time, an iteration's and a sequence's (scheduling, sampling)."""
    total, accel, host = parts_cost(parts, r, mix, hidden_bytes_per_token)
    extra = runtime.iteration_host_s + runtime.sequence_host_s * sequences
    return total + extra, accel, host + extra


def mix_of(decode: int = 0, context: int = 0, prefill: int = 0, square: int = 0, ending: int = 0) -> list:
    """A Mix as a list (the servers add members' features into it in place)."""
    return [decode, context, prefill, square, ending]
