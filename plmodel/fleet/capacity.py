"""How much load a replica carries within a latency target, and what a token then costs.

`analytic_capacity` scans the steady-state closed forms (analytic.py) over N concurrent requests, up
to what memory holds; `simulated_capacity` bisects the Poisson request rate with the simulation
(fleet.serve), starting from the analytic answer, and is the reference. Both say what binds:
- SLO: one request alone already misses the target (no load is served within it);
- memory: the KV cache of the requests in flight fills the replica before the target is reached;
- compute: batches grow until the GPU's time pushes the time per token past the target;
- max_batch: the server's cap on sequences a batch binds first (cloud-only's max_num_seqs).
Cost: the replica's GPUs at the profile's hourly price over the tokens it delivers at that load.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from plmodel.errors import PlmodelError
from plmodel.fleet import analytic
from plmodel.fleet.arrivals import Workload
from plmodel.fleet.cloud_only import BatchingSpec, CloudOnlyServer
from plmodel.fleet.memory import memory_of
from plmodel.fleet.policies import PolicySpec
from plmodel.fleet.run import replica, serve
from plmodel.fleet.split import SplitServer
from plmodel.fleet.trips import Trips

#: A run keeps up with its load when it delivers at least this share of the tokens offered in its window.
KEEPS_UP = 0.95


@dataclass(frozen=True)
class Slo:
    tpot_s: float = 0.2  # time per output token at `percentile`
    ttft_s: float = 5.0  # time to first token at `percentile`
    percentile: int = 90


@dataclass(frozen=True)
class Case:
    """What is served: a scenario's cloud serving requests of `prompt` + `output` tokens, split or
    cloud-only, against an SLO."""

    scn: object
    kind: str  # split or cloud-only
    slo: Slo
    prompt: int
    output: int
    policy: PolicySpec = field(default_factory=PolicySpec)
    batching: BatchingSpec = field(default_factory=BatchingSpec)
    per_user_adapters: bool = False

    def serve(self, workload: Workload, seed: int = 0, poll=None) -> dict:
        """The metrics of one simulated run of `workload`."""
        return serve(self.scn, workload, server=self.kind, policy=self.policy, batching=self.batching,
                     per_user_adapters=self.per_user_adapters, slo=(self.slo.ttft_s, self.slo.tpot_s), seed=seed,
                     poll=poll).metrics


@dataclass(frozen=True)
class Capacity:
    server: str
    gpus: int  # of one replica
    max_rate_per_s: float  # requests a second one replica carries within the SLO
    max_users: float  # requests in flight at that rate (Little's law)
    tokens_per_s: float
    tpot_s: float
    binding_limit: str
    usd_per_million_tokens: float | None
    gpu_s_per_token: float | None  # GPU-seconds (all the replica's GPUs) a delivered token
    kv_byte_s_per_token: float | None  # KV byte-seconds reserved a delivered token
    source: str  # analytic or simulated


def servers(scn, policy: PolicySpec, batching: BatchingSpec, per_user_adapters: bool = False) -> tuple:
    """(gpus, SplitServer, CloudOnlyServer) for the closed forms (their cost models, no loop)."""
    gpus, engine = replica(scn)
    trips = Trips(scn, np.random.default_rng(0))
    split = SplitServer(None, None, None, engine, trips, policy, scn=scn, per_user_adapters=per_user_adapters)
    cloud = CloudOnlyServer(None, None, None, engine, trips.link, batching, scn=scn)
    return gpus, split, cloud


def fixed_legs_s(server, kind: str, prompt: int) -> float:
    """The legs of a request outside its passes (s): up to the cloud, and its first token down."""
    if kind == "split":  # and its prefill pass, run apart from the decoding cohorts
        return (server.trips.arrival(prompt) + analytic.split_prefill_s(server, prompt)
                + server.trips.first_token(prompt))
    return server.lead_s(prompt) + server.link.rtt_s / 2


def cost(scn, gpus: int, tokens_per_s: float, kv_bytes: float) -> tuple:
    """(USD per million tokens or None, GPU-seconds a token, KV byte-seconds a token)."""
    if tokens_per_s <= 0:
        return None, None, None
    price = scn.cloud.price_usd_per_hour
    usd = gpus * price / 3600 / tokens_per_s * 1e6 if price else None
    return usd, gpus / tokens_per_s, kv_bytes / tokens_per_s


class Model:
    """The closed forms of a Case: its load at N requests in flight and the legs outside its passes."""

    def __init__(self, case: Case):
        self.case = case
        self.gpus, split, cloud = servers(case.scn, case.policy, case.batching, case.per_user_adapters)
        self.n_mem = analytic.max_concurrency(case.scn, self.gpus, case.prompt, case.output, case.per_user_adapters,
                                              case.kind, batching=case.batching)
        self.server = split if case.kind == "split" else cloud
        self.cap = self.n_mem if case.kind == "split" else min(self.n_mem, case.batching.max_batch)
        self.fixed_s = fixed_legs_s(self.server, case.kind, case.prompt)

    def load(self, n: float) -> analytic.Load:
        c = self.case
        if c.kind == "split":
            return analytic.split_load(self.server, n, c.policy.cohort_size, c.prompt, c.output)
        return analytic.cloud_only_load(self.server, n, c.prompt, c.output)

    def meets(self, n: float) -> bool:
        ld, slo = self.load(n), self.case.slo
        return ld.tpot_at(slo.percentile) <= slo.tpot_s and analytic.ttft_s(ld, self.fixed_s, self.case.kind) <= slo.ttft_s

    def capacity(self, load, binding: str) -> Capacity:
        """A Capacity from the steady state `load` (None: nothing is served within the SLO)."""
        c = self.case
        if load is None:
            return Capacity(c.kind, self.gpus, 0.0, 0.0, 0.0, float("nan"), binding, None, None, None, "analytic")
        rate = load.concurrency / analytic.time_in_system_s(load, self.fixed_s, c.kind)
        mem = memory_of(c.scn, self.gpus, c.per_user_adapters, c.kind)
        kv = load.concurrency * analytic.held_bytes(mem, c.prompt, c.output, c.kind, batching=c.batching)
        usd, gpu_s, kv_s = cost(c.scn, self.gpus, rate * load.output_tokens, kv)
        return Capacity(c.kind, self.gpus, rate, load.concurrency, rate * load.output_tokens,
                        load.tpot_at(c.slo.percentile), binding,
                        usd, gpu_s, kv_s, "analytic")


def analytic_capacity(case: Case) -> Capacity:
    """The largest steady load within the SLO by the closed forms (the mean time per token stands for
    its percentile)."""
    m = Model(case)
    if m.cap < 1 or not m.meets(1):
        return m.capacity(None, "SLO" if m.cap >= 1 else "memory")
    lo, hi = 1, m.cap
    while lo < hi:  # the largest n that meets the SLO (the time per token grows with n)
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if m.meets(mid) else (lo, mid - 1)
    binding = "compute" if lo < m.cap else ("memory" if m.cap == m.n_mem else "max_batch")
    return m.capacity(m.load(lo), binding)


def meets(m: dict, slo: Slo) -> bool:
    """A run's figures within the SLO, nothing turned away, and the load carried: the tokens delivered
    in the window at least KEEPS_UP of those asked for by the requests that arrived in it (a finite
    run can meet a lax TTFT target while its queue still grows)."""
    q = slo.percentile
    return (m[f"tpot_p{q}_s"] <= slo.tpot_s and m[f"ttft_p{q}_s"] <= slo.ttft_s and m["rejected"] == 0
            and m["throughput_tokens_per_s"] >= KEEPS_UP * m["offered_tokens_per_s"])


@dataclass(frozen=True)
class Search:
    """How the simulated search runs: requests a run (None: ten times the analytic concurrency, at
    least 400, at most 12,000, so the ramp up is short beside the run), bisection steps, seed."""

    requests: int | None = None
    steps: int = 8
    seed: int = 0


class Bisection:
    """Simulated runs at Poisson rates, remembering the best that met the SLO and the lowest that did not."""

    def __init__(self, case: Case, search: Search, requests: int, progress=None, poll=None):
        self.case, self.search, self.requests, self.progress, self.poll = case, search, requests, progress, poll
        self.runs = 0
        self.lo, self.lo_m, self.hi, self.hi_m = 0.0, None, None, None

    def attempt(self, rate: float) -> bool:
        c = self.case
        w = Workload("poisson", rate_per_s=rate, requests=self.requests, prompt_tokens=c.prompt, output_tokens=c.output)
        m = c.serve(w, self.search.seed, self.poll)
        self.runs += 1
        if self.progress:
            self.progress(self.runs, self.search.steps + 4)
        ok = meets(m, c.slo)
        if ok:
            self.lo, self.lo_m = rate, m
        else:
            self.hi, self.hi_m = rate, m
        return ok

    def run(self, first: float) -> None:
        rate = first
        while self.attempt(rate) and self.runs < 4:  # the guess was low: widen the bracket
            rate *= 2
        for _ in range(self.search.steps if self.hi is not None else 0):
            self.attempt((self.lo + self.hi) / 2 if self.lo == 0 else (self.lo * self.hi) ** 0.5)
            if self.lo and self.hi / self.lo < 1.02:
                break


def simulated_capacity(case: Case, search: Search = Search(), progress=None, poll=None) -> Capacity:
    """The largest Poisson rate whose run meets the SLO, by bisection between a rate that meets it and
    one that does not (from 1.5x the analytic capacity). `progress(run, most runs)`."""
    if case.slo.percentile not in (50, 90, 99):
        raise PlmodelError(f"expected 50, 90 or 99, got {case.slo.percentile}", field="percentile")
    guess = analytic_capacity(case)
    if guess.binding_limit == "SLO":  # one request alone misses it by the closed form: confirm with one run
        alone = case.serve(Workload("closed", users=1, requests=1, prompt_tokens=case.prompt,
                                    output_tokens=max(case.output, 2)), search.seed, poll)
        if not (alone["tpot_mean_s"] <= case.slo.tpot_s and alone["ttft_mean_s"] <= case.slo.ttft_s):
            return replace(guess, tpot_s=alone["tpot_mean_s"], source="simulated")
    b = Bisection(case, search, search.requests or int(min(12000, max(400, 10 * guess.max_users))), progress, poll)
    b.run(guess.max_rate_per_s * 1.5 if guess.max_rate_per_s > 0 else single_rate(case))
    binding = _binding(b.hi_m, guess) if b.hi_m is not None else guess.binding_limit
    if b.lo_m is None:
        return replace(guess, max_rate_per_s=0.0, max_users=0.0, tokens_per_s=0.0, binding_limit=binding,
                       tpot_s=b.hi_m[f"tpot_p{case.slo.percentile}_s"], usd_per_million_tokens=None,
                       gpu_s_per_token=None, kv_byte_s_per_token=None, source="simulated")
    m = b.lo_m
    usd, gpu_s, kv_s = cost(case.scn, guess.gpus, m["throughput_tokens_per_s"],
                            m["kv_mean_occupancy"] * m["kv_capacity_bytes"])
    return Capacity(case.kind, guess.gpus, b.lo, m["mean_concurrency"], m["throughput_tokens_per_s"],
                    m[f"tpot_p{case.slo.percentile}_s"], binding, usd, gpu_s, kv_s, "simulated")


def single_rate(case: Case) -> float:
    """A rate low enough that requests rarely overlap: a tenth of one request's time in system."""
    m = Model(case)
    return 0.1 / analytic.time_in_system_s(m.load(1), m.fixed_s, case.kind)


def _binding(failed: dict, guess: Capacity) -> str:
    """What stopped the rate above the capacity: the SLO already at the lowest load, requests queueing
    for memory, the batch cap, or the GPU's time."""
    if guess.max_rate_per_s == 0 and guess.binding_limit == "SLO":
        return "SLO"
    if failed["rejected"] or failed["queued"] > 0.05 * max(failed["completed"], 1):  # waited for KV memory
        return "memory"
    return "max_batch" if guess.binding_limit == "max_batch" else "compute"
