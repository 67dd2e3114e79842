"""`plmodel plan`: which design serves this model to this device, and at what speed, battery, money and
privacy. Designs: cloud-only, device-only at each precision, PrivateLoRA split at a few ranks and
adapted-layer sets (fewer adapted layers, fewer round trips a token; what it costs in adaptation
quality is not modelled), with decoder layers held on the device, verifying a small draft model's
tokens (speculative decoding), and a plain split client with no adapters. Each is evaluated by
`estimate` (realistic accounting), marked infeasible
with its reason (memory, the time targets, the privacy asked for), and the feasible ones are ranked:
the Pareto front over time per token, device energy a token, cloud cost a million tokens and device
memory; the recommendation is the feasible design that hides the most, then uses the least device
energy, then is fastest."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from plmodel.analysis.estimate import estimate
from plmodel.analysis.privacy import CLOUD_ONLY, DEVICE_ONLY, LEVELS, PRIVATELORA, Exposure, of_split
from plmodel.designs import DESIGNS
from plmodel.specs import AdapterSpec
from plmodel.studies.backends import ordered_map

RANKS = (16, 64)
#: Adapted layers: all of them, the last quarter, the last one.
LAYER_SETS = ("all", "last quarter", "last")
METRICS = ("tpot_s", "device_energy_j_per_token", "usd_per_million_tokens", "device_memory_bytes")


@dataclass(frozen=True)
class Targets:
    tpot_s: float = 0.2
    ttft_s: float | None = None
    max_device_memory_bytes: float | None = None
    privacy: str = "none"  # what the cloud must not recover: prompt, output, or none


@dataclass
class Design:
    design: str
    tpot_s: float
    ttft_s: float
    device_memory_bytes: float
    device_energy_j_per_token: float | None
    usd_per_million_tokens: float | None
    cloud_can_recover: str
    privacy_reason: str
    feasible: bool = True
    reason: str = ""
    pareto: bool = False


def layer_set(name: str, n_layers: int):
    return {"all": None, "last quarter": tuple(range(n_layers - max(1, n_layers // 4), n_layers)),
            "last": (n_layers - 1,)}[name]


def split_designs(scn, tokens: int) -> list:
    out = []
    for rank in RANKS:
        for layers in LAYER_SETS:
            s = replace(scn, adapter=AdapterSpec(rank, rank, scn.adapter.targets or ("q", "k", "v"),
                                                 layer_set(layers, scn.model.n_layers), scn.adapter.act_bits,
                                                 scn.adapter.cloud_weight_bits, scn.adapter.device_weight_bits))
            e = estimate(s, tokens).flat()
            out.append(Design(f"split r{rank}, adapters on {layers} layer{'s' if layers != 'last' else ''}",
                              e["tpot_s"], e["ttft_s"], e["device_memory_bytes"], e.get("device_energy_j_per_token"),
                              e.get("split_usd_per_million_tokens"), PRIVATELORA.cloud_can_recover,
                              PRIVATELORA.reason, bool(e["split_fits_device"] and e["cloud_fits"]),
                              "" if e["split_fits_device"] else "the split part exceeds the device's memory"))
    return out


def plain_split_design(scn, tokens: int) -> Design:
    """No adapters: a plain split client, the hidden state crossing only at the stack's ends."""
    s = replace(scn, adapter=replace(scn.adapter, targets=(), layers=None, device_first=0, device_last=0))
    e = estimate(s, tokens).flat()
    return Design("split, no adapters", e["tpot_s"], e["ttft_s"], e["device_memory_bytes"],
                  e.get("device_energy_j_per_token"), e.get("split_usd_per_million_tokens"), PRIVATELORA.cloud_can_recover,
                  "as PrivateLoRA's, and with no M nothing is private", bool(e["split_fits_device"] and e["cloud_fits"]),
                  "" if e["split_fits_device"] else "the split part exceeds the device's memory")


def held_designs(scn, tokens: int) -> list:
    """PrivateLoRA at rank 64 with the first or the last decoder layer held on the device."""
    out = []
    for first, last in ((1, 0), (0, 1), (2, 2)):
        a = replace(scn.adapter, r_c2d=64, r_d2c=64, layers=None, device_first=first, device_last=last)
        e = estimate(replace(scn, adapter=a), tokens).flat()
        where = " + ".join(x for x in (f"first {first}" if first else "", f"last {last}" if last else "") if x)
        exposure = of_split(a)
        out.append(Design(f"split r64, device holds {where} layer(s)", e["tpot_s"], e["ttft_s"],
                          e["device_memory_bytes"], e.get("device_energy_j_per_token"),
                          e.get("split_usd_per_million_tokens"), exposure.cloud_can_recover, exposure.reason,
                          bool(e["split_fits_device"] and e["cloud_fits"]),
                          "" if e["split_fits_device"] else "the split part exceeds the device's memory"))
    return out


def variant_designs(cls, scn, tokens: int) -> list:
    """PrivateLoRA at rank 64 on every cloud layer with each variant a registered design offers `plan`."""
    a = replace(scn.adapter, r_c2d=64, r_d2c=64, targets=scn.adapter.targets or ("q", "k", "v"), layers=None,
                device_first=0, device_last=0)
    out = []
    for label, d in cls.variants(scn):
        e = estimate(replace(scn, adapter=a, designs=(d,)), tokens).flat()
        out.append(Design(f"split r64, {label}", e["tpot_s"], e["ttft_s"], e["device_memory_bytes"],
                          e.get("device_energy_j_per_token"), e.get("split_usd_per_million_tokens"),
                          PRIVATELORA.cloud_can_recover, PRIVATELORA.reason, bool(e["split_fits_device"] and e["cloud_fits"]),
                          "" if e["split_fits_device"] else f"the split part with {d.title} exceeds the device's memory"))
    return out


def baseline_designs(scn, tokens: int) -> list:
    e = estimate(scn, tokens).flat()
    out = [Design("cloud-only", 1 / e["cloud_only_decode_tokens_per_s"], e["cloud_only_ttft_s"], 0.0,
                  e.get("cloud_only_device_energy_j_per_token"), e.get("cloud_only_usd_per_million_tokens"),
                  CLOUD_ONLY.cloud_can_recover, CLOUD_ONLY.reason, bool(e["cloud_fits"]),
                  "" if e["cloud_fits"] else "no group of the cloud's GPUs holds it")]
    for bits in (4, 3):
        p = f"device_only_{bits}bit"
        fits = bool(e[f"{p}_fits"])
        out.append(Design(f"device-only {bits}-bit", 1 / e[f"{p}_decode_tokens_per_s"],
                          scn.prompt_tokens / e[f"{p}_prefill_tokens_per_s"], e[f"{p}_memory_bytes"],
                          e.get(f"{p}_energy_j_per_token"), 0.0, DEVICE_ONLY.cloud_can_recover, DEVICE_ONLY.reason,
                          fits, "" if fits else "the whole model exceeds the device's memory"))
    return out


def check(d: Design, t: Targets) -> None:
    """Mark `d` infeasible, with every reason, where it does not fit or misses a target."""
    reasons = [d.reason] if d.reason else ([] if d.feasible else ["it does not fit"])
    if d.tpot_s > t.tpot_s:
        reasons.append(f"{d.tpot_s * 1e3:,.0f} ms a token, above {t.tpot_s * 1e3:g} ms")
    if t.ttft_s is not None and d.ttft_s > t.ttft_s:
        reasons.append(f"first token after {d.ttft_s * 1e3:,.0f} ms, above {t.ttft_s * 1e3:g} ms")
    if t.max_device_memory_bytes is not None and d.device_memory_bytes > t.max_device_memory_bytes:
        reasons.append(f"{d.device_memory_bytes / 1e6:,.0f} MB on the device, above "
                       f"{t.max_device_memory_bytes / 1e6:,.0f} MB")
    if not Exposure(d.cloud_can_recover, "").hides(t.privacy):
        reasons.append(f"the cloud can recover the {d.cloud_can_recover}")
    d.feasible, d.reason = not reasons, "; ".join(reasons)


def dominates(a: Design, b: Design) -> bool:
    """a is no worse than b on every metric and better on one (a missing figure counts as worst)."""
    def v(d, m):
        x = getattr(d, m)
        return float("inf") if x is None else x
    return all(v(a, m) <= v(b, m) for m in METRICS) and any(v(a, m) < v(b, m) for m in METRICS)


#: The families of designs the search evaluates, each fn(scn, tokens) -> [Design].
FAMILIES = (baseline_designs, split_designs, held_designs, lambda scn, tokens: [plain_split_design(scn, tokens)],
            *(functools.partial(variant_designs, cls) for cls in DESIGNS))


def evaluate_family(index: int, scn, tokens: int) -> list:
    """The designs of family `index` (a picklable unit of work for a backend)."""
    return FAMILIES[index](scn, tokens)


def plan(scn, targets: Targets, tokens: int = 128, *, backend: str = "serial", jobs: int = 1,
         address: str | None = None) -> tuple:
    """([Design], recommended Design or None); the families of designs evaluated on `backend` (backends.py)."""
    work = functools.partial(evaluate_family, scn=scn, tokens=tokens)
    designs = [d for family in ordered_map(work, list(range(len(FAMILIES))), backend, jobs, address) for d in family]
    for d in designs:
        check(d, targets)
    feasible = [d for d in designs if d.feasible]
    for d in feasible:
        d.pareto = not any(dominates(o, d) for o in feasible if o is not d)
    best = min(feasible, key=lambda d: (-LEVELS.index(d.cloud_can_recover),
                                        d.device_energy_j_per_token if d.device_energy_j_per_token is not None
                                        else float("inf"), d.tpot_s), default=None)
    return designs, best
