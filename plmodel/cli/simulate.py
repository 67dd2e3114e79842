"""Discrete-event simulation (SimPy) of split inference: every layer's cloud work, each rank-r message
on each link, the device's work, queues, latency, jitter and many users sharing one cloud GPU.

One device with no jitter reproduces the realistic closed form; --timeline writes the run as a
Chrome/Perfetto trace (open it at ui.perfetto.dev or chrome://tracing) with the cloud, each link and
each device on its own track. Its GPU batches only what waits at the same point (greedy) and has no memory limit: for many
users sharing a GPU (batching policies, KV admission, cloud-only on equal terms, capacity and cost)
use `plmodel fleet` and `plmodel capacity`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from plmodel.analysis.estimate import estimate
from plmodel.cli import scenario_args
from plmodel.errors import PlmodelError
from plmodel.interrupt import deferred
from plmodel.studies import budget

INPUT_KEYS = ("model", "rank_c2d", "rank_d2c", "targets", "adapted_layers", "cloud", "device", "network", "mode",
              "batch", "prompt_tokens", "rtt_s")


def register_arguments(p) -> None:
    scenario_args.register(p)
    s = p.add_argument_group("simulation")
    s.add_argument("--output-tokens", type=int, default=32, metavar="N", help="generated tokens a request (the first "
                   "ends the prefill)")
    s.add_argument("--devices", type=int, default=1, metavar="N", help="devices sharing the cloud GPU, each with its "
                   "own link and one request")
    s.add_argument("--arrival", choices=("closed", "poisson"), default="closed",
                   help="closed: every device starts at once; poisson: devices arrive at --rate")
    s.add_argument("--rate", type=float, metavar="R", help="--arrival poisson: arrivals a second")
    s.add_argument("--seed", type=int, default=0, help="seed of the jitter and arrival draws")
    s.add_argument("--timeline", metavar="FILE", help="write the run's timeline as a Chrome/Perfetto trace (JSON; "
                   "gzip if it ends in .gz), streamed as it runs")
    s.add_argument("--timeline-devices", type=int, metavar="K", help="--timeline: only the first K devices (the GPU "
                   "always)")
    s.add_argument("--yes", action="store_true", help="run even if the estimate of time or memory is past its bound")
    o = p.add_argument_group("output")
    o.add_argument("--json", action="store_true", help="print one flat JSON object (SI units)")
    o.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar of generated tokens on stderr (default: when stderr is a terminal)")


def check_timeline_path(path: str | None) -> None:
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise PlmodelError(f"--timeline: {path} is a folder, expected a file name")
    if not p.parent.is_dir():
        raise PlmodelError(f"--timeline: folder {p.parent} does not exist")


def run(args) -> int:
    if args.rate is not None and args.arrival != "poisson":
        raise PlmodelError(f"--rate: only with --arrival poisson, got --arrival {args.arrival}")
    scn = scenario_args.build_scenario(args)
    check_timeline_path(args.timeline)
    if args.timeline_devices is not None and args.timeline_devices < 0:
        raise PlmodelError(f"--timeline-devices: expected an integer >= 0, got {args.timeline_devices}")
    closed = scenario_args.named(estimate, scn)
    seconds, nbytes = budget.simulation_cost(scn, args.output_tokens, args.devices)
    budget.check(seconds, nbytes, "simulation", "--devices/--output-tokens", args.yes)
    result = run_simulation(scn, args)  # the timeline streams to its file, renamed into place at the end
    m = result.metrics
    if args.json:
        inputs = {k: v for k, v in closed.inputs.items() if k in INPUT_KEYS}
        print(json.dumps({**inputs, **m, "seed": args.seed, "arrival": args.arrival}, indent=1))
    else:
        print(render(m, closed, args))
    return 0


def run_simulation(scn, args):
    """The simulation the options ask for, with a progress bar of generated tokens on stderr."""
    from tqdm import tqdm

    from plmodel.sim import simulate

    show = sys.stderr.isatty() if args.progress is None else args.progress
    with deferred() as poll, tqdm(total=args.devices * args.output_tokens, desc="tokens", unit="tok", disable=not show,
                                  file=sys.stderr, leave=False, mininterval=0.2) as bar:
        def tick():  # a signal stops the run here, between tokens, never inside the bar's lock
            poll()
            bar.update()

        try:
            result = simulate(scn, args.output_tokens, args.devices, arrival=args.arrival, rate=args.rate,
                              seed=args.seed, trace=args.timeline or False, trace_users=args.timeline_devices,
                              on_token=tick)
        except PlmodelError as exc:
            raise exc.named({"tokens": "--output-tokens", "users": "--devices", "arrival": "--arrival",
                             "rate": "--rate", "prefill_chunks": "--prefill-chunks"}) from None
        poll()
    return result


def render(m: dict, closed, args) -> str:
    ms, e = 1e3, closed.inputs
    lines = [f"plmodel simulate - {e['model']}, r_c2d={e['rank_c2d']} r_d2c={e['rank_d2c']} on {e['targets']}, "
             f"cloud {e['cloud']}, device {e['device']}, network {e['network']}, mode {e['mode']}",
             f"  {m['users']} user(s), {args.arrival} arrival, batch {e['batch']}, prompt {e['prompt_tokens']} tokens, "
             f"{m['tokens']} generated tokens, seed {args.seed}", "",
             f"  {'':<34}{'simulated':>14}{'closed form':>14}"]

    def row(label, sim, closed=None, fmt="{:,.2f}"):
        lines.append(f"  {label:<34}{fmt.format(sim):>14}{fmt.format(closed) if closed is not None else '':>14}")

    one = m["users"] == 1
    row("prefill tok/s", m["prefill_tokens_per_s"], float(closed.prefill.tokens_per_s) if one else None)
    row("decode tok/s (per user, batch)", m["decode_tokens_per_s"], float(closed.decode.tokens_per_s) if one else None)
    row("aggregate tok/s (all users)", m["aggregate_tokens_per_s"])
    row("TTFT ms (mean)", m["ttft_s"] * ms, float(closed.prefill.total_s) * ms if one else None)
    for q in (50, 90, 99):
        row(f"TPOT p{q} ms", m[f"tpot_p{q}_s"] * ms, float(closed.decode.total_s) * ms if one else None)
    lines.append("")
    row("cloud GPU utilisation %", 100 * m["cloud_utilization"], fmt="{:.1f}")
    row("device utilisation % (mean)", 100 * m["device_utilization"], fmt="{:.1f}")
    row("link down (c2d) utilisation %", 100 * m["c2d_link_utilization"], fmt="{:.2f}")
    row("link up (d2c) utilisation %", 100 * m["d2c_link_utilization"], fmt="{:.2f}")
    row("bytes down per decoded token", m["c2d_bytes_per_token"], closed.traffic.c2d_bytes_per_token if one else None, "{:,.0f}")
    row("bytes up per decoded token", m["d2c_bytes_per_token"], closed.traffic.d2c_bytes_per_token if one else None, "{:,.0f}")
    row("MB moved down (c2d), all phases", m["c2d_bytes"] / 1e6, None, "{:,.3f}")
    row("MB moved up (d2c), all phases", m["d2c_bytes"] / 1e6, None, "{:,.3f}")
    lines += ["", f"  {m['events']:,} events in {m['wall_s']:.2f} s ({m['events_per_s'] / 1e3:,.0f} k events/s)"]
    if args.timeline:
        lines.append(f"  timeline written to {args.timeline}")
    return "\n".join(lines)
