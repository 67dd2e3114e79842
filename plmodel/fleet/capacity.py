"""How much load a replica carries within a latency target, and what a token then costs.

`analytic_capacity` scans the steady-state closed forms (analytic.py) over N concurrent requests, up
to what memory holds; `simulated_capacity` bisects the Poisson request rate with the simulation
(fleet.serve), starting from the analytic answer, and is the reference. Both say what binds (BINDINGS),
and which target the first load outside the SLO misses (`slo_missed`: ttft or tpot, the larger excess).
Cost: the replica's GPUs at the profile's hourly price over the tokens it delivers at that load, per
million output tokens and per million tokens (prompt and output, as API price lists count them).
"""

from __future__ import annotations

from dataclasses import field, replace

from plmodel.bounds import LIMITS
from plmodel.errors import PlmodelError
from plmodel.fleet import analytic
from plmodel.fleet.arrivals import Workload
from plmodel.fleet.cloud_only import BatchingSpec
from plmodel.fleet.memory import memory_of
from plmodel.fleet.policies import PolicySpec
from plmodel.fleet.pricing import all_tokens, cost
from plmodel.fleet.replica import servers
from plmodel.fleet.run import serve
from plmodel.frozen import frozen

#: What binds a replica's capacity, by name (docs/commands/capacity.md).
BINDINGS = {
    "ttft_slo": "the time-to-first-token target: it is missed first as the load grows (or by one request alone)",
    "tpot_slo": "the time-per-output-token target: it is missed first as the load grows (or by one request alone)",
    "kv_memory": "the KV cache of the requests in flight fills the replica's memory while the target still holds",
    "compute": "the GPU is saturated: one more request adds less than half a request's share of the tokens/s "
               "(or no steady state: the queue grows)",
    "max_batch": "the server's cap on sequences a batch (cloud-only's max_num_seqs) binds first",
    "link": "the network: one request alone misses the target, and an ideal link (no RTT, jitter or wire time) "
            "would meet it",
}
#: One more request adding less than this share of a request's average tokens/s: the GPU is saturated.
SATURATED = 0.5
#: A run keeps up with its load when it delivers at least this share of the tokens offered in its window.
KEEPS_UP = 0.95


@frozen
class Slo:
    tpot_s: float = 0.2  # time per output token at `percentile`
    ttft_s: float = 5.0  # time to first token at `percentile`
    percentile: int = 90


@frozen
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
    gpus: int | None = None  # a replica's tensor-parallel group (None: the smallest that holds it; replicas.py)

    def serve(self, workload: Workload, seed: int = 0, poll=None) -> dict:
        """The metrics of one simulated run of `workload`."""
        return serve(self.scn, workload, server=self.kind, policy=self.policy, batching=self.batching,
                     per_user_adapters=self.per_user_adapters, slo=(self.slo.ttft_s, self.slo.tpot_s), seed=seed,
                     poll=poll, gpus=self.gpus).metrics


@frozen
class Capacity:
    server: str
    gpus: int  # of one replica
    max_rate_per_s: float  # requests a second one replica carries within the SLO
    max_users: float  # requests in flight at that rate (Little's law)
    tokens_per_s: float
    tpot_s: float
    binding_limit: str  # a key of BINDINGS
    usd_per_million_output_tokens: float | None  # the replica's GPU-hours over its output tokens
    usd_per_million_tokens: float | None  # over its prompt and output tokens (as API price lists count)
    gpu_s_per_token: float | None  # GPU-seconds (all the replica's GPUs) a delivered output token
    kv_byte_s_per_token: float | None  # KV byte-seconds reserved a delivered output token
    source: str  # analytic or simulated
    slo_missed: str | None = None  # ttft or tpot: the target the first load outside the SLO misses by more




def mean_lengths(w: Workload) -> tuple:
    """(prompt, output) tokens a request on average: a trace's, else the workload's means."""
    if w.arrival == "trace":
        return sum(r[1] for r in w.trace) / len(w.trace), sum(r[2] for r in w.trace) / len(w.trace)
    return w.prompt_tokens, w.output_tokens




def fixed_legs_s(server, kind: str, prompt: int) -> float:
    """The legs of a request outside its passes (s): up to the cloud, and its first token down."""
    if kind == "split":  # and its prefill pass, run apart from the decoding cohorts
        return (server.trips.arrival(prompt) + analytic.split_prefill_s(server, prompt)
                + server.trips.first_token(prompt))
    return server.lead_s(prompt) + server.link.rtt_s / 2




class Model:
    """The closed forms of a Case: its load at N requests in flight and the legs outside its passes."""

    def __init__(self, case: Case):
        self.case = case
        self.gpus, split, cloud = servers(case.scn, case.policy, case.batching, case.per_user_adapters, case.gpus)
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

    def excess(self, n: float) -> tuple:
        """(time per token / its target, time to first token / its target) at n requests in flight."""
        ld, slo = self.load(n), self.case.slo
        return ld.tpot_at(slo.percentile) / slo.tpot_s, analytic.ttft_s(ld, self.fixed_s, self.case.kind) / slo.ttft_s

    def meets(self, n: float) -> bool:
        return max(self.excess(n)) <= 1

    def missed(self, n: float) -> str:
        """The target missed at n: tpot or ttft, the larger excess."""
        tpot, ttft = self.excess(n)
        return "tpot" if tpot >= ttft else "ttft"

    def limit(self, lo: int) -> str:
        """What stops the load at lo (the largest within the SLO, below the memory and batch caps): the GPU
        saturated, or the target the next request's load misses."""
        here, there = self.load(lo), self.load(lo + 1)
        if not there.tokens_per_s > here.tokens_per_s + SATURATED * here.tokens_per_s / lo:
            return "compute"
        return f"{self.missed(lo + 1)}_slo"

    def alone(self) -> str:
        """What keeps one request alone outside the SLO: the network where an ideal link meets it, else the target."""
        c = self.case
        ideal = replace(c.scn.link, rtt_s=0.0, c2d_bps=LIMITS["bandwidth_bps"], d2c_bps=LIMITS["bandwidth_bps"],
                        jitter=None, bandwidth_jitter=None, frame_bytes=0.0, message_s=0.0)
        return "link" if Model(replace(c, scn=replace(c.scn, link=ideal))).meets(1) else f"{self.missed(1)}_slo"

    def capacity(self, load, binding: str, missed: str | None = None) -> Capacity:
        """A Capacity from the steady state `load` (None: nothing is served within the SLO)."""
        c = self.case
        if load is None:
            return Capacity(c.kind, self.gpus, 0.0, 0.0, 0.0, float("nan"), binding, None, None, None, None, "analytic",
                            missed)
        rate = load.concurrency / analytic.time_in_system_s(load, self.fixed_s, c.kind)
        mem = memory_of(c.scn, self.gpus, c.per_user_adapters, c.kind)
        kv = load.concurrency * analytic.held_bytes(mem, c.prompt, c.output, batching=c.batching)
        usd, gpu_s, kv_s = cost(c.scn, self.gpus, rate * load.output_tokens, kv)
        return Capacity(c.kind, self.gpus, rate, load.concurrency, rate * load.output_tokens,
                        load.tpot_at(c.slo.percentile), binding, usd, all_tokens(usd, c.prompt, c.output),
                        gpu_s, kv_s, "analytic", missed)


def analytic_capacity(case: Case) -> Capacity:
    """The largest steady load within the SLO by the closed forms (the mean time per token stands for
    its percentile)."""
    m = Model(case)
    if m.cap < 1:
        return m.capacity(None, "kv_memory")
    if not m.meets(1):
        return m.capacity(None, m.alone(), m.missed(1))
    lo, hi = 1, m.cap
    while lo < hi:  # the largest n that meets the SLO (the time per token grows with n)
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if m.meets(mid) else (lo, mid - 1)
    if lo == m.cap:
        return m.capacity(m.load(lo), "kv_memory" if m.cap == m.n_mem else "max_batch")
    return m.capacity(m.load(lo), m.limit(lo), m.missed(lo + 1))


def meets(m: dict, slo: Slo) -> bool:
    """A run's figures within the SLO, nothing turned away, and the load carried: the tokens delivered
    in the window at least KEEPS_UP of those asked for by the requests that arrived in it (a finite
    run can meet a lax TTFT target while its queue still grows)."""
    q = slo.percentile
    return (m[f"tpot_p{q}_s"] <= slo.tpot_s and m[f"ttft_p{q}_s"] <= slo.ttft_s and m["rejected"] == 0
            and m["throughput_tokens_per_s"] >= KEEPS_UP * m["offered_tokens_per_s"])


@frozen
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
    if guess.max_rate_per_s == 0 and guess.binding_limit != "kv_memory":  # one request alone misses it: confirm
        alone = case.serve(Workload("closed", users=1, requests=1, prompt_tokens=case.prompt,
                                    output_tokens=max(case.output, 2)), search.seed, poll)
        if not (alone["tpot_mean_s"] <= case.slo.tpot_s and alone["ttft_mean_s"] <= case.slo.ttft_s):
            return replace(guess, tpot_s=alone["tpot_mean_s"], source="simulated")
    b = Bisection(case, search, search.requests or int(min(12000, max(400, 10 * guess.max_users))), progress, poll)
    b.run(guess.max_rate_per_s * 1.5 if guess.max_rate_per_s > 0 else single_rate(case))
    binding, missed = _binding(b.hi_m, guess, case.slo) if b.hi_m is not None else (guess.binding_limit,
                                                                                      guess.slo_missed)
    if b.lo_m is None:
        return replace(guess, max_rate_per_s=0.0, max_users=0.0, tokens_per_s=0.0, binding_limit=binding,
                       tpot_s=b.hi_m[f"tpot_p{case.slo.percentile}_s"], usd_per_million_output_tokens=None,
                       usd_per_million_tokens=None, gpu_s_per_token=None, kv_byte_s_per_token=None, source="simulated",
                       slo_missed=missed)
    m = b.lo_m
    usd, gpu_s, kv_s = cost(case.scn, guess.gpus, m["throughput_tokens_per_s"],
                            m["kv_mean_occupancy"] * m["kv_capacity_bytes"])
    return Capacity(case.kind, guess.gpus, b.lo, m["mean_concurrency"], m["throughput_tokens_per_s"],
                    m[f"tpot_p{case.slo.percentile}_s"], binding, usd, all_tokens(usd, case.prompt, case.output),
                    gpu_s, kv_s, "simulated", missed)


def single_rate(case: Case) -> float:
    """A rate low enough that requests rarely overlap: a tenth of one request's time in system."""
    m = Model(case)
    return 0.1 / analytic.time_in_system_s(m.load(1), m.fixed_s, case.kind)


def _binding(failed: dict, guess: Capacity, slo: Slo) -> tuple:
    """(what stopped the rate above the capacity, the target its run missed by more): what binds one request
    alone (the closed form's), requests queueing for memory, or else the closed form's limit where it names one
    below the memory cap; where it does not, the GPU if the run fell behind its load, else the target."""
    q = slo.percentile
    tpot, ttft = failed[f"tpot_p{q}_s"] / slo.tpot_s, failed[f"ttft_p{q}_s"] / slo.ttft_s
    missed = ("tpot" if tpot >= ttft else "ttft") if max(tpot, ttft) > 1 else None
    if guess.max_rate_per_s == 0 and guess.binding_limit != "kv_memory":
        return guess.binding_limit, guess.slo_missed
    if failed["rejected"] or failed["queued"] > 0.05 * max(failed["completed"], 1):  # waited for KV memory
        return "kv_memory", missed
    if guess.binding_limit != "kv_memory":
        return guess.binding_limit, missed
    behind = failed["throughput_tokens_per_s"] < KEEPS_UP * failed["offered_tokens_per_s"]
    return ("compute" if behind or missed is None else f"{missed}_slo"), missed
