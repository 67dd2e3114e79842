"""Accountings: how a step's time is counted. One is chosen once per scenario (its `mode`) and asked
for a step's pieces and time; a new accounting is one module here plus a line in ACCOUNTINGS."""

from __future__ import annotations

from plmodel.accounting.base import Accounting, Pieces, StepTime
from plmodel.accounting.paper import PaperAccounting
from plmodel.accounting.realistic import RealisticAccounting
from plmodel.errors import PlmodelError

ACCOUNTINGS = {a.name: a for a in (PaperAccounting(), RealisticAccounting())}


def of(scn) -> Accounting:
    """The accounting a scenario's mode names."""
    if scn.mode not in ACCOUNTINGS:
        raise PlmodelError(f"must be one of {', '.join(ACCOUNTINGS)}, got {scn.mode!r}", field="mode")
    return ACCOUNTINGS[scn.mode]


def realistic() -> Accounting:
    """The realistic accounting, whatever a scenario's mode (latency probes, break-even RTT)."""
    return ACCOUNTINGS["realistic"]


__all__ = ["ACCOUNTINGS", "Accounting", "Pieces", "StepTime", "of", "realistic"]
