"""The load axes of a sweep - users, arrival, rate, tpot_ms, ttft_ms, the split server's policy, the
cloud-only server's scheduler and the replica's GPUs (gpus_per_replica: auto, each server's size with the
lowest cost a token as `capacity` chooses it, or 1, 2, 4, 8) -
that the simulation and fleet engines serve (the analytical engine serves none), validated into Loads."""

from __future__ import annotations

import itertools

from plmodel.errors import PlmodelError
from plmodel.fleet.cloud_only import SCHEDULERS
from plmodel.fleet.policies import POLICIES
from plmodel.fleet.replicas import CHOICES
from plmodel.frozen import frozen
from plmodel.specs import SIM_LIMITS

LOAD_AXES = {"users": [1], "arrival": ["closed"], "rate": [None], "tpot_ms": [None], "ttft_ms": [None],
             "policy": ["cohort"], "scheduler": ["prefill-first"], "gpus_per_replica": ["auto"]}
ARRIVALS = ("closed", "poisson")


@frozen
class Load:
    """What a point serves: `users` at once (closed) or Poisson arrivals at `rate_per_s`, and the SLOs its
    goodput counts against (fleet engine)."""

    users: int = 1
    arrival: str = "closed"
    rate_per_s: float | None = None
    tpot_s: float | None = None
    ttft_s: float | None = None
    policy: str = "cohort"  # the fleet's split batching policy (fleet/policies.py)
    scheduler: str = "prefill-first"  # the fleet's cloud-only scheduler (fleet/cloud_only.py)
    gpus_per_replica: str = "auto"  # the replica's GPUs, each server's: auto (as capacity: fleet/replicas.py) or 1-8


def _numbers(values: list, key: str, src: str) -> list:
    for v in values:
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < float("inf")):
            raise PlmodelError(f'field "{key}": expected positive numbers (or null), got {v!r}', src)
    return values


#: The fleet's own choices a sweep may vary: key -> (the choices, the only value other engines take, what they lack).
FLEET_CHOICES = {"policy": (tuple(POLICIES), "cohort", "batches with a policy"),
                 "scheduler": (tuple(SCHEDULERS), "prefill-first", "schedules a cloud-only server"),
                 "gpus_per_replica": (CHOICES, "auto", "sizes a replica")}


def _fleet_choice(key: str, values: list, engine: str, src: str) -> list:
    """The values of a fleet choice, each one of its choices; other engines take only its default."""
    choices, default, what = FLEET_CHOICES[key]
    for v in values:
        if v not in choices:
            raise PlmodelError(f'field "{key}": expected one of {", ".join(choices)}, got {v!r}', src)
    if engine != "fleet" and values != [default]:
        raise PlmodelError(f'field "{key}": only the fleet engine {what}', src)
    return values


def load_values(axes: dict, engine: str, src: str, as_list) -> list:
    """[Load] of a grid: the product of its load axes (a closed loop ignores the rate), checked against the
    engine that serves them."""
    users = as_list(axes, "users", src)
    for u in users:
        if isinstance(u, bool) or not isinstance(u, int) or not 1 <= u <= SIM_LIMITS["users"]:
            raise PlmodelError(f'field "users": expected integers from 1 to {SIM_LIMITS["users"]:,}, got {u!r}', src)
    arrivals = as_list(axes, "arrival", src)
    for a in arrivals:
        if a not in ARRIVALS:
            raise PlmodelError(f'field "arrival": expected closed or poisson, got {a!r}', src)
    rates, tpots, ttfts = (_numbers(as_list(axes, k, src), k, src) for k in ("rate", "tpot_ms", "ttft_ms"))
    varying = [k for k, v in (("users", users), ("arrival", arrivals), ("rate", rates)) if len(v) > 1]
    if engine == "analytical" and (varying or users != [1] or arrivals != ["closed"] or rates != [None]):
        key = (varying or ["users" if users != [1] else "arrival" if arrivals != ["closed"] else "rate"])[0]
        raise PlmodelError(f'field "{key}": the analytical engine serves no load; set engine to simulation or fleet', src)
    if engine != "fleet" and (tpots != [None] or ttfts != [None]):
        raise PlmodelError('field "tpot_ms"/"ttft_ms": only the fleet engine counts goodput against an SLO', src)
    policies = _fleet_choice("policy", as_list(axes, "policy", src), engine, src)
    schedulers = _fleet_choice("scheduler", as_list(axes, "scheduler", src), engine, src)
    sizes = _fleet_choice("gpus_per_replica", [str(v) for v in as_list(axes, "gpus_per_replica", src)], engine, src)
    out = {}
    for u, a, r, tp, tt, pol, sch, gpr in itertools.product(users, arrivals, rates, tpots, ttfts, policies, schedulers,
                                                            sizes):
        if a == "poisson" and r is None:
            raise PlmodelError('field "rate": a Poisson arrival needs a rate (requests a second)', src)
        load = Load(u, a, None if a == "closed" else float(r), None if tp is None else tp / 1e3,
                    None if tt is None else tt / 1e3, pol, sch, gpr)
        out.setdefault(load, load)
    return list(out)
