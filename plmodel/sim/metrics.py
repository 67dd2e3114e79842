"""Metrics of a finished simulation: latencies, tokens/s, utilisation and bytes, in SI units."""

from __future__ import annotations

import numpy as np

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


def energy_metrics(scn, users, tokens: int) -> dict:
    """Device energy a token and its parts (J), mean over users: compute, the radio's states (each
    user's RadioMeter, closed after the tail that follows its answer), the baseline while it waited."""
    power = scn.device.power
    if power is None:
        return {}
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
    out = {f"device_energy_{k}_j": float(np.mean(v)) for k, v in parts.items() if k != "radio_state_s"}
    out["device_energy_j_per_token"] = sum(out.values()) / tokens
    out["radio_state_s_mean"] = float(np.mean(parts["radio_state_s"]))
    return out


def summarise(scn, users, links, cloud, *, n_events, wall_s, tokens, tpot: Reservoir) -> dict:
    """A flat dict of metrics; keys shared with the estimate's JSON keep its names and units."""
    b, n = scn.batch, scn.prompt_tokens
    start = min(u.stats.arrival_s for u in users)
    makespan = max(u.stats.done_s for u in users) - start
    decode_tps = [b * u.stats.tpot_count / u.stats.tpot_sum_s for u in users if u.stats.tpot_count]
    c2d = {ph: sum(d.bytes[ph] for _, d in links) for ph in ("prefill", "decode")}
    d2c = {ph: sum(up.bytes[ph] for up, _ in links) for ph in ("prefill", "decode")}
    generated = len(users) * b * tokens
    decoded = tpot.count * b
    out = {**energy_metrics(scn, users, tokens),
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
    }
    return out
