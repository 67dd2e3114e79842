"""What the explorer's page shows, computed by plmodel's API: pure functions of `Choices` (scenario.py).

Each figure is the CLI's for the same scenario: the headline and the decode step are `estimate`'s flat record
(`plmodel estimate --json`), a point of the RTT curves is that record at `--rtt-ms` that RTT, the plan is
`plmodel plan`'s designs and the capacity `plmodel capacity --analytic`'s. Units: SI inside the records;
the tables give ms, MB, J, USD as their column names say.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from plmodel import designs
from plmodel.analysis.estimate import estimate
from plmodel.errors import PlmodelError
from plmodel.explore.scenario import Choices, FleetTargets, PlanTargets, build_scenario, check_output, named
from plmodel.fleet import replicas
from plmodel.fleet.capacity import Case, Slo
from plmodel.fleet.cloud_only import BatchingSpec
from plmodel.fleet.policies import PolicySpec
from plmodel.fleet.replica import replica
from plmodel.frozen import frozen
from plmodel.studies.plan import Targets, plan

MS, MB = 1e3, 1e-6
#: The headline figures: (label, flat key, scale, format, unit), in the order the page shows them.
HEADLINE = (("time per token", "tpot_s", MS, "{:,.1f}", "ms"), ("decode", "decode_tokens_per_s", 1, "{:,.2f}", "tok/s"),
            ("time to first token", "ttft_s", MS, "{:,.0f}", "ms"),
            ("device memory", "device_memory_bytes", MB, "{:,.1f}", "MB"),
            ("device energy", "device_energy_j_per_token", 1, "{:,.3f}", "J/token"),
            ("split cost", "split_usd_per_million_output_tokens", 1, "{:,.3f}", "USD/M output tok"),
            ("cloud-only cost", "cloud_only_usd_per_million_output_tokens", 1, "{:,.3f}", "USD/M output tok"))
#: The parts of a decode step: (label, flat key).
STEP_PARTS = (("cloud", "decode_cloud_s"), ("device", "decode_device_s"), ("transfer", "decode_transfer_s"),
              ("latency", "decode_latency_s"))


def flat_estimate(c: Choices) -> dict:
    """`plmodel estimate --json` for `c` (the same flat record, SI units)."""
    check_output(c)
    scn = build_scenario(c)
    return named(lambda s: estimate(s, c.output_tokens, c.users), scn).flat()


def shown(value, scale: float, fmt: str) -> str:
    """A figure as the page writes it ('-' for none)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return fmt.format(value * scale)


def headline(flat: dict) -> list:
    """[(label, text, unit)] of the headline figures of an estimate's flat record."""
    return [(label, shown(flat.get(key), scale, fmt), unit) for label, key, scale, fmt, unit in HEADLINE]


def step_breakdown(flat: dict) -> pd.DataFrame:
    """A decode step's parts (ms and share of the step), as `estimate`'s table."""
    ms = [flat[key] * MS for _, key in STEP_PARTS]
    total = flat["decode_step_s"] * MS
    return pd.DataFrame({"part": [p for p, _ in STEP_PARTS], "ms": ms, "share": [m / total for m in ms]})


@frozen
class Curves:
    """Decode tokens/s and device energy a token against RTT, and the break-evens (ms; None: none)."""

    table: pd.DataFrame
    break_even_ms: float | None
    energy_break_even_ms: float | None
    device_only_bits: int | None
    rtt_ms: float


def rtt_points(rtt_ms: float, break_evens: tuple, n: int = 24) -> list:
    """RTTs (ms) for the curves: 0 to past the scenario's RTT and its break-evens, those included."""
    top = max(100.0, 1.5 * rtt_ms, *(1.5 * b for b in break_evens if b is not None))
    return sorted({*np.round(np.linspace(0.0, top, n), 6).tolist(), rtt_ms, *(b for b in break_evens if b is not None)})


def rtt_curves(c: Choices, n: int = 24) -> Curves:
    """Decode tok/s and device J/token against RTT for split, cloud-only and device-only (the fastest precision
    that fits); every row is `estimate --rtt-ms RTT --json` of `c`."""
    here = flat_estimate(c)
    b = here.get("break_even_rtt_s")
    eb = here.get("energy_break_even_rtt_s")
    marks = (None if b is None else b * MS, None if eb is None else eb * MS)
    bits = here.get("break_even_yardstick_bits")
    rows = []
    for rtt in rtt_points(here["rtt_s"] * MS, marks, n):
        f = flat_estimate(replace(c, rtt_ms=rtt))
        rows.append({"rtt_ms": rtt, "split_tokens_per_s": f["decode_tokens_per_s"],
                     "cloud_only_tokens_per_s": f["cloud_only_decode_tokens_per_s"],
                     "device_only_tokens_per_s": f.get(f"device_only_{bits}bit_decode_tokens_per_s") if bits else None,
                     "split_j_per_token": f.get("device_energy_j_per_token"),
                     "cloud_only_j_per_token": f.get("cloud_only_device_energy_j_per_token"),
                     "device_only_j_per_token": f.get("device_only_energy_j_per_token")})
    return Curves(pd.DataFrame(rows), *marks, bits, here["rtt_s"] * MS)


def plan_choices(c: Choices) -> Choices:
    """`c` as `plmodel plan` reads it: plan tries its own ranks, layers and variant designs."""
    own = {p.name for cls in designs.set_for_plan() for p in cls.params}
    return replace(c, rank=64, rank_c2d=None, rank_d2c=None, layers="all", mode="realistic", users=None,
                   design_values=tuple((k, v) for k, v in c.design_values if k in own))


def plan_table(c: Choices, t: PlanTargets) -> tuple:
    """(DataFrame of `plmodel plan --json`'s designs, the recommended design's name or None) for `c`."""
    for name in ("tpot_ms", "ttft_ms", "max_device_memory_mb"):
        v = getattr(t, name)
        if v is not None and not 0 < v <= 1e9:
            raise PlmodelError(f"--{name.replace('_', '-')}: expected a positive number, got {v}")
    check_output(c)
    scn = build_scenario(plan_choices(c), designs.set_for_plan())
    targets = Targets(t.tpot_ms / MS, t.ttft_ms / MS if t.ttft_ms else None,
                      t.max_device_memory_mb / MB if t.max_device_memory_mb else None, tuple(t.privacy))
    rows, best = named(lambda s: plan(s, targets, c.output_tokens), scn)
    table = pd.DataFrame([asdict(d) for d in rows])
    table["cloud_can_recover"] = [", ".join(x) if not isinstance(x, str) else x for x in table["cloud_can_recover"]]
    return table, (best.design if best else None)


def capacity(c: Choices, t: FleetTargets) -> pd.DataFrame:
    """`plmodel capacity --analytic` for `c` (one replica of the size chosen, fleet/replicas.py): per server (split,
    cloud-only), the GPUs a replica, the most requests/s within the SLO, the users in flight, tokens/s, time per
    token, what binds and USD per million output tokens and per million tokens (prompt and output)."""
    for name, v in (("tpot-ms", t.tpot_ms), ("ttft-ms", t.ttft_ms)):
        if not 0 < v <= 1e9:
            raise PlmodelError(f"--{name}: expected a positive number, got {v}")
    for name in ("prompt_tokens", "output_tokens"):
        if not 1 <= getattr(c, name) <= 10_000_000:
            raise PlmodelError(f"--{name.replace('_', '-')}: expected an integer from 1 to 10,000,000, "
                               f"got {getattr(c, name)}")
    scn = build_scenario(replace(c, batch=1, mode="realistic"))
    named(replica, scn)
    slo = Slo(t.tpot_ms / MS, t.ttft_ms / MS, 90)
    rows = []
    for kind in ("split", "cloud-only"):
        case = Case(scn, kind, slo, c.prompt_tokens, c.output_tokens, PolicySpec(), BatchingSpec(), False)
        sized = named(lambda _: replicas.size(case), scn)
        got = sized.of(sized.chosen)
        rows.append({"server": kind, "gpus_a_replica": got.gpus, "max_rate_per_s": got.max_rate_per_s,
                     "max_users": got.max_users, "tokens_per_s": got.tokens_per_s, "tpot_s": got.tpot_s,
                     "binding_limit": got.binding_limit,
                     "usd_per_million_output_tokens": got.usd_per_million_output_tokens,
                     "usd_per_million_tokens": got.usd_per_million_tokens})
    return pd.DataFrame(rows)


def capacity_curve(c: Choices, t: FleetTargets, tpots_ms: tuple = (50, 100, 200, 500, 1000, 2000, 5000)) -> pd.DataFrame:
    """The most requests/s a GPU serves (on a replica of the size chosen at each target), split and cloud-only, at
    each time-per-token target (ms)."""
    rows = []
    for tpot in sorted({*tpots_ms, t.tpot_ms}):
        got = capacity(c, replace(t, tpot_ms=float(tpot))).set_index("server")
        rate = got["max_rate_per_s"] / got["gpus_a_replica"]
        rows.append({"tpot_ms": tpot, "split_max_rate_per_s": rate["split"], "cloud_only_max_rate_per_s": rate["cloud-only"]})
    return pd.DataFrame(rows)
