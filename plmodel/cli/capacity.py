"""The most load a cloud serves within a latency target, split against cloud-only, and its cost.

The largest Poisson request rate whose simulated run keeps the time per output token and to first token
(at --percentile) within --tpot-ms and --ttft-ms and turns nobody away, by bisection from the closed form
(--analytic: the closed form alone); the users in flight at that rate, what binds, the cost per million
output tokens and per million tokens, and the GPUs --subscribers need. A replica's size (1, 2, 4 or 8 GPUs,
--gpus-per-replica) is the one with the lowest cost a token by the closed forms (fleet/replicas.py), the
others shown beside it. --gpus N: N / (GPUs a replica) replicas behind a load balancer.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

from plmodel.analysis.verdict import TERMS
from plmodel.cli import fleet_args
from plmodel.cli.options import given
from plmodel.cli.text import fit
from plmodel.errors import PlmodelError
from plmodel.fleet import replicas as sizing
from plmodel.fleet.capacity import Case, Search, Slo, simulated_capacity
from plmodel.fleet.policies import PolicySpec
from plmodel.interrupt import deferred

REQUESTS_PER_HOUR = 10.0
#: Options of the simulated search and the simulated split server only, with their defaults.
SIMULATED_ONLY = {"requests": None, "steps": 8, "seed": 0, "max_batch": PolicySpec.max_batch,
                  "hold_target": PolicySpec.target, "max_wait_ms": PolicySpec.max_wait_s * 1e3, "chunk_tokens": None}


#: The options a --study takes (the study file sets the rest).
STUDY_TAKES = ("study", "out", "force", "jobs", "backend", "address", "progress", "analytic")


def register_arguments(p) -> None:
    fleet_args.register(p)
    s = p.add_argument_group("target and search")
    s.add_argument("--tpot-ms", type=float, default=200.0, metavar="MS", help="SLO: time per output token")
    s.add_argument("--ttft-ms", type=float, default=5000.0, metavar="MS", help="SLO: time to first token")
    s.add_argument("--percentile", type=int, choices=(50, 90, 99), default=90, metavar="P",
                   help="percentile the SLO holds at: 50, 90, 99")
    s.add_argument("--gpus", type=int, metavar="N", help="GPUs in all, whole replicas (default: one replica)")
    s.add_argument("--gpus-per-replica", choices=sizing.CHOICES, default="auto", metavar="N",
                   help="GPUs a replica (tensor parallel): auto (the lowest cost a token), 1, 2, 4, 8")
    s.add_argument("--analytic", action="store_true", help="closed forms only (no simulation)")
    s.add_argument("--requests", type=int, metavar="N", help="requests a simulated run (default: 10x concurrency)")
    s.add_argument("--steps", type=int, default=8, metavar="N", help="bisection steps of the simulated search")
    s.add_argument("--seed", type=int, default=0, metavar="N", help="seed of arrivals and jitter")
    f = p.add_argument_group("fleet sizing")
    f.add_argument("--subscribers", type=float, metavar="N", help="people served, not all at once: GPUs they need")
    f.add_argument("--requests-per-hour", type=float, default=REQUESTS_PER_HOUR, metavar="R", help="requests a subscriber sends "
                   "an hour")
    st = p.add_argument_group("study (many cases at once; the study file sets the rest)")
    st.add_argument("--study", metavar="FILE", help=f"a study YAML (models x networks x targets) or a shipped one: "
                    f"{', '.join(shipped_studies())}")
    st.add_argument("--out", metavar="DIR", help="the folder to write (atomically)")
    st.add_argument("--force", action="store_true", help="replace a non-empty --out")
    st.add_argument("--jobs", type=int, default=1, metavar="N", help="processes or Ray CPUs")
    from plmodel.cli.sweep import add_backend_arguments

    add_backend_arguments(st, "the capacity searches")
    p.set_defaults(backend="serial")


def shipped_studies() -> list:
    """The shipped capacity studies by name (the files of sweeps/ with a study's keys, not a sweep's)."""
    import yaml

    from plmodel.io.profiles import profile_dirs
    from plmodel.studies.capacity_study import SCHEMA

    def is_study(path) -> bool:
        data = yaml.safe_load(path.read_text())
        return isinstance(data, dict) and set(data) <= set(SCHEMA) and "networks" in data

    return sorted(p.stem for p in profile_dirs()["sweeps"].glob("*.yaml") if is_study(p))


def study_path(study: str) -> str:
    """--study: a file, or where there is no such file, a shipped study by name."""
    from plmodel.io.profiles import profile_dirs

    if Path(study).is_file() or study not in shipped_studies():
        return study
    return str(profile_dirs()["sweeps"] / f"{study}.yaml")


def check(args) -> None:
    for name, value in (("tpot-ms", args.tpot_ms), ("ttft-ms", args.ttft_ms), ("requests-per-hour", args.requests_per_hour)):
        if not 0 < value <= 1e9:
            raise PlmodelError(f"--{name}: expected a positive number, got {value}")
    if args.subscribers is not None and not 0 < args.subscribers <= 1e12:
        raise PlmodelError(f"--subscribers: expected a positive number, got {args.subscribers}")
    if args.requests_per_hour != REQUESTS_PER_HOUR and args.subscribers is None:
        raise PlmodelError("--requests-per-hour: changes nothing without --subscribers")
    if args.analytic:
        for name, default in SIMULATED_ONLY.items():
            if getattr(args, name) != default:
                raise PlmodelError(f"--{name.replace('_', '-')}: the closed forms (--analytic) do not use it; "
                                   "drop --analytic for the simulated search")
    fleet_args.check_int(args, "requests", 10, 1_000_000)
    fleet_args.check_int(args, "steps", 1, 30)
    fleet_args.check_int(args, "gpus", 1, 1_000_000)


def run(args) -> int:
    if args.study:
        return run_study(args)
    for name in ("out", "force", "jobs", "backend", "address"):
        if given(args, name):
            raise PlmodelError(f"--{name}: only with --study")
    check(args)
    scn, policy, batching, kinds = fleet_args.build(args)
    slo = Slo(args.tpot_ms / 1e3, args.ttft_ms / 1e3, args.percentile)
    out = {}
    with deferred() as poll:
        for kind in kinds:
            case = Case(scn, kind, slo, args.prompt_tokens, args.output_tokens, policy, batching, args.per_user_adapters)
            sized = sized_replica(case, args)
            case, guess = replace(case, gpus=sized.chosen), sized.of(sized.chosen)
            found = guess if args.analytic else fleet_args.named(
                simulated_capacity, case, Search(args.requests, args.steps, args.seed), progress(args, kind), poll)
            out[kind] = (found, guess, sized)
    flat = flatten(scn, args, out)
    print(json.dumps(flat, indent=1) if args.json else render(scn, args, out, flat))
    return 0


def sized_replica(case, args):
    """The replica sizes of `case` (fleet/replicas.py), an error naming --gpus or --gpus-per-replica."""
    try:
        return sizing.size(case, args.gpus_per_replica, args.gpus)
    except PlmodelError as exc:
        raise exc.named({**fleet_args.OPTION_OF, "gpus": "--gpus", "gpus_per_replica": "--gpus-per-replica"}) from None


def run_study(args) -> int:
    from plmodel.studies import capacity_study
    from plmodel.studies.report import check_out

    if not args.out:
        raise PlmodelError("--out: a --study needs a folder to write")
    for name in args.option_defaults:
        if name not in STUDY_TAKES and given(args, name):
            raise PlmodelError(f"--{name.replace('_', '-')}: a --study sets its own cases; it takes only "
                               + ", ".join(f"--{n}" for n in sorted(STUDY_TAKES)))
    check_out(Path(args.out), args.force)
    path = study_path(args.study)
    study = capacity_study.load_study(path)
    with deferred() as poll:
        if args.jobs < 1:
            raise PlmodelError(f"--jobs: expected an integer >= 1, got {args.jobs}")
        rows = capacity_study.run_study(study, args.analytic, progress(args, "study"), poll, backend=args.backend,
                                        jobs=args.jobs, address=args.address)
    names = capacity_study.write(args.out, path, study, rows, args.force)
    print(f"wrote {len(rows)} capacities to {args.out}: {', '.join(names)}")
    return 0


def progress(args, kind: str):
    """A progress line on stderr (where a person watches): the step, the time so far and, for a study (whose
    steps are alike), about how long is left."""
    if not fleet_args.show_progress(args):
        return None
    start = time.perf_counter()

    def show(step, steps):
        elapsed = time.perf_counter() - start
        left = f", about {elapsed / step * (steps - step):.0f} s left" if kind == "study" and 0 < step < steps else ""
        print(f"\r  {kind}: {step} of {'at most ' if kind != 'study' else ''}{steps}, {elapsed:.0f} s{left}   ",
              end="", file=sys.stderr, flush=True)
        if step >= steps:
            print(file=sys.stderr)
    return show


def flatten(scn, args, out: dict) -> dict:
    flat = {"model": scn.model.name, "cloud": scn.cloud.name, "network": scn.link.name, "rtt_s": scn.link.rtt_s,
            "gpus": args.gpus, "gpus_per_replica": args.gpus_per_replica, "tpot_slo_s": args.tpot_ms / 1e3,
            "ttft_slo_s": args.ttft_ms / 1e3, "percentile": args.percentile, "prompt_tokens": args.prompt_tokens,
            "output_tokens": args.output_tokens, "policy": args.policy, "scheduler": args.scheduler, "kv": args.kv,
            "preemption": args.preemption}
    for kind, (c, a, sized) in out.items():
        k, group = kind.replace("-", "_"), sized.chosen
        replicas = (args.gpus or group) // group
        flat |= {f"{k}_gpus_a_replica": group, f"{k}_replicas": replicas,
                 f"{k}_max_rate_per_s": c.max_rate_per_s * replicas, f"{k}_requests_per_s_per_gpu": c.max_rate_per_s / group,
                 f"{k}_max_users": c.max_users * replicas,
                 f"{k}_tokens_per_s": c.tokens_per_s * replicas, f"{k}_tpot_s": c.tpot_s,
                 f"{k}_binding_limit": c.binding_limit, f"{k}_slo_missed": c.slo_missed,
                 f"{k}_usd_per_million_output_tokens": c.usd_per_million_output_tokens,
                 f"{k}_usd_per_million_tokens": c.usd_per_million_tokens,
                 f"{k}_gpu_s_per_token": c.gpu_s_per_token, f"{k}_kv_byte_s_per_token": c.kv_byte_s_per_token,
                 f"{k}_source": c.source, f"{k}_analytic_max_rate_per_s": a.max_rate_per_s * replicas,
                 f"{k}_analytic_max_users": a.max_users * replicas}
        for row in sizing.table_rows(sized):
            n = row["gpus_a_replica"]
            flat |= {f"{k}_replica_{n}_{key}": row[key] for key in SIZE_KEYS}
        if args.subscribers:
            need = args.subscribers * args.requests_per_hour / 3600
            flat[f"{k}_fleet_gpus"] = math.ceil(need / c.max_rate_per_s) * group if c.max_rate_per_s > 0 else None
    if "split" in out:
        flat["binding_limit"] = out["split"][0].binding_limit
    return flat


#: What the JSON says of each replica size tried, as `<server>_replica_<GPUs>_<key>`.
SIZE_KEYS = ("requests_per_s_per_gpu", "max_users", "usd_per_million_output_tokens", "usd_per_million_tokens",
             "binding_limit")


def render(scn, args, out, flat) -> str:
    gpus = f"{args.gpus} x " if args.gpus else ""
    lines = [f"plmodel capacity - {scn.model.name} on {gpus}{scn.cloud.name}, network {scn.link.name} (RTT "
             f"{scn.link.rtt_s * 1e3:.1f} ms), prompt {args.prompt_tokens} + output {args.output_tokens} tokens",
             f"  target: p{args.percentile} time per output token <= {args.tpot_ms:g} ms and TTFT <= {args.ttft_ms:g} ms; "
             f"{'closed forms' if args.analytic else 'simulated (bisection), closed form beside it'}; times from the "
             "runtime model (anchored or peak)", "", "  " + " " * 38 + "".join(f"{k:>16}" for k in out)]

    def row(label, key, fmt, scale=1.0):
        cells = []
        for kind in out:
            v = flat.get(f"{kind.replace('-', '_')}_{key}")
            cells.append("-" if v is None or (isinstance(v, float) and v != v) else
                         (v if isinstance(v, str) else fmt.format(v * scale)))
        lines.append(f"  {label:<38}" + "".join(f"{c:>16}" for c in cells))

    row("GPUs a replica (tensor parallel)", "gpus_a_replica", "{:,.0f}")
    row("replicas", "replicas", "{:,.0f}")
    row("max requests/s", "max_rate_per_s", "{:,.2f}")
    row("  closed form", "analytic_max_rate_per_s", "{:,.2f}")
    row("requests/s a GPU", "requests_per_s_per_gpu", "{:,.2f}")
    row("users in flight at that rate", "max_users", "{:,.0f}")
    row("tokens/s delivered", "tokens_per_s", "{:,.0f}")
    row(f"time per output token p{args.percentile} ms", "tpot_s", "{:,.1f}", 1e3)
    row("what binds", "binding_limit", "{}")
    row("  target missed first", "slo_missed", "{}")
    row("USD per million output tokens", "usd_per_million_output_tokens", "{:,.3f}")
    row("USD per million tokens (in + out)", "usd_per_million_tokens", "{:,.3f}")
    row("GPU-seconds per token (ms)", "gpu_s_per_token", "{:,.3f}", 1e3)
    row("KV GB-seconds per token", "kv_byte_s_per_token", "{:,.3f}", 1e-9)
    if args.subscribers:
        row(f"GPUs for {args.subscribers:,.0f} subscribers", "fleet_gpus", "{:,.0f}")
        lines.append(f"  (each sending {args.requests_per_hour:g} requests an hour, spread evenly)")
    return "\n".join(fit(lines + ["", *size_lines(args, out), "", *verdict_lines(scn, flat)]))


def size_lines(args, out: dict) -> list:
    """The replica sizes tried, a row each (closed forms), the chosen one marked."""
    how = "auto: the lowest cost a token" if args.gpus_per_replica == "auto" else "fixed by --gpus-per-replica"
    lines = [f"  Replica size, closed forms ({how}; * chosen):",
             f"  {'server':<12}{'GPUs':>6}{'req/s a GPU':>13}{'users':>8}{'USD/M out':>11}{'USD/M tok':>11}  what binds"]
    for kind, (_, _, sized) in out.items():
        for r in sizing.table_rows(sized):
            usd = [("-" if v is None else f"{v:,.3f}") for v in (r["usd_per_million_output_tokens"],
                                                                 r["usd_per_million_tokens"])]
            lines.append(f"  {kind:<12}{('* ' if r['chosen'] else '') + str(r['gpus_a_replica']):>6}"
                         f"{r['requests_per_s_per_gpu']:>13,.2f}{r['max_users']:>8,.0f}{usd[0]:>11}{usd[1]:>11}"
                         f"  {r['binding_limit']}")
    return lines


def verdict_lines(scn, flat: dict) -> list:
    """The verdict in words: which server carries more requests a GPU within the target, what binds the other,
    and the command worth running next."""
    if any(f"{k}_max_rate_per_s" not in flat for k in ("split", "cloud_only")):
        return []
    rates = {k: flat[f"{k}_requests_per_s_per_gpu"] for k in ("split", "cloud_only")}  # replicas may differ in size
    best = max(rates, key=lambda k: rates[k])
    other = "cloud_only" if best == "split" else "split"
    name = {"split": "split", "cloud_only": "cloud-only"}
    ratio = rates[best] / rates[other] if rates[other] else float("inf")
    how = "alone serves requests within the target" if rates[other] == 0 else f"serves {ratio:,.1f}x the requests/s a GPU"
    return [f"Verdict: {name[best]} {how}; {name[other]} is bound by {flat.get(f'{other}_binding_limit')}.",
            f"Next: plmodel plan --model {scn.model.name} --network {scn.link.name} (every design against the targets)",
            TERMS.replace("round trip, break-even RTT", "requests in flight, what binds")]
