"""Metrics of a finished simulation: latencies, tokens/s, utilisation and bytes, in SI units."""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from plmodel.frozen import frozen

#: Per-token samples kept for percentiles: all of them up to this many, then a uniform reservoir, so
#: memory stays bounded whatever users x tokens is (percentiles within ~0.1 % at 1e6 samples).
MAX_SAMPLES = 1_000_000


class Reservoir:
    """Running count and sum of a quantity, and a uniform sample of it for percentiles (Vitter's
    algorithm R with a seeded generator, so a run is reproducible)."""

    def __init__(self, rng, capacity: int = MAX_SAMPLES):
        self.rng, self.capacity = rng, capacity
        self.count, self.total, self.samples = 0, 0.0, []

    def add(self, x: float) -> None:
        self.count += 1
        self.total += x
        if len(self.samples) < self.capacity:
            self.samples.append(x)
        else:
            j = int(self.rng.integers(self.count))
            if j < self.capacity:
                self.samples[j] = x

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def percentile(self, q: float) -> float:
        return _pct(self.samples, q)


def _pct(values, q):
    return float(np.percentile(values, q)) if len(values) else 0.0


@frozen
class DeviceEnergy:
    """Device energy of an answer, mean over users (J), and a token's (J); the radio's time in its states (s)."""

    compute_j: float
    radio_active_j: float
    radio_tail_j: float
    baseline_j: float
    j_per_token: float
    radio_state_s_mean: float

    def flat(self) -> dict:
        parts = ("compute", "radio_active", "radio_tail", "baseline")
        return {**{f"device_energy_{k}_j": getattr(self, f"{k}_j") for k in parts},
                "device_energy_j_per_token": self.j_per_token, "radio_state_s_mean": self.radio_state_s_mean}


@frozen
class SimMetrics:
    """What a simulation measured (SI units); `flat()` gives the keys shared with the estimate's JSON."""

    users: int
    tokens: int
    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    decode_tokens_per_s_per_user: float
    aggregate_tokens_per_s: float
    ttft_s: float
    ttft_p50_s: float
    ttft_p99_s: float
    tpot_mean_s: float
    tpot_samples: int
    tpot_p50_s: float
    tpot_p90_s: float
    tpot_p99_s: float
    makespan_s: float
    cloud_utilization: float
    cloud_batches: int
    device_utilization: float
    c2d_link_utilization: float
    d2c_link_utilization: float
    c2d_bytes: float
    d2c_bytes: float
    prefill_c2d_bytes: float
    prefill_d2c_bytes: float
    c2d_bytes_per_token: float  # per decoded token, as the estimate
    d2c_bytes_per_token: float
    messages: int
    events: int
    wall_s: float
    events_per_s: float
    energy: DeviceEnergy | None = None  # None: the device has no power figures

    def flat(self) -> dict:
        """The flat record (the energy's keys first), made here alone."""
        out = self.energy.flat() if self.energy is not None else {}
        out.update({f.name: getattr(self, f.name) for f in fields(self) if f.name != "energy"})
        return out


def energy_metrics(scn, users, tokens: int) -> DeviceEnergy | None:
    """Device energy a token and its parts (J), mean over users: compute, the radio's states (each
    user's RadioMeter, closed after the tail that follows its answer), the baseline while it waited."""
    power = scn.device.power
    if power is None:
        return None
    parts = {"compute": [], "radio_active": [], "radio_tail": [], "baseline": [], "radio_state_s": []}
    for u in users:
        wall = u.stats.done_s - u.stats.arrival_s
        parts["compute"].append(power.active_w * u.stats.device_busy_s)
        parts["baseline"].append(power.baseline_w * wall)
        m = u.meter
        if m is not None:
            r = scn.link.radio
            m.close(u.stats.done_s + r.inactivity_s + r.tail_s)
            parts["radio_active"].append(m.energy_j["connected"] + m.energy_j["promotion"] + m.data_j)
            parts["radio_tail"].append(m.energy_j["tail"] + m.energy_j["idle"])
            parts["radio_state_s"].append(m.state_s - m.delay_s - (r.inactivity_s + r.tail_s))
        else:
            parts["radio_active"].append(0.0)
            parts["radio_tail"].append(0.0)
            parts["radio_state_s"].append(wall)
    mean = {k: float(np.mean(v)) for k, v in parts.items()}
    per_token = sum(mean[k] for k in ("compute", "radio_active", "radio_tail", "baseline")) / tokens
    return DeviceEnergy(mean["compute"], mean["radio_active"], mean["radio_tail"], mean["baseline"], per_token,
                        mean["radio_state_s"])


def summarise(scn, users, links, cloud, *, n_events, wall_s, tokens, tpot: Reservoir) -> SimMetrics:
    """The metrics of a finished simulation; names shared with the estimate's JSON keep its names and units."""
    b, n = scn.batch, scn.prompt_tokens
    start = min(u.stats.arrival_s for u in users)
    makespan = max(u.stats.done_s for u in users) - start
    decode_tps = [b * u.stats.tpot_count / u.stats.tpot_sum_s for u in users if u.stats.tpot_count]
    c2d = {ph: sum(d.bytes[ph] for _, d in links) for ph in ("prefill", "decode")}
    d2c = {ph: sum(up.bytes[ph] for up, _ in links) for ph in ("prefill", "decode")}
    generated = len(users) * b * tokens
    decoded = tpot.count * b
    return SimMetrics(**{
        "users": len(users), "tokens": tokens,
        "prefill_tokens_per_s": float(np.mean([b * n / u.stats.prefill_s for u in users])),
        "decode_tokens_per_s": float(np.mean(decode_tps)) if decode_tps else 0.0,
        "decode_tokens_per_s_per_user": 1 / tpot.mean if tpot.count else 0.0,
        "aggregate_tokens_per_s": generated / makespan,
        "ttft_s": float(np.mean([u.stats.ttft_s for u in users])),
        "ttft_p50_s": _pct([u.stats.ttft_s for u in users], 50),
        "ttft_p99_s": _pct([u.stats.ttft_s for u in users], 99),
        "tpot_mean_s": tpot.mean, "tpot_samples": len(tpot.samples),
        "tpot_p50_s": tpot.percentile(50), "tpot_p90_s": tpot.percentile(90), "tpot_p99_s": tpot.percentile(99),
        "makespan_s": makespan,
        "cloud_utilization": cloud.busy_s / makespan, "cloud_batches": cloud.batches,
        "device_utilization": float(np.mean([u.stats.device_busy_s / makespan for u in users])),
        "c2d_link_utilization": float(np.mean([d.busy_s / makespan for _, d in links])),
        "d2c_link_utilization": float(np.mean([up.busy_s / makespan for up, _ in links])),
        "c2d_bytes": sum(c2d.values()), "d2c_bytes": sum(d2c.values()),
        "prefill_c2d_bytes": c2d["prefill"], "prefill_d2c_bytes": d2c["prefill"],
        "c2d_bytes_per_token": c2d["decode"] / decoded if decoded else 0.0,  # per decoded token, as the estimate
        "d2c_bytes_per_token": d2c["decode"] / decoded if decoded else 0.0,
        "messages": sum(up.messages + d.messages for up, d in links),
        "events": n_events, "wall_s": wall_s, "events_per_s": n_events / wall_s if wall_s else 0.0,
    }, energy=energy_metrics(scn, users, tokens))
