"""What the cloud could reconstruct from what it sees, for a scenario: stated plainly, not proved.

The split as published protects nothing against a curious cloud: the embeddings it sends up are rows of a
public table (the prompt, by lookup), the cloud computes the last hidden state (the output, through the
public LM head), and for every adapted projection it sends u = x.A and receives v = u.M, so r_c2d
linearly independent tokens give it M by least squares (the personalisation). designs/exposure.py holds
the model; each design changes it through its `cloud_sees` hook (docs/privacy.md)."""

from __future__ import annotations

from plmodel import design
from plmodel.designs.exposure import NOTHING_LEAVES, WHAT, Exposure, Recovery, of_cloud_only, of_split  # noqa: F401

DEVICE_ONLY = NOTHING_LEAVES


def split_exposure(scn) -> Exposure:
    """What the cloud can recover from the scenario's split, its designs included."""
    return design.exposure(scn, of_split(scn.model, scn.adapter), "split")


def cloud_only_exposure(scn) -> Exposure:
    """What the cloud can recover when it runs the whole model, the scenario's designs included (a TEE)."""
    return design.exposure(scn, of_cloud_only(), "cloud-only")


def fields(exposure: Exposure, prefix: str = "") -> dict:
    """The flat keys of an exposure: the list, a reason a thing and the tokens each needs."""
    out = {f"{prefix}cloud_can_recover": exposure.cloud_can_recover, f"{prefix}privacy_reason": exposure.reason}
    for w in WHAT:
        r = exposure.of(w)
        out[f"{prefix}cloud_can_recover_{w}_tokens"] = None if r is None else r.tokens
    return out


def parse_asked(text: str) -> tuple:
    """'prompt,adapter' -> ('prompt', 'adapter'); 'none' -> (); an unknown name raises ValueError."""
    names = tuple(t.strip().lower() for t in str(text).split(",") if t.strip())
    if names in ((), ("none",)):
        return ()
    bad = [n for n in names if n not in WHAT]
    if bad:
        raise ValueError(f"expected none or a comma-separated list of {', '.join(WHAT)}, got {bad[0]!r}")
    return tuple(w for w in WHAT if w in names)
