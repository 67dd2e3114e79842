"""Build and run one fleet simulation: a replica (the smallest tensor-parallel group that holds the
model and one request) serving a workload, split or cloud-only; checks its invariants on the way out."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np

from plmodel.errors import PlmodelError
from plmodel.fleet.arrivals import Workload, draw_lengths, open_requests
from plmodel.fleet.cloud_only import BatchingSpec, CloudOnlyServer
from plmodel.fleet.loop import Front, Gpu, Loop, Request
from plmodel.fleet.memory import KvPool, memory_of
from plmodel.fleet.metrics import FleetMetrics, summarise, window_of
from plmodel.fleet.paging import Pager, front_options
from plmodel.fleet.policies import POLICIES, PolicySpec
from plmodel.fleet.replica import replica
from plmodel.fleet.split import SplitServer
from plmodel.fleet.trips import Trips

SERVERS = ("split", "cloud-only")


@dataclass
class FleetResult:
    server: str
    gpus: int  # GPUs of the replica that served it
    summary: FleetMetrics  # typed
    kv_samples: list  # (time s, KV bytes reserved)
    events: int
    wall_s: float

    @functools.cached_property
    def metrics(self) -> dict:
        """The flat record of the summary (FleetMetrics.flat): the keys the CLI, sweeps and tests read."""
        return self.summary.flat()


def check(spec_name: str, options: dict) -> None:
    if spec_name not in POLICIES:
        raise PlmodelError(f"expected one of {', '.join(POLICIES)}, got {spec_name!r}", field="policy")
    for key, value in options.items():
        if value is not None and not value > 0:
            raise PlmodelError(f"expected a positive number, got {value}", field=key)


def closed_users(loop, front, w: Workload, rng) -> None:
    """Closed loop: each user sends a request at 0 and, after each answer and a think time, the next."""
    issued = [0]
    prompts, outputs = draw_lengths(w, rng, w.requests)

    def issue(user, now):
        if issued[0] >= w.requests:
            return
        i = issued[0]
        issued[0] += 1
        think = float(rng.exponential(w.think_s)) if w.think_s and now > 0 else 0.0
        req = Request(i, now + think, int(prompts[i]), int(outputs[i]), user=user)
        loop.at(req.arrival_s, front.arrive, req)

    front.next_user_request = issue
    for u in range(min(w.users, w.requests)):
        issue(u, 0.0)


def serve(scn, workload: Workload, *, server: str = "split", policy: PolicySpec = PolicySpec(),
          batching: BatchingSpec = BatchingSpec(), per_user_adapters: bool = False, slo: tuple = (None, None),
          seed: int = 0, on_tokens=None, poll=None, gpus: int | None = None) -> FleetResult:
    """Serve `workload` on one replica of `scn`'s cloud: `server` split (with `policy`) or cloud-only
    (continuous batching per `batching`); `slo` (TTFT s, TPOT s) for goodput. Requests a second are
    to this replica; N replicas behind a load balancer each see 1/N of a Poisson stream. `gpus`: the
    replica's tensor-parallel group (None: the smallest that holds the model and one request)."""
    if server not in SERVERS:
        raise PlmodelError(f"expected split or cloud-only, got {server!r}", field="server")
    check(policy.name, {"max_batch": policy.max_batch, "cohort_size": policy.cohort_size, "target": policy.target,
                        "max_wait": policy.max_wait_s, "max_batch ": batching.max_batch,
                        "chunk_tokens": batching.chunk_tokens, "block_tokens": batching.block_tokens})
    gpus, engine = replica(scn, gpus)
    rng = np.random.default_rng(seed)
    pool = KvPool(memory_of(scn, gpus, per_user_adapters, server))
    opened = open_requests(workload, rng) if workload.arrival != "closed" else None
    window = window_of([t for t, _, _ in opened]) if opened else (0.0, float("inf"))
    loop, gpu, trips = Loop(), Gpu(window), Trips(scn, np.random.default_rng([seed, 1]))
    limit = scn.model.max_context_tokens
    if server == "split":
        srv = SplitServer(loop, None, gpu, engine, trips, policy, scn=scn, per_user_adapters=per_user_adapters)
        lead = trips.arrival
    else:
        srv = CloudOnlyServer(loop, None, gpu, engine, trips.link, batching, scn=scn)
        lead = srv.lead_s
    front = Front(loop, pool, lead_s=lead, max_context=limit, on_tokens=on_tokens, **front_options(batching, pool))
    srv.front, front.server = front, srv
    if batching.kv == "paged":
        srv.pager = Pager(front, pool, batching, host_bps=scn.cloud.host_link_bytes_per_s, gpus=gpus)
    if opened is None:
        closed_users(loop, front, workload, rng)
    else:
        for i, (t, p, o) in enumerate(opened):
            loop.at(t, front.arrive, Request(i, t, p, o))
    wall = time.perf_counter()
    loop.run(poll)
    wall = time.perf_counter() - wall
    invariants(front, gpu, pool, loop.now, srv.pager)
    return FleetResult(server, gpus, summarise(front, gpu, pool, window, slo=slo), pool.samples, loop.events, wall)


def invariants(front, gpu, pool, end_s: float, pager=None) -> None:
    """Every admitted request finished; KV never above capacity, all of it freed at the end, and every block
    swapped out swapped back in; the GPU never busier than the run."""
    unfinished = [r for r in front.requests if r.done_s is None]
    if unfinished:
        raise AssertionError(f"fleet: {len(unfinished)} admitted requests never finished")
    if pool.peak > pool.capacity * (1 + 1e-9):
        raise AssertionError(f"fleet: KV reserved {pool.peak:.6g} B above capacity {pool.capacity:.6g} B")
    if pool.used > pool.capacity * 1e-9:
        raise AssertionError(f"fleet: KV of {pool.used:.6g} B still held at the end")
    moved = pager.swapped_out_bytes if pager is not None else 0.0
    if pager is not None and (pager.host_used > 1e-9 * moved or abs(moved - pager.swapped_in_bytes) > 1e-9 * moved):
        raise AssertionError(f"fleet: {pager.swapped_out_bytes:.6g} B swapped out, {pager.swapped_in_bytes:.6g} B back in")
    if gpu.all_busy_s > end_s * (1 + 1e-9) + 1e-12:
        raise AssertionError(f"fleet: GPU busy {gpu.all_busy_s:.6g} s in a run of {end_s:.6g} s")
