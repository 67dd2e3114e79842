"""Compute after a wait: how much slower a machine runs a piece of work that follows a wait for its peer.

In a split step every adapter stage ends in a round trip, so the cloud's next layer and the device's
next M start after the core has waited RTT for the other side. On a CPU (the testbed's) that work runs
slower than back to back: its caches, TLB and predictors have gone cold and other tenants have taken
the shared cache (measured on this 2-core VM: a d = 512 layer 1.01-1.05x as long after a socket round
trip with no delay, 1.1-1.2x after 3 ms, 1.35-1.4x after 10-20 ms). A profile can carry the measured
curve (`plmodel calibrate` writes it); the realistic accounting then multiplies the work after each
wait by the slowdown at the link's RTT. Profiles without it (every shipped GPU and phone: no published figure) run as measured
back to back.
"""

from __future__ import annotations

from dataclasses import replace

from plmodel.curves import Curve
from plmodel.units import MS


class ResumeSpec(Curve):
    """The slowdown of work that follows a wait of `x[i]` seconds for the peer, against back to back."""

    BLOCK, KEYS, SCALE = "resume_after_wait", ("wait_ms", "slowdown"), MS


def slowdown(hw, wait_s):
    """`hw`'s slowdown of work after a wait of `wait_s`; 1 where its profile has no curve."""
    return 1.0 if hw.resume is None else hw.resume.at(wait_s)


from_mapping = ResumeSpec.from_mapping


def apply(pieces, cloud, device, wait_s):
    """`pieces` with the work after each wait slowed on the `cloud` and `device` engines (each one's
    `slowdown_after_wait`): a stage's cloud side carries its layer's share after the round trip (B, the rest
    of the layer) and the device's M and ends follow a wait."""
    if cloud.hw.resume is None and device.hw.resume is None:
        return pieces
    fc, fd = cloud.slowdown_after_wait(wait_s), device.slowdown_after_wait(wait_s)
    n_st = max(len(pieces.stage_cloud_s), 1)
    share = pieces.cloud_layer_s / n_st
    return replace(pieces, stage_cloud_s=[s + (fc - 1) * (share + s) for s in pieces.stage_cloud_s],
                   stage_device_s=[s * fd for s in pieces.stage_device_s], device_ends_s=pieces.device_ends_s * fd)
