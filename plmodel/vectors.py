"""A vectorised scenario: flat numpy arrays of equal length in the fields a grid varies point by point
(ranks, batch, prompt tokens, RTT); every other field is one value. The closed form evaluates it at
once (estimate, energy), each point by the same operations as a scenario of its own."""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace

import numpy as np


def as_float(x):
    """A 0-d array or numpy scalar as a Python float (the JSON and tables want floats); an array of a vectorised
    estimate stays an array of floats."""
    a = np.asarray(x, dtype=float)
    return float(a) if a.ndim == 0 else a


def as_bool(x):
    """A truth value as a Python bool, or an array of them (a vectorised estimate)."""
    a = np.asarray(x, dtype=bool)
    return bool(a) if a.ndim == 0 else a


def _remap(scn, counts, seconds):
    """The scenario with `counts` applied to its vector fields that count (ranks, batch, prompt) and
    `seconds` to the RTT."""
    a, ln = scn.adapter, scn.link
    return replace(scn, adapter=replace(a, r_c2d=counts(a.r_c2d), r_d2c=counts(a.r_d2c)), batch=counts(scn.batch),
                   prompt_tokens=counts(scn.prompt_tokens), link=replace(ln, rtt_s=seconds(ln.rtt_s)))


def _cut(obj, idx):
    """`obj` with every array in its fields, nested specs' included, cut at `idx` (rebuilt only where one is)."""
    changes = {}
    for f in fields(obj):
        v = getattr(obj, f.name)
        if isinstance(v, np.ndarray) and v.ndim:
            changes[f.name] = v[idx]
        elif is_dataclass(v) and not isinstance(v, type):
            w = _cut(v, idx)
            if w is not v:
                changes[f.name] = w
    return replace(obj, **changes) if changes else obj


def take(scn, idx):
    """The scenario at the points `idx` (an index array or a mask) of a vectorised one: every array cut, the
    grid's (ranks, batch, prompt, RTT) and the sampled figures' of `--uncertainty` (power, radio, runtimes)."""
    return _cut(scn, idx)


def point(scn, i: int):
    """Point i of a vectorised scenario as a scenario of its own (plain Python numbers)."""
    return _remap(scn, lambda v: int(v[i]) if np.ndim(v) else v, lambda v: float(v[i]) if np.ndim(v) else v)
