"""A fleet run's figures, from its requests, its GPU and its KV pool (SI units, flat keys).

Latency figures are over the requests that arrive inside the measurement window (open loop: between
the 20th and 90th percentile of arrivals, leaving out the ramp up and the drain; closed loop: all);
rates and utilisations over the window's length, tokens counted as delivered evenly between a
request's first and last token. Goodput: tokens a second of the requests that met the SLO."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from plmodel.frozen import frozen

QUANTILES = (50, 90, 99)


def window_of(arrivals: list) -> tuple:
    """(start s, end s) of the measurement window of an open-loop run's arrival times."""
    if len(arrivals) < 10:
        return (0.0, float("inf"))
    a = np.sort(np.asarray(arrivals))
    return float(a[len(a) // 5]), float(a[(9 * len(a)) // 10])


def tokens_in(reqs: list, w0: float, w1: float) -> float:
    """Tokens delivered inside [w0, w1], each request's spread evenly over [first, done]."""
    total = 0.0
    for r in reqs:
        if r.output == 1 or r.done_s == r.first_s:
            total += r.output if w0 <= r.done_s <= w1 else 0
            continue
        lo, hi = max(w0, r.first_s), min(w1, r.done_s)
        if hi > lo:
            total += (r.output - 1) * (hi - lo) / (r.done_s - r.first_s)
        if w0 <= r.first_s <= w1:
            total += 1
    return total


def kv_mean(samples: list, w0: float, w1: float) -> float:
    """Time-weighted mean of reserved KV bytes over [w0, w1] from (time, bytes) steps."""
    if w1 <= w0:
        return 0.0
    area, level, last = 0.0, 0.0, w0
    for t, b in samples:
        if t > w0:
            area += level * (min(t, w1) - last)
            last = min(t, w1)
        level = b
        if t >= w1:
            break
    area += level * (w1 - last)
    return area / (w1 - w0)


@frozen
class Spread:
    """Percentiles and mean of a latency over the window's requests (s; NaN where there are none)."""

    p50_s: float
    p90_s: float
    p99_s: float
    mean_s: float

    @classmethod
    def of(cls, values) -> "Spread":
        v = np.asarray(values, dtype=float)
        q = [float(np.percentile(v, x)) if v.size else float("nan") for x in QUANTILES]
        return cls(*q, float(v.mean()) if v.size else float("nan"))

    def flat(self, prefix: str) -> dict:
        return {f"{prefix}_{f.name}": getattr(self, f.name) for f in fields(self)}


@frozen
class FleetMetrics:
    """A fleet run's figures (SI units); `flat()` gives the flat keys, made here alone."""

    requests: int
    completed: int
    rejected: int
    queued: int
    preemptions: int  # paged KV: requests preempted, recomputed or swapped (a request may count more than once)
    swaps: int  # of those, swapped to host memory and back (--preemption swap)
    window_s: float
    throughput_tokens_per_s: float
    offered_tokens_per_s: float
    goodput_tokens_per_s: float
    slo_met_fraction: float
    gpu_busy: float
    gpu_accel_busy: float
    gpu_host_busy: float
    mean_batch_sequences: float
    mean_batch_tokens: float
    kv_capacity_bytes: float
    kv_peak_bytes: float
    kv_mean_occupancy: float
    mean_concurrency: float
    ttft: Spread
    tpot: Spread
    e2e: Spread
    queue: Spread

    def flat(self) -> dict:
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out.update(v.flat(f.name) if isinstance(v, Spread) else {f.name: v})
        return out


def summarise(front, gpu, pool, window: tuple, *, slo: tuple = (None, None)) -> FleetMetrics:
    """The run's figures; `slo` is (TTFT s, TPOT s), either None."""
    done = [r for r in front.requests if r.done_s is not None]
    w0, w1 = window
    if w1 == float("inf"):
        w0, w1 = min((r.arrival_s for r in done), default=0.0), max((r.done_s for r in done), default=0.0)
    seen = [r for r in done if w0 <= r.arrival_s <= w1] or done
    tpot = [(r.done_s - r.first_s) / (r.output - 1) for r in seen if r.output > 1]
    ttft_slo, tpot_slo = slo
    good = [r for r in done if (ttft_slo is None or r.first_s - r.arrival_s <= ttft_slo)
            and (tpot_slo is None or r.output == 1 or (r.done_s - r.first_s) / (r.output - 1) <= tpot_slo)]
    span = max(w1 - w0, 1e-12)
    cap = pool.capacity
    return FleetMetrics(**{"requests": len(front.requests) + len(front.rejected), "completed": len(done),
           "rejected": len(front.rejected), "preemptions": front.preemptions, "swaps": front.swaps,
           "queued": sum(1 for r in done if r.admit_s > r.reach_s),
           "window_s": span,
           "throughput_tokens_per_s": tokens_in(done, w0, w1) / span,
           "offered_tokens_per_s": sum(r.output for r in front.requests + front.rejected
                                       if w0 <= r.arrival_s <= w1) / span,
           "goodput_tokens_per_s": tokens_in(good, w0, w1) / span,
           "slo_met_fraction": len([r for r in good if w0 <= r.arrival_s <= w1]) / max(len(seen), 1),
           "gpu_busy": gpu.busy_s / span, "gpu_accel_busy": gpu.accel_s / span, "gpu_host_busy": gpu.host_s / span,
           "mean_batch_sequences": gpu.sequences / gpu.batches if gpu.batches else 0.0,
           "mean_batch_tokens": gpu.tokens / gpu.batches if gpu.batches else 0.0,
           "kv_capacity_bytes": cap, "kv_peak_bytes": pool.peak,
           "kv_mean_occupancy": kv_mean(pool.samples, w0, w1) / cap if cap > 0 else 0.0,
           "mean_concurrency": sum(min(r.done_s, w1) - max(r.admit_s, w0) for r in done
                                   if r.done_s > w0 and r.admit_s < w1) / span},
                        ttft=Spread.of([r.first_s - r.arrival_s for r in seen]), tpot=Spread.of(tpot),
                        e2e=Spread.of([r.done_s - r.arrival_s for r in seen]),
                        queue=Spread.of([r.admit_s - r.reach_s for r in seen]))
