"""Build and run one simulation of a scenario; return its metrics and (optionally) its trace."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import simpy

from plmodel import accounting, design
from plmodel.design import require_engine, tokens_per_pass
from plmodel.errors import PlmodelError
from plmodel.fleet.policies import PolicySpec
from plmodel.hardware.feasibility import require_cloud_fit
from plmodel.hardware.radio import RadioMeter
from plmodel.route import layer_plan, route
from plmodel.sim.cloud import UNCAPPED, Cloud, DirectCloud
from plmodel.sim.link import Link
from plmodel.sim.metrics import Reservoir, SimMetrics, summarise
from plmodel.sim.trace import Trace
from plmodel.sim.user import Request, User
from plmodel.specs import SIM_LIMITS, Scenario, require_positive
from plmodel.step import Step
from plmodel.workload import cloud_layer_indices, stages

ARRIVALS = ("closed", "poisson")


def events_scheduled(env: simpy.Environment) -> int:
    """How many events the environment has scheduled (SimPy numbers each one from `_eid`)."""
    return next(env._eid)


@dataclass
class SimResult:
    summary: SimMetrics  # typed
    trace: Trace

    @functools.cached_property
    def metrics(self) -> dict:
        """The flat record of the summary (SimMetrics.flat), the keys the CLI, records and tests read."""
        return self.summary.flat()


def segment_time(pieces, adapted: frozenset):
    """Cloud time of a batched segment: stage k's A, the previous stage's B and a share of the layer."""

    def segment_s(key, batch, context):
        phase, layer, k = key
        return pieces(phase, batch, context).segment_s(adapted, layer, k)

    return segment_s


def step_routes(pieces, plan):
    """routes(phase, batch, context): a step's route (route.py), built once for all the users taking it."""

    @lru_cache(maxsize=None)
    def routes(phase, batch, context):
        return route(pieces(phase, batch, context), plan)

    return routes


def validate(tokens, users, arrival, rate):
    require_positive("tokens", tokens, integer=True, maximum=SIM_LIMITS["tokens"])
    require_positive("users", users, integer=True, maximum=SIM_LIMITS["users"])
    if arrival not in ARRIVALS:
        raise PlmodelError(f"expected closed or poisson, got {arrival!r}", field="arrival")
    if arrival == "poisson":
        if rate is None:
            raise PlmodelError("a Poisson arrival needs a rate in users per second", field="rate")
        require_positive("rate", rate, maximum=1e9)


def check_fits(scn: Scenario, tokens: int) -> None:
    """The context (prompt plus generated tokens) within the model's, and the cloud within its GPUs."""
    limit = scn.model.max_context_tokens
    if limit and scn.prompt_tokens + tokens > limit and scn.mode != "paper":
        raise PlmodelError(f"{scn.prompt_tokens} prompt + {tokens} generated tokens exceed {scn.model.name}'s "
                           f"context of {limit} (max_position_embeddings)", field="tokens")
    require_cloud_fit(scn)


def populate(env, cloud, request: Request, *, link, trace, arrivals, rng) -> tuple:
    """([User], [(up, down)]): a user a arrival time, each with its own link and its share of the trace."""
    people, links = [], []
    for i, at in enumerate(arrivals):
        name = f"user {i}"
        mine = trace.for_process(name)
        meter = RadioMeter(link.radio, float(at)) if link.radio else None
        up, down = (Link(env, link, d, mine, name, rng=rng, meter=meter) for d in ("d2c", "c2d"))
        u = User(env, name, cloud, (up, down), request, mine)
        u.meter = meter
        env.process(u.run(float(at)))
        people.append(u)
        links.append((up, down))
    return people, links


def simulate(scn: Scenario, tokens: int = 128, users: int = 1, *, arrival: str = "closed", rate: float | None = None,
             seed: int = 0, trace=False, trace_users: int | None = None, on_token=None,
             policy: PolicySpec = UNCAPPED) -> SimResult:
    """Simulate `users` devices, each serving one request of `scn.prompt_tokens` prompt tokens and
    `tokens` generated tokens for `scn.batch` sequences, sharing one cloud GPU; `on_token()` is called
    after every generated token of every user (a progress bar). `trace`: False, True (kept in memory,
    `SimResult.trace.chrome_json()`), or a file to stream it to (complete when this returns, absent if it
    raises); `trace_users` keeps the first K users' tracks; `policy` batches the users' segments on the GPU
    (the fleet's greedy or hold policy, fleet/policies.py)."""
    validate(tokens, users, arrival, rate)
    require_engine(scn, "simulation", users)
    check_fits(scn, tokens)
    rng = np.random.default_rng(seed)
    acc = accounting.of(scn)

    @lru_cache(maxsize=None)
    def pieces(phase, batch, context):
        return acc.pieces(scn, Step(phase, batch, context)).as_floats()

    env = simpy.Environment()
    rec = Trace(bool(trace), None if isinstance(trace, bool) else trace, trace_users)
    adapted = frozenset(pieces("prefill", scn.batch, scn.prompt_tokens).adapted)
    plan = layer_plan(cloud_layer_indices(scn.model, scn.adapter), adapted, len(stages(scn.adapter.targets)))
    cloud = Cloud(env, segment_time(pieces, adapted), rec, policy) if users > 1 else \
        DirectCloud(env, rec)
    link = acc.link(scn.link)
    tpot = Reservoir(np.random.default_rng([seed, 1]))  # its own stream: the jitter draws stay as they were
    request = Request(step_routes(pieces, plan), scn.batch, scn.prompt_tokens, tokens, on_token, tpot, tokens_per_pass(scn),
                      design.first(scn, "prefill_routes", acc, scn))
    arrivals = np.zeros(users) if arrival == "closed" else np.cumsum(rng.exponential(1 / rate, users))
    people, links = populate(env, cloud, request, link=link, trace=rec, arrivals=arrivals, rng=rng)
    wall = time.perf_counter()
    try:
        env.run()
    except BaseException:
        rec.discard()
        raise
    rec.finish()
    wall = time.perf_counter() - wall

    metrics = summarise(scn, people, links, cloud, n_events=events_scheduled(env), wall_s=wall, tokens=tokens, tpot=tpot)
    return SimResult(metrics, rec)
