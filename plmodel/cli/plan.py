"""Which design serves this model to this device within a time per token, memory and privacy: cloud-only,
device-only at each precision, PrivateLoRA split at ranks 16 and 64 with adapters on all, the last
quarter or the last layer, with the first or last decoder layers held on the device, verifying a draft
model's tokens, a plain split client with no adapters, and every variant the registered designs offer
(private device layers, token ids up, cloud-only in a GPU TEE or with per-user LoRA). Each row: time per
token and to first token, device memory and energy a token, cloud cost a million tokens (a replica's
memory full of users), what the cloud could recover, and why a design is out. Prints the Pareto front
(*) and a recommendation: the feasible design that hides the most, then costs the device the least
energy, then is fastest. Realistic accounting.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from plmodel.analysis.verdict import TERMS
from plmodel.cli import scenario_args, uncertainty
from plmodel.cli.text import fit
from plmodel.designs import DESIGNS, set_for_plan
from plmodel.errors import PlmodelError
from plmodel.hardware import runtimes
from plmodel.io.scenario_options import PLAN_TRIES
from plmodel.studies.plan import Targets, plan
from plmodel.studies.plan_uncertainty import plan_uncertainty


def privacy_names(text: str) -> tuple:
    """--privacy: 'none' -> (); 'adapter,prompt' -> ('prompt', 'adapter') (analysis.privacy.parse_asked)."""
    from plmodel.analysis.privacy import parse_asked

    try:
        if not text.strip():
            raise ValueError(f"expected none or a comma-separated list of what must stay hidden, got {text!r}")
        return parse_asked(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


OWN = PLAN_TRIES
#: Options plan does not take, and why (it tries its own values).
NOT_TAKEN = {**dict.fromkeys(OWN[:3], "plan tries its own ranks (16, 64)"),
             "--layers": "plan tries its own adapted layers (all, the last quarter, the last)",
             **{prm.option: f"plan tries its own variants of {cls.title}"
                for cls in DESIGNS if cls not in set_for_plan() for prm in cls.params},
             **dict.fromkeys(OWN[4:], "plan tries its own layers on the device (the first, the last, the first 2 and "
                                      "last 2)"),
             "--mode": "plan uses the realistic accounting"}


def register_arguments(p) -> None:
    scenario_args.register(p, with_mode=False, without=OWN, design_classes=set_for_plan())
    t = p.add_argument_group("targets")
    t.add_argument("--tpot-ms", type=float, default=200.0, metavar="MS", help="most time per output token")
    t.add_argument("--ttft-ms", type=float, metavar="MS", help="most time to first token")
    t.add_argument("--max-device-memory-mb", type=float, metavar="MB", help="most memory the app may use on the device")
    t.add_argument("--privacy", type=privacy_names, default=(), metavar="WHAT",
                   help="what the cloud must not be able to recover: none, or prompt, output, adapter "
                   "(comma-separated; docs/privacy.md)")
    o = p.add_argument_group("output and search")
    o.add_argument("--output-tokens", type=int, default=128, metavar="N", help="generated tokens an answer, for "
                   "energy and cost")
    o.add_argument("--json", action="store_true", help="print the designs and the recommendation as JSON (SI units)")
    uncertainty.add_arguments(o, default=200)  # ~1.5 s on a shared 2-core machine (benchmarks/uncertainty_speed.py)
    o.add_argument("--jobs", type=int, default=1, metavar="N", help="processes or Ray CPUs for the search")
    from plmodel.cli.sweep import add_backend_arguments

    add_backend_arguments(o, "the search's families of designs")
    p.set_defaults(backend="serial")


def run(args) -> int:
    for name in ("tpot_ms", "ttft_ms", "max_device_memory_mb"):
        v = getattr(args, name)
        if v is not None and not 0 < v <= 1e9:
            raise PlmodelError(f"--{name.replace('_', '-')}: expected a positive number, got {v}")
    if not 1 <= args.output_tokens <= 100_000:
        raise PlmodelError(f"--output-tokens: expected an integer from 1 to 100,000, got {args.output_tokens}")
    uncertainty.check(args)
    args.mode = "realistic"
    scn = scenario_args.build_scenario(args)
    targets = Targets(args.tpot_ms / 1e3, args.ttft_ms / 1e3 if args.ttft_ms else None,
                      args.max_device_memory_mb * 1e6 if args.max_device_memory_mb else None, args.privacy)
    if args.jobs < 1:
        raise PlmodelError(f"--jobs: expected an integer >= 1, got {args.jobs}")
    designs, best = scenario_args.named(lambda s: plan(s, targets, args.output_tokens, backend=args.backend, jobs=args.jobs,
                                                       address=args.address), scn)
    spread = scenario_args.named(lambda s: plan_uncertainty(s, targets, args.output_tokens, args.uncertainty, args.seed),
                                 scn) if args.uncertainty else None
    provenance, note = runtimes.on_machine(scn.device, runtimes.resolve(scn)[1])
    if args.json:
        print(json.dumps({"designs": [asdict(d) | ((spread or {}).get("designs", {}).get(d.design) or {}) for d in designs],
                          "recommended": best.design if best else None,
                          "device_runtime_provenance": provenance, "device_runtime_note": note,
                          **({"uncertainty": spread} if spread else {})}, indent=1))
    else:
        print(render(scn, args, designs, best, spread, note))
    return 0


def _cell(v, scale=1.0, fmt="{:,.1f}"):
    return "-" if v is None else fmt.format(v * scale)


def recovered(d) -> str:
    """What the cloud can recover from a design, as the column shows it."""
    return ", ".join(d.cloud_can_recover) or "nothing"


#: Width of the design column: a longer name takes a line of its own above its figures.
LABEL = 46


def row(d) -> list:
    """A design's lines: its name and figures, then what the cloud can recover and why it is out."""
    mark = "*" if d.pareto else " "
    figures = (f"{_cell(d.tpot_s, 1e3):>10}{_cell(d.ttft_s, 1e3, '{:,.0f}'):>10}"
               f"{_cell(d.device_memory_bytes, 1e-6, '{:,.0f}'):>11}{_cell(d.device_energy_j_per_token, 1, '{:,.2f}'):>9}"
               f"{_cell(d.usd_per_million_output_tokens, 1, '{:,.3f}'):>11}")
    head = [f"{mark} {d.design:<{LABEL}}{figures}"] if len(d.design) <= LABEL else \
        [f"{mark} {d.design}", f"  {'':<{LABEL}}{figures}"]
    return head + [f"      cloud can recover: {recovered(d)}" + ("" if d.feasible else f"; out: {d.reason}")]


def render(scn, args, designs, best, spread=None, note: str = "") -> str:
    lines = [f"plmodel plan - {scn.model.name}, device {scn.device.name}, network {scn.link.name} (RTT "
             f"{scn.link.rtt_s * 1e3:.1f} ms), cloud {scn.cloud.name}; target {args.tpot_ms:g} ms a token"
             + (f", first token within {args.ttft_ms:g} ms" if args.ttft_ms else "")
             + (f", at most {args.max_device_memory_mb:g} MB on the device" if args.max_device_memory_mb else "")
             + f", the cloud must not recover: {', '.join(args.privacy) or 'none'}",
             "  realistic accounting; times from measured speeds where the profiles have them, else the runtime "
             "model; * marks the Pareto front of the feasible", *([f"  warning: {note}"] if note else []), "",
             f"  {'design':<{LABEL}}{'ms/token':>10}{'TTFT ms':>10}{'device MB':>11}{'J/token':>9}{'USD/M out':>11}"]
    for d in designs:
        lines += row(d)
    lines.append("")
    if best is None:
        lines.append("  recommendation: none of these designs meets the targets (see why each is out)")
    else:
        lines.append(f"  recommendation: {best.design}: {best.tpot_s * 1e3:,.0f} ms a token, the cloud can recover "
                     f"{recovered(best)} ({best.privacy_reason}); chosen as the feasible design that hides the "
                     "most, then uses the least device energy, then is fastest")
    lines += spread_lines(spread) if spread else []
    lines.append("  fewer adapted layers mean fewer round trips but less room to adapt the model: quality is not "
                 "modelled here")
    lines.append(f"  Next: plmodel capacity --analytic --model {scn.model.name} --network {scn.link.name} "
                 "(how many users a GPU serves, split vs cloud-only, and the cost)")
    lines.append("  " + TERMS)
    return "\n".join(fit(lines))


def spread_lines(s: dict) -> list:
    """plan --uncertainty: how often each design is recommended, and its ms a token and J a token (p5-p95)."""
    if not s["samples"]:
        return ["  uncertainty: no figure of this scenario carries a range"]
    out = [f"  under uncertainty ({s['samples']:,} samples of {s['ranged']} ranged figures, seed {s['seed']}; --uncertainty 0 "
           "for none): recommended"]
    for name, share in s["recommended_shares"].items():
        f = s["designs"].get(name, {})
        figs = "" if not f else (f"; {_cell(f.get('tpot_s_p5'), 1e3)}-{_cell(f.get('tpot_s_p95'), 1e3)} ms a token, "
                                 f"{_cell(f.get('device_energy_j_per_token_p5'), 1, '{:,.2f}')}-"
                                 f"{_cell(f.get('device_energy_j_per_token_p95'), 1, '{:,.2f}')} J a token (p5-p95)")
        out.append(f"    {name}: {100 * share:.1f} % of samples{figs}")
    return out
