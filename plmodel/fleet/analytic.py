"""Closed forms of the two servers in steady state, for fleet scale (no simulation).

N requests are being served, each a prompt of P tokens and O generated tokens (so, on average, N/O
of them start a prompt each pass and their contexts average P + O/2); a replica holds at most
floor(KV capacity / KV of P + O tokens) of them when each reserves its whole length, and
floor((1 - watermark) KV capacity / KV of P + O/2 + B/2 tokens) with paged KV in blocks of B (the mean
context, not the longest: preemption near that limit is not modelled).
- Cloud-only (continuous batching): with prefill-first a decode iteration of N and, when prompts arrived,
  an iteration of them alone; with chunked a share of iterations runs N decode tokens and a full chunk of
  prompt tokens (enough of them for the N/O prompts an iteration), the rest decode alone. The mean time
  t(N) of a cycle from the fleet's cost model (and the runtime's host time an iteration) is the time per
  output token, and the replica delivers N / t(N) tokens a second.
- Split (cohorts of b): a cohort's pass costs the GPU G (every chunk at b sequences) and its members
  R of round trips (a chunk waits for the slowest of b: the expected maximum of b draws where the link
  jitters). C = N/b cohorts share the GPU, so a pass takes max(G + R, C x G): latency-bound until the
  GPU is busy, then GPU-bound.
The simulation (fleet.serve) is the reference; tests hold these within 10 % of it.
"""

from __future__ import annotations

import math

import numpy as np

from plmodel.fleet.costs import mix_of
from plmodel.fleet.memory import memory_of
from plmodel.frozen import frozen
from plmodel.link import lognormal_mean, lognormal_sigma


@frozen
class Load:
    """Steady state at N concurrent requests (SI units)."""

    concurrency: float
    tpot_s: float
    tokens_per_s: float
    gpu_busy: float
    output_tokens: int
    tpot_sd_s: float = 0.0  # spread of a request's time per token over its life (its passes' mean)

    def tpot_at(self, percentile: float) -> float:
        """A request's time per token at a percentile across requests (s): normal about the mean."""
        from statistics import NormalDist  # here, not at the top: it loads random, and most estimates never ask

        return self.tpot_s + NormalDist().inv_cdf(percentile / 100) * self.tpot_sd_s if percentile != 50 else self.tpot_s


def pass_mix(n: float, starting: int, prompt: int, output: int) -> list:
    """The mix of a pass (or iteration) of n decoding sequences at their mean context and `starting`
    prompts."""
    return mix_of(n, n * (prompt + output / 2), starting * prompt, starting * prompt * prompt, starting)


#: Above this many prompts a pass on average, a normal law (Gauss-Hermite nodes) stands for the Poisson.
MANY_PROMPTS = 30


def moments(f, mean: float) -> tuple:
    """(E[f(k)], sd of f(k)) for k ~ Poisson(mean): prompts that start in a pass arrive at random, and
    a pass's time is not linear in them (it turns compute-bound), so the mean of the times, not the
    time of the mean."""
    if mean > MANY_PROMPTS:
        x, w = np.polynomial.hermite_e.hermegauss(24)
        ks, ws = np.maximum(mean + math.sqrt(mean) * x, 0.0), w / w.sum()
    else:
        k_max = int(mean + 8 * math.sqrt(mean) + 8)
        ks = np.arange(k_max + 1)
        ws = np.exp(ks * math.log(mean) - mean - np.array([math.lgamma(k + 1) for k in ks])) if mean > 0 else \
            (ks == 0).astype(float)
        ws = ws / ws.sum()
    v = np.array([f(float(k)) for k in ks])
    m1 = float(ws @ v)
    return m1, math.sqrt(max(0.0, float(ws @ v ** 2) - m1 * m1))


def stationary(chain):
    """The stationary law of a Markov chain's transition matrix (rows sum to one)."""
    a = chain.T - np.eye(len(chain))
    a[-1, :] = 1.0
    b = np.zeros(len(chain))
    b[-1] = 1.0
    return np.clip(np.linalg.solve(a, b), 0.0, None)


def prompt_chain_moments(times, n: float, output: int, t: float, log_factorial=None) -> tuple:
    """(mean, sd, lag-one correlation) of the iteration time when prompts arrive at n / (O t) a second: the
    prompts an iteration takes are those that arrived during the one before, k' ~ Poisson(rate x t(k));
    (inf, 0, 0) when the chain runs off (more prompt work arrives than the GPU clears)."""
    ks = np.arange(len(times))
    if log_factorial is None:
        log_factorial = np.array([math.lgamma(k + 1) for k in ks])
    arriving = n / (output * t) * times
    chain = np.exp(ks[None, :] * np.log(np.maximum(arriving[:, None], 1e-300)) - arriving[:, None]
                   - log_factorial[None, :])
    chain /= chain.sum(axis=1, keepdims=True)
    law = stationary(chain)
    law /= law.sum()
    if law[-len(law) // 4:].sum() > 1e-6:
        return float("inf"), 0.0, 0.0
    mean = float(law @ times)
    var = max(0.0, float(law @ times ** 2) - mean * mean)
    lag = float((law * times) @ (chain @ times)) - mean * mean  # a long iteration gathers more for the next
    return mean, math.sqrt(var), min(max(lag / var, 0.0), 0.95) if var > 0 else 0.0


def halved_crossing(f, lo: float, hi: float, steps: int = 44, margin: float = 1e-11) -> float:
    """The upper end of [lo, hi] after `steps` geometric halvings, each keeping the crossing of f(t) = t inside
    (f falls as t rises: f(t) > t below the crossing). Plain halving asks f once a step; here a bracket of the
    crossing is found first (`bracket`) and widened by `margin`, a share of t some 5,000 times f's rounding
    (2e-15 of t, prompt_chain_moments): a midpoint outside it has the answer f would give, so f is asked only
    inside, and the end is the plain halvings' to the last bit, in about half the calls."""
    a, b = bracket(f, lo, hi)
    a, b = a * (1 - margin), b * (1 + margin)
    for _ in range(steps):
        mid = math.sqrt(lo * hi)
        above = mid <= a or (mid < b and f(mid) > mid)
        lo, hi = (mid, hi) if above else (lo, mid)
    return hi


def bracket(f, lo: float, hi: float, share: float = 1e-11, calls: int = 24) -> tuple:
    """(a, b) within [lo, hi], f(a) > a (or a = lo) and f(b) <= b (or b = hi), b / a - 1 under `share` where
    `calls` calls of f get there: the Illinois secant on the gap log(f(t) / t) over log t, the geometric
    midpoint while an end's gap is unknown or infinite."""
    ga = gb = None  # the gaps at lo and hi, once asked
    side = 0  # the end the last call moved: 1 lo, -1 hi
    for _ in range(calls):
        if hi / lo - 1 < share:
            break
        x = math.sqrt(lo * hi)
        if ga is not None and gb is not None and math.isfinite(ga) and ga != gb:
            s = (math.log(lo) * gb - math.log(hi) * ga) / (gb - ga)
            x = math.exp(s) if math.log(lo) < s < math.log(hi) else x
        fx = f(x)
        if fx > x:
            lo, ga, gb, side = x, math.log(fx / x), (gb / 2 if side == 1 and gb is not None else gb), 1
        else:
            hi, gb, ga, side = x, math.log(fx / x), (ga / 2 if side == -1 and ga is not None else ga), -1
    return lo, hi


def cloud_only_load(server, n: float, prompt: int, output: int) -> Load:
    """Continuous batching at n concurrent requests; `server` a CloudOnlyServer (its cost parts).

    A long iteration collects more prompts for the next (a Markov chain, prompt_chain_moments); the mean
    iteration time t is the fixed point at which the n requests, O iterations each, arrive at n / (O t)
    a second, found by bisection. Where prompt work alone outruns the GPU there is none: the time per
    token is infinite (no steady state at n)."""
    spec = server.spec
    decode = decode_iteration_s(server, n, prompt, output)

    def iteration_s(k):  # prefill-first: a decode iteration, then one of the k prompts that arrived
        prefill = server.iteration_s(mix_of(0, 0, k * prompt, k * prompt * prompt, k), k)[0] if k > 0 else 0.0
        return decode + prefill

    mean_k = n / output
    if spec.scheduler == "chunked":  # a share f of iterations carries a full chunk of prompt tokens, the rest decode
        need, room = mean_k * prompt, spec.budget - n  # prompt tokens an iteration must run; room for them
        if need >= room:
            return Load(n, float("inf"), 0.0, 1.0, output, 0.0)
        c, f = min(room, prompt), need / min(room, prompt)
        full = server.iteration_s(mix_of(n, n * (prompt + output / 2), c, c * (prompt + c) / 2, c / prompt), n + 1)[0]
        if f > 1:  # short prompts, several whole an iteration (their full squares)
            f, c = 1.0, need
            full = server.iteration_s(mix_of(n, n * (prompt + output / 2), c, c * prompt, mean_k), n + 1)[0]
        t = f * full + (1 - f) * decode
        return Load(n, t, n / t, 1.0, output, math.sqrt(f * (1 - f)) * (full - decode) / math.sqrt(output))
    if mean_k > MANY_PROMPTS:  # many prompts an iteration: their count barely varies with the last one's length
        t, sd = moments(iteration_s, mean_k)
        return Load(n, t, n / t, 1.0, output, sd / math.sqrt(output))
    times = np.array([iteration_s(k) for k in range(int(4 * mean_k + 12 * math.sqrt(mean_k) + 12))])
    lo, hi = float(times[0]), float(times[0]) * 1e4
    logf = np.array([math.lgamma(k + 1) for k in range(len(times))])
    if prompt_chain_moments(times, n, output, hi, logf)[0] > hi:
        return Load(n, float("inf"), 0.0, 1.0, output, 0.0)
    # the mean it produces falls as the assumed mean rises: one crossing, halved to 2^-44 of the range
    hi = halved_crossing(lambda t: prompt_chain_moments(times, n, output, t, logf)[0], lo, hi)
    t, sd, rho = prompt_chain_moments(times, n, output, hi, logf)
    if not math.isfinite(t):
        return Load(n, float("inf"), 0.0, 1.0, output, 0.0)
    # a request's mean over its O iterations, which are correlated (an AR(1) of lag-one correlation rho)
    return Load(n, t, n / t, 1.0, output, sd * math.sqrt((1 + rho) / (1 - rho) / output))


def decode_iteration_s(server, n: float, prompt: int, output: int) -> float:
    """An iteration of n decoding sequences at their mean context and no prompt on CloudOnlyServer `server` (s):
    the least a cloud-only iteration takes at n, so a bound from below on its time per token."""
    return server.iteration_s(pass_mix(n, 0, prompt, output), n)[0]


def expected_max_extra_s(link, b: int) -> float:
    """Expected largest of b draws of a round trip's two extra delays (s): Fenton-Wilkinson's
    lognormal for their sum, at the b/(b+1) quantile; 0 without jitter."""
    j = link.jitter
    if not j:
        return 0.0
    sigma, m1 = lognormal_sigma(j.median_s, j.p99_s), lognormal_mean(j.median_s, j.p99_s)
    m, v = 2 * m1, 2 * (math.exp(sigma ** 2) - 1) * m1 ** 2  # a lognormal's variance: (e^s2 - 1) mean^2
    s2 = math.log(1 + v / m ** 2)
    mu_s = math.log(m) - s2 / 2
    if b <= 1:
        return m
    from statistics import NormalDist  # see Load.tpot_at

    return math.exp(mu_s + math.sqrt(s2) * NormalDist().inv_cdf(b / (b + 1)))


def split_load(server, n: float, b: int, prompt: int, output: int) -> Load:
    """Decoding cohorts of b at n concurrent requests, and each request's prefill pass run on its
    own; `server` a SplitServer (its chunks, engine and trips)."""
    b = max(1, min(b, math.ceil(n)))
    cohorts = max(1.0, n / b)
    trip_s = (pass_trips_s(server, 1, prompt + output // 2)
              + len(server.chunks) * expected_max_extra_s(server.trips.link, b))
    gpu = pass_gpu_s(server, pass_mix(b, 0, prompt, output))
    prefill = pass_gpu_s(server, pass_mix(0, 1, prompt, output))
    cycle, sd = moments(lambda k: max(gpu + trip_s, cohorts * gpu + k * prefill), n / output)  # k prompts a cycle
    busy = cohorts * gpu + n / output * prefill
    return Load(n, cycle, n / cycle, min(1.0, busy / cycle), output, sd / math.sqrt(output))


def pass_gpu_s(server, mix: list) -> float:
    """GPU time of one pass through the stack of a batch of composition `mix` (s)."""
    return sum(server.cost(j, mix)[0] for j in range(len(server.chunks)))


def split_prefill_s(server, prompt: int) -> float:
    """A prompt's prefill pass on its own: the GPU's chunks and its round trips (s)."""
    return pass_gpu_s(server, pass_mix(0, 1, prompt, 1)) + pass_trips_s(server, prompt)


def pass_trips_s(server, tokens: int = 1, context: int = 1) -> float:
    """The trips of one pass for one sequence carrying `tokens` tokens (1: decoding at `context` cached
    tokens, which layers the device holds read; a prompt: its prefill), extra delays left out (s): a round
    trip after every chunk but the last, then the token trip (a decode token's)."""
    trips = server.trips
    return sum(trips.expected_s(k, tokens, context) if k >= 0 else trips.expected_s(k, 1, context)
               for _, k in server.chunks)


def held_bytes(mem, prompt: int, output: int, *, batching=None) -> float:
    """KV bytes a request holds on average (B): its whole length reserved, or with `batching`'s paged KV
    (either server) its mean context in blocks."""
    if batching is not None and batching.kv == "paged":
        return mem.request_bytes(prompt + output / 2 + batching.block_tokens / 2)
    return mem.request_bytes(prompt + output)


def max_concurrency(scn, gpus: int, prompt: int, output: int, per_user_adapters: bool = False,
                    server: str = "split", *, batching=None) -> int:
    """The most requests of P + O tokens one replica's memory holds at once: each reserving its whole length,
    or with `batching`'s paged KV (either server) at their mean context in blocks, less the watermark."""
    mem = memory_of(scn, gpus, per_user_adapters, server)
    paged = batching is not None and batching.kv == "paged"
    usable = (1 - batching.watermark) * mem.kv_capacity_bytes if paged else mem.kv_capacity_bytes
    return max(0, int(usable // held_bytes(mem, prompt, output, batching=batching)))


def ttft_s(load: Load, fixed_s: float, kind: str) -> float:
    """Time to first token at this load (s): split runs a prompt's pass on its own at once (its time
    is in the fixed legs); cloud-only waits half an iteration and then runs one."""
    return fixed_s if kind == "split" else fixed_s + 1.5 * load.tpot_s


def time_in_system_s(load: Load, fixed_s: float, kind: str = "cloud-only") -> float:
    """A request's time from send to last token at this load (s): its first token, then its other
    tokens a pass each (split: after half a pass waiting to join a cohort)."""
    return ttft_s(load, fixed_s, kind) + (load.output_tokens - 1 + (0.5 if kind == "split" else 0.0)) * load.tpot_s
