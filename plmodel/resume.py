"""Compute after a wait: how much slower a machine runs a piece of work that follows a wait for its peer.

In a split step every adapter stage ends in a round trip, so the cloud's next layer and the device's
next M start after the core has waited RTT for the other side. On a CPU (the testbed's) that work runs
slower than back to back: its caches, TLB and predictors have gone cold and other tenants have taken
the shared cache (measured on this 2-core VM: a d = 512 layer 1.25x as long after a socket round trip
with no delay, ~1.7x after 12-20 ms). A profile can carry the measured curve (`plmodel calibrate`
writes it); the realistic accounting then multiplies the work after each wait by the slowdown at the
link's RTT. Profiles without it (every shipped GPU and phone: no published figure) run as measured
back to back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import PlmodelError
from .units import MS

#: The YAML block: `resume_after_wait: {wait_ms: [...], slowdown: [...]}`.
KEYS = ("wait_ms", "slowdown")


@dataclass(frozen=True)
class ResumeSpec:
    """The slowdown of work that follows a wait of `wait_s[i]` for the peer, against back to back
    (linear between the points, the end values beyond them)."""

    wait_s: tuple
    slowdown: tuple
    source: str = ""

    def __post_init__(self):
        if not self.wait_s or len(self.wait_s) != len(self.slowdown):
            raise PlmodelError("expected wait_ms and slowdown lists of the same length, at least one point",
                               field="resume_after_wait")
        if not all(np.isfinite(self.wait_s)) or any(b <= a for a, b in zip(self.wait_s, self.wait_s[1:])) \
                or self.wait_s[0] < 0:
            raise PlmodelError(f"wait_ms: expected increasing waits >= 0, got {[w / MS for w in self.wait_s]}",
                               field="resume_after_wait")
        if not all(0.5 <= s <= 10.0 for s in self.slowdown):
            raise PlmodelError(f"slowdown: expected factors from 0.5 to 10, got {list(self.slowdown)}",
                               field="resume_after_wait")

    def at(self, wait_s):
        """The slowdown after a wait of `wait_s` (s; a number or an array)."""
        return np.interp(wait_s, self.wait_s, self.slowdown)


def slowdown(hw, wait_s):
    """`hw`'s slowdown of work after a wait of `wait_s`; 1 where its profile has no curve."""
    return 1.0 if hw.resume is None else hw.resume.at(wait_s)


def from_mapping(data, src: str) -> ResumeSpec | None:
    """A profile's `resume_after_wait:` block, or None."""
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) != set(KEYS):
        raise PlmodelError('field "resume_after_wait": expected a mapping with wait_ms and slowdown lists', src)
    lists = []
    for key in KEYS:
        v = data[key]
        if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            raise PlmodelError(f'field "resume_after_wait.{key}": expected a list of numbers, got {v!r}', src)
        lists.append(tuple(float(x) for x in v))
    try:
        return ResumeSpec(tuple(w * MS for w in lists[0]), lists[1], src)
    except PlmodelError as exc:
        raise PlmodelError(f'field "resume_after_wait": {exc.message}', src) from None


def apply(pieces, cloud_hw, device_hw, wait_s):
    """`pieces` with the work after each wait slowed: a stage's cloud side carries its layer's share
    after the round trip (B, the rest of the layer) and the device's M and ends follow a wait."""
    fc, fd = slowdown(cloud_hw, wait_s), slowdown(device_hw, wait_s)
    if cloud_hw.resume is None and device_hw.resume is None:
        return pieces
    from dataclasses import replace

    n_st = max(len(pieces.stage_cloud_s), 1)
    share = pieces.cloud_layer_s / n_st
    return replace(pieces, stage_cloud_s=[s + (fc - 1) * (share + s) for s in pieces.stage_cloud_s],
                   stage_device_s=[s * fd for s in pieces.stage_device_s], device_ends_s=pieces.device_ends_s * fd)
