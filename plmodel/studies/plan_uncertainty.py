"""`plan --uncertainty N`: which design plan recommends across samples of the ranged figures, and how often.

The families of designs (studies/plan.py) are evaluated once on a vectorised scenario holding every sample
(analysis/uncertainty.py; no cost: the recommendation does not read it); a family whose design the vectorised
closed form cannot take (a pipelined prefill) is held at the figures and marked so; then, per sample, the same targets and the same
ranking as `plan`: the feasible design that hides the most, then uses the least device energy, then is
fastest. A draft's acceptance is not sampled here: plan tries its own (0.5 and 0.7)."""

from __future__ import annotations

import numpy as np

from plmodel.analysis import uncertainty
from plmodel.io.scenario_ranges import scenario_ranges
from plmodel.studies.plan import FAMILIES, VARIANT_DESIGNS, Targets


def _vectorised(index: int) -> bool:
    """Whether family `index` can be evaluated on a vectorised scenario."""
    first = len(FAMILIES) - len(VARIANT_DESIGNS)
    return index < first or VARIANT_DESIGNS[index - first].vectorised


def sampled_designs(scn, params: list, values: np.ndarray, tokens: int) -> list:
    """[(name, tpot array, ttft array, energy array or None, Design)] of every design; a design the vectorised
    closed form cannot take (a pipelined prefill) held at the figures, its name marked [not sampled]."""
    n, vec, out = len(values), uncertainty.applied(scn, params, list(values.T)), []
    for i, family in enumerate(FAMILIES):
        if _vectorised(i):
            out += [(d.design, *(np.broadcast_to(np.asarray(x, dtype=float), n) for x in (d.tpot_s, d.ttft_s)),
                     None if d.device_energy_j_per_token is None else
                     np.broadcast_to(np.asarray(d.device_energy_j_per_token, dtype=float), n), d)
                    for d in family(vec, tokens, cost=False)]
            continue
        held = family(scn, tokens, cost=False)  # at the figures: the vectorised closed form cannot take it
        out += [(f"{d.design} [not sampled]", np.full(n, d.tpot_s), np.full(n, d.ttft_s),
                 None if d.device_energy_j_per_token is None else np.full(n, d.device_energy_j_per_token), d)
                for d in held]
    return out


def feasible(d, tpot, ttft, t: Targets) -> np.ndarray:
    """Per sample, whether a design fits and meets the targets (plan.check's conditions)."""
    ok = np.full(tpot.shape, bool(d.feasible)) & (tpot <= t.tpot_s)
    if t.ttft_s is not None:
        ok &= ttft <= t.ttft_s
    if t.max_device_memory_bytes is not None and np.max(d.device_memory_bytes) > t.max_device_memory_bytes:
        ok[:] = False
    if any(w in d.cloud_can_recover for w in t.privacy):
        ok[:] = False
    return ok


def recommended(rows: list, targets: Targets, n: int) -> np.ndarray:
    """Per sample, the index into `rows` of the design plan recommends (-1: none meets the targets)."""
    best = np.full(n, -1)
    key = (np.full(n, np.inf), np.full(n, np.inf), np.full(n, np.inf))
    for i, (_, tpot, ttft, energy, d) in enumerate(rows):
        ok = feasible(d, tpot, ttft, targets)
        mine = (np.full(n, float(len(d.cloud_can_recover))), np.full(n, np.inf) if energy is None else energy, tpot)
        better = (mine[0] < key[0]) | ((mine[0] == key[0]) & ((mine[1] < key[1]) | ((mine[1] == key[1]) & (mine[2] < key[2]))))
        take = ok & better
        best = np.where(take, i, best)
        key = tuple(np.where(take, m, k) for m, k in zip(mine, key, strict=True))
    return best


def plan_uncertainty(scn, targets: Targets, tokens: int, n: int, seed: int) -> dict:
    """{'samples', 'ranged', 'recommended_shares': {design or 'none': share}, 'designs': {design: {field_pX}}}."""
    params = [p for p in scenario_ranges(scn) if p.owner != "speculative"]
    if not params:
        return {"samples": 0, "seed": seed, "ranged": 0, "recommended_shares": {}, "designs": {}}
    rows = sampled_designs(scn, params, uncertainty.sample(params, n, seed), tokens)
    best = recommended(rows, targets, n)
    names = [r[0] for r in rows] + ["none"]
    counts = np.bincount(np.where(best < 0, len(rows), best), minlength=len(names))
    shares = {names[i]: float(c / n) for i, c in sorted(enumerate(counts), key=lambda x: -x[1]) if c}
    figures = {}
    for name, tpot, ttft, energy, _ in rows:
        f = {}
        for field, x in (("tpot_s", tpot), ("ttft_s", ttft), ("device_energy_j_per_token", energy)):
            if x is not None:
                f.update(zip((f"{field}_p5", f"{field}_p50", f"{field}_p95"), uncertainty.percentiles(x), strict=True))
        figures[name] = f
    return {"samples": n, "seed": seed, "ranged": len(params), "recommended_shares": shares, "designs": figures}
