"""`--uncertainty N` and `--seed` for estimate and plan: the options, their checks, and the printed block."""

from __future__ import annotations

import sys

from plmodel.errors import PlmodelError

#: The most samples one run takes.
MAX_SAMPLES = 100_000  # all at once in memory: ~1 GB of arrays at this size


def add_arguments(group, default: int = 0) -> None:
    group.add_argument("--uncertainty", type=int, default=default, metavar="N",
                       help="sample the ranges the profiles' and runtimes' [U]/[D] figures carry N times (Latin "
                       f"hypercube) and print p5 / p50 / p95 of each headline figure and how often each verdict holds (default {default})")
    group.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the --uncertainty samples (default 0)")


def check(args) -> None:
    if not 0 <= args.uncertainty <= MAX_SAMPLES:
        raise PlmodelError(f"--uncertainty: expected an integer from 0 to {MAX_SAMPLES:,}, got {args.uncertainty}")
    if not 0 <= args.seed < 2**63:
        raise PlmodelError(f"--seed: expected a non-negative integer, got {args.seed}")


def progress(done: int, total: int) -> None:
    """Progress of a point-by-point run on stderr, every tenth."""
    if total >= 50 and (done % max(1, total // 10) == 0 or done == total):
        print(f"  uncertainty: {done:,} of {total:,} samples", file=sys.stderr, flush=True)


def estimate_summary(scn, args) -> tuple:
    """(summary fields, tornado, the sampled figures) of an estimate's scenario."""
    from plmodel.analysis import uncertainty  # only when asked: estimate's start-up stays its own
    from plmodel.io.scenario_ranges import scenario_ranges

    params = scenario_ranges(scn)
    if not params:
        return {"uncertainty_samples": 0, "uncertainty_reason": "no figure of this scenario carries a range"}, {}, []
    s = {**uncertainty.run(scn, params, args.uncertainty, args.seed, args.output_tokens, progress), "uncertainty_seed": args.seed}
    return s, uncertainty.tornado(scn, params, args.output_tokens), params


def _cell(v, scale) -> str:
    if v is None or v != v:
        return "-"
    x = v / scale
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}" if abs(x) >= 10 else f"{x:.3g}"


def _ends(p) -> str:
    """A sampled figure's range as shown: 'at 0.6 / 2.43 W'."""
    return f"at {_cell(p.low, p.scale)} / {_cell(p.high, p.scale)}" + (f" {p.unit}" if p.unit else "")


def lines(s: dict, swings: dict, params: list) -> list:
    """The printed block: each headline's p5 / p50 / p95 with its unit, each verdict's share, what moves each most."""
    from plmodel.analysis import uncertainty

    if not params:
        return ["Uncertainty: no figure of this scenario carries a range"]
    out = [f"Uncertainty over {s['uncertainty_samples']:,} samples of {len(params)} ranged figures (Latin hypercube, seed "
           f"{s['uncertainty_seed']}; the profiles' *_range keys, runtimes.RANGES):", f"  {'':<47}{'p5':>9}{'p50':>9}{'p95':>9}"]
    for key, label, unit, scale in uncertainty.HEADLINES:
        if f"{key}_p50" in s:
            cells = "".join(f"{_cell(s[f'{key}_{q}'], scale):>9}" for q in ("p5", "p50", "p95"))
            defined = s.get(f"{key}_defined_share")
            note = "" if defined is None else f"  (defined in {100 * defined:.0f} %)"
            out.append(f"  {label + ' (' + unit + ')':<47}{cells}{note}")
    for key, what in uncertainty.VERDICTS:
        v = s.get(f"{key}_share")
        out.append(f"  {what}: " + ("cannot be judged (no device-only precision fits)" if v is None
                                     else f"in {100 * v:.1f} % of samples"))
    by_name = {p.name: p for p in params}
    for key, label, unit, scale in uncertainty.TORNADO:
        at, sw = swings.get(key, (None, []))
        u = f" {unit}" if unit else ""
        top = [f"{name} {_ends(by_name[name])}: {_cell(lo, scale)} / {_cell(hi, scale)}{u}" for name, lo, hi in sw[:2]]
        if at is not None and at == at and top:
            out.append(f"  {label} ({_cell(at, scale)}{u} at the figures) moves most with " + "; ".join(top))
    return out
