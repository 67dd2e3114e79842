"""`plmodel plan`: which design serves this model to this device, and at what speed, battery, money and
privacy. Designs: cloud-only, device-only at each precision, PrivateLoRA split at a few ranks and
adapted-layer sets (fewer adapted layers, fewer round trips a token; what it costs in adaptation
quality is not modelled), with decoder layers held on the device, a plain split client with no adapters,
and every variant the registry's designs offer (designs/): a split variant (a draft model, a pipelined
prefill, private device layers, token ids up) or a cloud-only one (a GPU TEE, per-user LoRA), and
device-only verifying the same draft. Each is evaluated by `estimate` (realistic accounting, typed
Estimate fields), marked infeasible with its reason (memory, the time targets, what the cloud can
recover against the privacy asked for), and the feasible ones are ranked: the Pareto front over time per
token, device energy a token, cloud cost a million tokens, device memory and how much the cloud can recover;
the recommendation is the
feasible design that hides the most, then uses the least device energy, then is fastest."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np

from plmodel.analysis.energy import device_only_energy
from plmodel.analysis.estimate import estimate
from plmodel.analysis.privacy import DEVICE_ONLY
from plmodel.designs import DESIGNS, HeldLayers
from plmodel.frozen import frozen
from plmodel.specs import AdapterSpec
from plmodel.studies.backends import ordered_map
from plmodel.vectors import as_float

RANKS = (16, 64)
#: Adapted layers: all of them, the last quarter, the last one.
LAYER_SETS = ("all", "last quarter", "last")
#: The Pareto front's metrics, each the less the better (`exposed`: how many things the cloud can recover).
METRICS = ("tpot_s", "device_energy_j_per_token", "usd_per_million_output_tokens", "device_memory_bytes", "exposed")


@frozen
class Targets:
    tpot_s: float = 0.2
    ttft_s: float | None = None
    max_device_memory_bytes: float | None = None
    privacy: tuple = ()  # what the cloud must not recover: names from designs/exposure.WHAT


@dataclass
class Design:
    design: str
    tpot_s: float
    ttft_s: float
    device_memory_bytes: float
    device_energy_j_per_token: float | None
    usd_per_million_output_tokens: float | None
    cloud_can_recover: list
    privacy_reason: str
    feasible: bool = True
    reason: str = ""
    pareto: bool = False
    cloud_can_recover_tokens: dict = field(default_factory=dict)  # {what: tokens that must cross first}

    @property
    def exposed(self) -> int:
        """How many things the cloud can recover (prompt, output, adapter)."""
        return len(self.cloud_can_recover)


def layer_set(name: str, n_layers: int):
    return {"all": None, "last quarter": tuple(range(n_layers - max(1, n_layers // 4), n_layers)),
            "last": (n_layers - 1,)}[name]


def _exposed(x) -> dict:
    """The privacy fields of a Design from an Exposure."""
    return {"cloud_can_recover": x.cloud_can_recover, "privacy_reason": x.reason,
            "cloud_can_recover_tokens": {r.what: r.tokens for r in x.recoveries}}


def split_row(name: str, e, unfit: str = "the split part exceeds the device's memory") -> Design:
    """The split of an estimate as a plan row."""
    fits = bool(e.split_fits_device and e.cloud_fit.fits)
    return Design(name, as_float(e.decode.total_s * e.inputs["batch"] / e.decode.tokens), as_float(e.prefill.total_s),
                  as_float(e.device_memory_bytes), e.energy.split.j_per_token if e.energy else None,
                  e.cost.split_usd_per_million_output_tokens if e.cost else None, **_exposed(e.exposure), feasible=fits,
                  reason="" if e.split_fits_device else unfit)


def cloud_only_row(name: str, e, usd=None) -> Design:
    """Cloud-only of an estimate as a plan row (`usd`: its cost where the estimate has none)."""
    c = e.cloud_only
    usd = e.cost.cloud_only_usd_per_million_output_tokens if e.cost else usd
    return Design(name, 1 / c.decode_tokens_per_s, c.ttft_s, 0.0, e.energy.cloud_only.j_per_token if e.energy else None,
                  usd, **_exposed(e.cloud_only_exposure), feasible=bool(e.cloud_fit.fits),
                  reason="" if e.cloud_fit.fits else "no group of the cloud's GPUs holds it")


def device_only_row(name: str, scn, e, d, tokens: int) -> Design:
    """A device-only precision (baselines.DeviceOnly) as a plan row; nothing leaves the device."""
    energy = device_only_energy(scn, d, tokens).j_per_token if e.energy else None
    return Design(name, scn.batch / d.decode_tokens_per_s, scn.batch * scn.prompt_tokens / d.prefill_tokens_per_s,
                  d.memory_bytes, energy, 0.0, **_exposed(DEVICE_ONLY), feasible=bool(d.fits),
                  reason="" if d.fits else "the whole model exceeds the device's memory")


def split_designs(scn, tokens: int, cost: bool = True) -> list:
    out = []
    for rank in RANKS:
        for layers in LAYER_SETS:
            s = replace(scn, adapter=AdapterSpec(rank, rank, scn.adapter.targets or ("q", "k", "v"),
                                                 layer_set(layers, scn.model.n_layers), scn.adapter.act_bits,
                                                 scn.adapter.cloud_weight_bits, scn.adapter.device_weight_bits))
            out.append(split_row(f"split r{rank}, adapters on {layers} layer{'s' if layers != 'last' else ''}",
                                 estimate(s, tokens, with_cost=cost)))
    return out


def plain_split_design(scn, tokens: int, cost: bool = True) -> list:
    """No adapters: a plain split client, the hidden state crossing only at the stack's ends."""
    s = replace(scn, adapter=replace(scn.adapter, targets=(), layers=None))
    return [split_row("split, no adapters", estimate(s, tokens, with_cost=cost))]


def held_designs(scn, tokens: int, cost: bool = True) -> list:
    """PrivateLoRA at rank 64 with the variants of layers held on the device (public weights) the design offers,
    each shown (not only where it beats the split: it is how the cloud's view of the prompt and output changes)."""
    a = replace(scn.adapter, r_c2d=64, r_d2c=64, layers=None)
    return [split_row(f"split r64, {label}", estimate(replace(scn, adapter=a, designs=(*scn.designs, d)), tokens,
                                                      with_cost=cost))
            for label, d in HeldLayers.variants(scn)]


def r64(scn):
    """PrivateLoRA at rank 64 on every cloud layer: the split each design's variants change."""
    return replace(scn.adapter, r_c2d=64, r_d2c=64, targets=scn.adapter.targets or ("q", "k", "v"), layers=None)


def variant_designs(cls, scn, tokens: int, cost: bool = True) -> list:
    """Each variant a registered design offers `plan`: as a split at rank 64 (not offered where it is no faster
    a token and no sooner to the first token than that split), as cloud-only, and device-only with it (a draft)."""
    a, out, variants = r64(scn), [], cls.variants(scn)
    base = estimate(replace(scn, adapter=a), tokens, with_cost=cost) if variants else None
    base_row = split_row("", base) if variants else None
    for label, d in variants:
        e = estimate(replace(scn, adapter=d.variant_adapter(a), designs=(d,)), tokens, with_cost=cost)
        if cls.serves == "cloud-only":
            usd = d.usd_scale(scn, _batch(base)) if cost else None  # no cost view: no scale
            plain = base.cost.cloud_only_usd_per_million_output_tokens if base.cost else None
            out.append(cloud_only_row(label, e, None if usd is None or plain is None else plain * usd))
            continue
        row = split_row(f"split r64, {label}", e, f"the split part with {d.title} exceeds the device's memory")
        if _helps(row, base_row) or d.cloud_sees(scn, base.exposure, "split") != base.exposure:
            out.append(row)
        out += [device_only_row(f"device-only {x.bits}-bit, {label}", scn, e, x, tokens)
                for x in e.device_only_with_designs]
    return out


def _helps(row: Design, base: Design) -> bool:
    """Whether a variant is faster a token or sooner to the first token than the split it changes."""
    return bool(np.any(row.tpot_s < base.tpot_s) or np.any(row.ttft_s < base.ttft_s))  # in any sample, if arrays


def _batch(e) -> float:
    """Sequences a cloud-only replica serves at the estimate's load (1 without a cost view)."""
    c = e.cost
    return c.users / c.cloud_only_replicas if c and c.cloud_only_replicas else 1.0


def baseline_designs(scn, tokens: int, cost: bool = True) -> list:
    e = estimate(scn, tokens, with_cost=cost)
    out = [cloud_only_row("cloud-only", e)]
    by_bits = {d.bits: d for d in e.device_only}
    return out + [device_only_row(f"device-only {b}-bit", scn, e, by_bits[b], tokens) for b in (4, 3)]


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
    seen = [w for w in t.privacy if w in d.cloud_can_recover]
    if seen:
        reasons.append(f"the cloud can recover the {' and the '.join(seen)}")
    d.feasible, d.reason = not reasons, "; ".join(reasons)


def dominates(a: Design, b: Design) -> bool:
    """a is no worse than b on every metric and better on one (a missing figure counts as worst)."""
    def v(d, m):
        x = getattr(d, m)
        return float("inf") if x is None else x
    return all(v(a, m) <= v(b, m) for m in METRICS) and any(v(a, m) < v(b, m) for m in METRICS)


#: The families of designs the search evaluates, each fn(scn, tokens) -> [Design].
#: The designs whose variants are a family of their own (the layers held, above) are not among VARIANT_DESIGNS.
VARIANT_DESIGNS = tuple(cls for cls in DESIGNS if cls is not HeldLayers)
FAMILIES = (baseline_designs, split_designs, held_designs, plain_split_design,
            *(functools.partial(variant_designs, cls) for cls in VARIANT_DESIGNS))


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
    best = min(feasible, key=lambda d: (len(d.cloud_can_recover),
                                        d.device_energy_j_per_token if d.device_energy_j_per_token is not None
                                        else float("inf"), d.tpot_s), default=None)
    return designs, best
