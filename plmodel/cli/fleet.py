"""Simulate many devices sharing one cloud replica (the smallest group of GPUs that holds the model):
split inference under a batching policy and cloud-only serving with continuous batching (paged KV cache,
prefill-first or chunked), on the same engine, for open-loop (Poisson or a CSV trace) or closed-loop load.

Prints latency percentiles (TTFT, time per output token, end to end, queueing for memory),
throughput and goodput at the SLO, GPU busy (accelerator and host apart), batch sizes, KV occupancy
and the cost per million output tokens and per million tokens (prompt and output) at the load served. Rates are to this one replica.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from plmodel.cli import fleet_args
from plmodel.cli.options import given
from plmodel.errors import PlmodelError
from plmodel.fleet.arrivals import LENGTHS, Workload, read_trace
from plmodel.fleet.capacity import mean_lengths
from plmodel.fleet.pricing import all_tokens, cost
from plmodel.fleet.replica import replica
from plmodel.fleet.run import serve
from plmodel.interrupt import deferred


def register_arguments(p) -> None:
    fleet_args.register(p)
    a = p.add_argument_group("load")
    a.add_argument("--arrival", choices=("poisson", "trace", "closed"), default="poisson",
                   help="poisson: --rate requests a second; trace: --trace-csv; closed: --users who think --think-s")
    a.add_argument("--rate", type=float, default=1.0, metavar="R", help="poisson: requests a second to the replica")
    a.add_argument("--requests", type=int, default=500, metavar="N", help="poisson, closed: requests in all")
    a.add_argument("--users", type=int, metavar="N", help="closed: users at once, each with one request at a time")
    a.add_argument("--think-s", type=float, default=0.0, metavar="S", help="closed: mean think time between requests")
    a.add_argument("--trace-csv", metavar="FILE", help="trace: the requests to replay, a CSV with arrival_s, "
                   "prompt_tokens, output_tokens")
    a.add_argument("--lengths", choices=LENGTHS, default="fixed",
                   help="prompt and output lengths: fixed, uniform within +-50%%, exponential about the mean, or "
                        "sharegpt (ShareGPT's law scaled to the means; docs/model.md says what is measured)")
    a.add_argument("--tpot-ms", type=float, metavar="MS", help="SLO on time per output token, for goodput")
    a.add_argument("--ttft-ms", type=float, metavar="MS", help="SLO on time to first token, for goodput")
    a.add_argument("--seed", type=int, default=0, help="seed of arrivals, lengths and jitter")
    a.add_argument("--gpus-per-replica", type=int, choices=(1, 2, 4, 8), metavar="N",
                   help="GPUs a replica (tensor parallel): 1, 2, 4, 8 (default: the fewest that hold the model; "
                        "plmodel capacity chooses by cost)")
    a.add_argument("--kv-csv", metavar="FILE", help="write KV-cache occupancy over time here (CSV: server, time_s, "
                   "kv_bytes, kv_fraction)")


#: Load options and the --arrival values they have an effect with.
ARRIVAL_OF = {"rate": ("poisson",), "requests": ("poisson", "closed"), "users": ("closed",), "think_s": ("closed",),
              "trace_csv": ("trace",)}


def workload(args) -> Workload:
    for name, arrivals in ARRIVAL_OF.items():
        if args.arrival not in arrivals and given(args, name):
            raise PlmodelError(f"--{name.replace('_', '-')}: only with --arrival {' or '.join(arrivals)}, got --arrival "
                               f"{args.arrival}")
    trace = read_trace(args.trace_csv) if args.arrival == "trace" and args.trace_csv else None
    return fleet_args.named(Workload, args.arrival, args.rate if args.arrival == "poisson" else None, args.requests,
                            args.prompt_tokens, args.output_tokens, args.lengths, args.users, args.think_s, trace)


def check_csv_path(path: str | None) -> None:
    if path is not None and (Path(path).is_dir() or not Path(path).parent.is_dir()):
        raise PlmodelError(f"--kv-csv: expected a file name in an existing folder, got {path}")


def write_kv(path: str, results: dict) -> None:
    """The KV occupancy steps of every server, written whole or not at all."""
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    try:
        with tmp.open("w") as f:
            f.write("server,time_s,kv_bytes,kv_fraction\n")
            for kind, r in results.items():
                cap = r.metrics["kv_capacity_bytes"]
                f.writelines(f"{kind},{t:.9g},{b:.9g},{b / cap:.6g}\n" for t, b in r.kv_samples)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def run(args) -> int:
    check_csv_path(args.kv_csv)
    scn, policy, batching, kinds = fleet_args.build(args)
    w = workload(args)
    slo = tuple(None if v is None else v / 1e3 for v in (args.ttft_ms, args.tpot_ms))
    if any(v is not None and not v > 0 for v in slo):
        raise PlmodelError("--ttft-ms/--tpot-ms: expected a positive number of milliseconds")
    gpus = fleet_args.named(replica, scn, args.gpus_per_replica)[0]
    results = {}
    from tqdm import tqdm

    total = (w.requests if w.arrival != "trace" else len(w.trace)) * w.output_tokens * len(kinds)
    with deferred() as poll, tqdm(total=total, desc="tokens", unit="tok", disable=not fleet_args.show_progress(args),
                                  file=sys.stderr, leave=False, mininterval=0.2) as bar:
        for kind in kinds:
            results[kind] = fleet_args.named(serve, scn, w, server=kind, policy=policy, batching=batching,
                                             per_user_adapters=args.per_user_adapters, slo=slo, seed=args.seed,
                                             on_tokens=bar.update, poll=poll, gpus=gpus)
    for r in results.values():
        usd = cost(scn, gpus, r.metrics["throughput_tokens_per_s"],
                   r.metrics["kv_mean_occupancy"] * r.metrics["kv_capacity_bytes"])[0]
        r.metrics |= {"usd_per_million_output_tokens": usd, "usd_per_million_tokens": all_tokens(usd, *mean_lengths(w))}
    if args.kv_csv:
        write_kv(args.kv_csv, results)
    if args.json:
        flat = {"model": scn.model.name, "cloud": scn.cloud.name, "device": scn.device.name, "network": scn.link.name,
                "rtt_s": scn.link.rtt_s, "gpus": gpus, "policy": policy.name, "scheduler": batching.scheduler,
                "kv": batching.kv, "preemption": batching.preemption, "arrival": w.arrival, "seed": args.seed}
        for kind, r in results.items():
            flat |= {f"{kind.replace('-', '_')}_{k}": v for k, v in r.metrics.items()}
        print(json.dumps(flat, indent=1))
    else:
        print(render(scn, gpus, policy, w, results, batching))
    return 0


ROWS = [("requests completed", "completed", 1, "{:,.0f}"), ("requests rejected", "rejected", 1, "{:,.0f}"),
        ("requests that queued for memory", "queued", 1, "{:,.0f}"),
        ("preemptions", "preemptions", 1, "{:,.0f}"), ("  swapped to host", "swaps", 1, "{:,.0f}"),
        ("throughput tok/s", "throughput_tokens_per_s", 1, "{:,.1f}"),
        ("goodput tok/s (within the SLO)", "goodput_tokens_per_s", 1, "{:,.1f}"),
        *[(f"TTFT p{q} ms", f"ttft_p{q}_s", 1e3, "{:,.1f}") for q in (50, 90, 99)],
        *[(f"time per output token p{q} ms", f"tpot_p{q}_s", 1e3, "{:,.1f}") for q in (50, 90, 99)],
        *[(f"end to end p{q} s", f"e2e_p{q}_s", 1, "{:,.2f}") for q in (50, 90)],
        ("queueing for memory p90 s", "queue_p90_s", 1, "{:,.2f}"),
        ("requests in flight (mean)", "mean_concurrency", 1, "{:,.1f}"),
        ("GPU busy %", "gpu_busy", 100, "{:,.1f}"), ("  accelerator %", "gpu_accel_busy", 100, "{:,.1f}"),
        ("  host %", "gpu_host_busy", 100, "{:,.1f}"), ("mean batch (sequences)", "mean_batch_sequences", 1, "{:,.1f}"),
        ("mean batch (tokens)", "mean_batch_tokens", 1, "{:,.1f}"),
        ("KV occupancy % (mean)", "kv_mean_occupancy", 100, "{:,.1f}"),
        ("KV peak GB", "kv_peak_bytes", 1e-9, "{:,.2f}"), ("KV capacity GB", "kv_capacity_bytes", 1e-9, "{:,.2f}"),
        ("USD per million output tokens", "usd_per_million_output_tokens", 1, "{:,.3f}"),
        ("USD per million tokens (in + out)", "usd_per_million_tokens", 1, "{:,.3f}")]


def kv_words(batching) -> str:
    """The KV policy in words: paged with its preemption, or reserved."""
    return f"paged KV, preemption by {batching.preemption}" if batching.kv == "paged" else "KV reserved whole"


def render(scn, gpus, policy, w, results, batching) -> str:
    load = {"poisson": lambda: f"Poisson {w.rate_per_s:g} requests/s",
            "closed": lambda: f"closed loop, {w.users} users, think {w.think_s or 0:g} s",
            "trace": lambda: f"trace of {len(w.trace or ()):,} requests"}[w.arrival]()
    lines = [f"plmodel fleet - {scn.model.name} on {gpus} x {scn.cloud.name} (one replica), device {scn.device.name}, "
             f"network {scn.link.name} (RTT {scn.link.rtt_s * 1e3:.1f} ms)",
             f"  {load}; prompt {w.prompt_tokens} + output {w.output_tokens} tokens ({w.lengths}); split policy "
             f"{policy.name}; cloud-only {batching.scheduler}; {kv_words(batching)}; times are simulated on the runtime "
             "model (anchored or peak), latency figures over the requests arriving in the middle 70 % of the run", "",
             "  " + " " * 36 + "".join(f"{k:>16}" for k in results)]
    for label, key, scale, fmt in ROWS:
        cells = []
        for r in results.values():
            v = r.metrics.get(key)
            cells.append("-" if v is None or v != v else fmt.format(v * scale))
        lines.append(f"  {label:<36}" + "".join(f"{c:>16}" for c in cells))
    lines += ["", "  " + "; ".join(f"{k}: {r.events:,} events in {r.wall_s:.2f} s" for k, r in results.items())]
    return "\n".join(lines)
