"""The spread of an estimate's headline figures and verdicts over the ranges its [U] and [D] figures carry.

The ranges (ranges.Uncertain, gathered by io/scenario_ranges.py) are sampled by a Latin hypercube (each
range cut into N equal strata, one draw a stratum, the strata shuffled independently a range; uniform
within a range, numpy only, seeded), the closed form re-run on the samples at once (a vectorised scenario:
every sampled field an array of N values; point by point where a design is not vectorised or a draft's
acceptance is sampled), and each headline figure summarised by its 5th, 50th and 95th percentiles; each
verdict by the share of samples in which it holds. A tornado swings one range at a time to its ends, the
others at their figures.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from plmodel.analysis.estimate import estimate
from plmodel.hardware.runtimes import resolve

#: The headline figures (flat estimate keys) and their units as printed: (key, label, unit, SI per unit).
HEADLINES = (
    ("decode_tokens_per_s", "split decode", "tok/s", 1.0),
    ("cloud_only_decode_tokens_per_s", "cloud-only decode", "tok/s", 1.0),
    ("device_only_decode_tokens_per_s", "device-only decode, fastest fitting", "tok/s", 1.0),
    ("ttft_s", "split time to first token", "ms", 1e-3),
    ("device_energy_j_per_token", "split device energy", "J/token", 1.0),
    ("device_only_energy_j_per_token", "device-only energy, cheapest fitting", "J/token", 1.0),
    ("cloud_only_device_energy_j_per_token", "cloud-only device energy", "J/token", 1.0),
    ("break_even_rtt_s", "speed break-even RTT", "ms", 1e-3),
    ("energy_break_even_rtt_s", "energy break-even RTT", "ms", 1e-3),
)
#: Verdicts: (key, what holds) computed from a sample's flat record by `verdicts`.
VERDICTS = (("split_faster_than_device_only", "split decodes faster than device-only"),
            ("split_less_energy_than_device_only", "split uses less device energy a token than device-only"),
            ("split_faster_than_cloud_only", "split decodes faster than cloud-only"))


def latin_hypercube(n: int, k: int, seed: int) -> np.ndarray:
    """(n, k) points in [0, 1): each column one uniform draw in each of n equal strata, in a random order."""
    rng = np.random.default_rng(seed)
    u = (np.arange(n)[:, None] + rng.random((n, k))) / n
    for j in range(k):
        u[:, j] = u[rng.permutation(n), j]
    return u


def sample(params: list, n: int, seed: int) -> np.ndarray:
    """(n, len(params)) SI values: each range sampled uniformly by a Latin hypercube."""
    u = latin_hypercube(n, len(params), seed)
    low = np.array([p.low for p in params])
    high = np.array([p.high for p in params])
    return low + u * (high - low)


def _set(obj, path: str, value):
    """`obj` with the dotted field `path` set to `value` (each frozen dataclass rebuilt, its checks run)."""
    head, _, rest = path.partition(".")
    return replace(obj, **{head: _set(getattr(obj, head), rest, value) if rest else value})


def applied(scn, params: list, values: list):
    """The scenario with each Uncertain figure set to its value (a number, or an array for a vectorised one)."""
    cloud_rt, device_rt = resolve(scn)
    for p, v in zip(params, values, strict=True):
        if p.owner in ("cloud", "device", "link"):
            scn = replace(scn, **{p.owner: _set(getattr(scn, p.owner), p.path, v)})
        elif p.owner == "radio":
            scn = replace(scn, link=replace(scn.link, radio=_set(scn.link.radio, p.path, v)))
        elif p.owner == "cloud_runtime" and scn.mode != "paper":  # the paper's accounting runs its measured cloud
            cloud_rt = _set(cloud_rt, p.path, v)
            scn = replace(scn, cloud_runtime=cloud_rt)
        elif p.owner == "device_runtime":
            device_rt = _set(device_rt, p.path, v)
            scn = replace(scn, device_runtime=device_rt)
        elif p.owner == "speculative":
            scn = replace(scn, designs=tuple(_set(d, p.path, v) if d.name == "speculative" else d for d in scn.designs))
    return scn


def pointwise(scn, params: list) -> bool:
    """Whether the samples must be estimated one by one (a design the vectorised closed form cannot take)."""
    return any(not d.vectorised for d in scn.designs) or any(p.owner == "speculative" for p in params)


def records(scn, params: list, values: np.ndarray, tokens: int, progress=None) -> dict:
    """{flat key: array over the samples} of the estimate at each row of `values` (headlines and verdicts)."""
    if not pointwise(scn, params):
        flat = estimate(applied(scn, params, list(values.T)), tokens, with_cost=False).flat()
        return with_verdicts({k: np.broadcast_to(np.asarray(v, dtype=float), len(values)) for k, v in
                              _numeric(flat).items()})
    rows = []
    for i, row in enumerate(values):
        rows.append(_numeric(estimate(applied(scn, params, [float(v) for v in row]), tokens, with_cost=False).flat()))
        if progress:
            progress(i + 1, len(values))
    return with_verdicts({k: np.array([r.get(k, np.nan) for r in rows], dtype=float) for k in rows[0]})


def _numeric(flat: dict) -> dict:
    """The numeric fields of a flat record (None as NaN), with the fastest fitting device-only speed."""
    out = {k: (np.nan if v is None else v) for k, v in flat.items()
           if v is None or isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
           or isinstance(v, np.ndarray) and v.dtype.kind in "fiu"}
    out.update({k: np.asarray(v, dtype=float) for k, v in flat.items() if k.endswith("_fits")})
    bits = sorted(int(m.group(1)) for m in (re.fullmatch(r"device_only_(\d+)bit_fits", k) for k in flat) if m)
    best = np.nan
    for b in bits:
        tps = np.asarray(out[f"device_only_{b}bit_decode_tokens_per_s"], dtype=float)
        fits = np.asarray(out[f"device_only_{b}bit_fits"], dtype=bool)
        best = np.where(fits & ~(tps <= best), tps, best)
    out["device_only_decode_tokens_per_s"] = best
    return out


def with_verdicts(rec: dict) -> dict:
    """`rec` with each verdict's truth (1.0 holds, 0.0 not, NaN where there is nothing to compare with)."""
    def holds(a, b):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return np.where(np.isnan(a) | np.isnan(b), np.nan, (a < b).astype(float))

    energy = rec.get("device_only_energy_j_per_token", np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = {"split_to_device_only_speed": np.asarray(rec["decode_tokens_per_s"]) / rec["device_only_decode_tokens_per_s"],
                  "split_to_device_only_energy": np.asarray(rec.get("device_energy_j_per_token", np.nan)) / energy}
    return {**rec, **ratios, "split_faster_than_device_only": holds(rec["device_only_decode_tokens_per_s"], rec["decode_tokens_per_s"]),
            "split_less_energy_than_device_only": holds(rec.get("device_energy_j_per_token", np.nan), energy),
            "split_faster_than_cloud_only": holds(rec["cloud_only_decode_tokens_per_s"], rec["decode_tokens_per_s"])}


def percentiles(x) -> tuple:
    """(p5, p50, p95) of the finite values of `x`; Nones where there are none."""
    a = np.asarray(x, dtype=float)
    a = a[np.isfinite(a)]
    return tuple(float(v) for v in np.percentile(a, (5, 50, 95))) if a.size else (None, None, None)


def share(x):
    """The share of samples in which a verdict holds, among those where it can be judged; None if none can."""
    a = np.asarray(x, dtype=float)
    a = a[~np.isnan(a)]
    return float(a.mean()) if a.size else None


def summary(rec: dict, n: int) -> dict:
    """The flat JSON fields: `<field>_p5`, `_p50`, `_p95` of each headline, `<verdict>_share` of each verdict,
    `<field>_defined_share` where a figure is missing in some samples (a break-even that never comes)."""
    out = {"uncertainty_samples": n}
    for key, *_ in HEADLINES:
        if key not in rec:
            continue
        for q, v in zip(("p5", "p50", "p95"), percentiles(rec[key]), strict=True):
            out[f"{key}_{q}"] = v
        defined = float(np.isfinite(np.asarray(rec[key], dtype=float)).mean())
        if defined < 1:
            out[f"{key}_defined_share"] = defined
    out.update({f"{key}_share": share(rec[key]) for key, _ in VERDICTS})
    return out


def run(scn, params: list, n: int, seed: int, tokens: int = 128, progress=None) -> dict:
    """The summary (`summary`) of `n` samples of the scenario's ranges, seeded."""
    return summary(records(scn, params, sample(params, n, seed), tokens, progress), n)


#: What the tornado swings: (flat key, label, unit, SI per unit).
TORNADO = (("split_to_device_only_energy", "split / device-only energy a token (below 1: split uses less)", "", 1.0),
           ("split_to_device_only_speed", "split / device-only decode speed (above 1: split is faster)", "", 1.0),
           ("energy_break_even_rtt_s", "energy break-even RTT", "ms", 1e-3),
           ("break_even_rtt_s", "speed break-even RTT", "ms", 1e-3))


def tornado(scn, params: list, tokens: int = 128) -> dict:
    """{flat key: (value at the figures, [(param name, value at its low end, at its high end)], largest swing
    first)}: one range at a time, the others at their figures."""
    k = len(params)
    nominal = np.array([p.value for p in params])
    values = np.tile(nominal, (2 * k + 1, 1))
    for j, p in enumerate(params):
        values[2 * j, j], values[2 * j + 1, j] = p.low, p.high
    rec = records(scn, params, values, tokens)
    out = {}
    for key, *_ in TORNADO:
        v = np.asarray(rec.get(key, np.full(2 * k + 1, np.nan)), dtype=float)
        swings = [(p.name, float(v[2 * j]), float(v[2 * j + 1])) for j, p in enumerate(params)]
        swings.sort(key=lambda s: -np.nan_to_num(abs(s[2] - s[1]), nan=-1.0))
        out[key] = (float(v[-1]), swings)
    return out
