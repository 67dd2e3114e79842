"""A vectorised scenario: flat numpy arrays of equal length in the fields a grid varies point by point
(ranks, batch, prompt tokens, RTT); every other field is one value. The closed form evaluates it at
once (estimate, energy), each point by the same operations as a scenario of its own."""

from __future__ import annotations

from dataclasses import replace

import numpy as np


def take(scn, idx):
    """The scenario at the points `idx` (an index array or a mask) of a vectorised one."""
    def cut(v):
        return v[idx] if np.ndim(v) else v

    a, ln = scn.adapter, scn.link
    return replace(scn, adapter=replace(a, r_c2d=cut(a.r_c2d), r_d2c=cut(a.r_d2c)), batch=cut(scn.batch),
                   prompt_tokens=cut(scn.prompt_tokens), link=replace(ln, rtt_s=cut(ln.rtt_s)))
