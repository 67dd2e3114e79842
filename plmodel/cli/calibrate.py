"""Measure this machine with the torch reference layers and write a hardware profile YAML for it.

Achieved FLOP/s comes from a prefill through reference decoder layers, achieved memory bandwidth
from a decode step through layers far larger than the caches. The profile can then be passed to
--cloud or --device, so a prediction can be compared with a measured run on the same machine.
"""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path

from plmodel.errors import PlmodelError


def register_arguments(p) -> None:
    p.add_argument("--out", default="this-machine.yaml", metavar="FILE", help="where to write the profile")
    p.add_argument("--name", default="this-machine", help="the profile's name")
    p.add_argument("--prompt-tokens", type=int, default=256, metavar="N", help="prompt tokens of the prefill that "
                   "measures FLOP/s")
    p.add_argument("--repeats", type=int, default=5, metavar="N", help="timed repeats; the median is kept")
    p.add_argument("--threads", type=int, metavar="N", help="torch threads to measure with (default: torch's choice)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")


def run(args) -> int:
    out = Path(args.out)
    if out.is_dir():
        raise PlmodelError(f"--out: {out} is a folder, expected a file name")
    if out.exists() and not args.force:
        raise PlmodelError(f"--out: {out} exists; pass --force to overwrite it")
    if not out.parent.is_dir():
        raise PlmodelError(f"--out: folder {out.parent} does not exist")
    for opt in ("prompt_tokens", "repeats", "threads"):
        if getattr(args, opt) is not None and getattr(args, opt) < 1:
            raise PlmodelError(f"--{opt.replace('_', '-')}: expected an integer >= 1, got {getattr(args, opt)}")
    from plmodel.reference import require_torch

    require_torch()
    from plmodel.reference.calibrate import STAGES, calibrate, physical_memory_bytes, profile_yaml
    from plmodel.sim.trace import write_atomic

    cal = calibrate(args.prompt_tokens, args.repeats, args.threads, progress=Progress(STAGES))
    write_atomic(out, profile_yaml(cal, args.name, physical_memory_bytes(), datetime.date.today().isoformat()))
    print(f"achieved {cal.flop_per_s / 1e9:,.1f} GFLOP/s (reference layers; bare matmul "
          f"{cal.matmul_flop_per_s / 1e9:,.1f}), {cal.mem_bw_bytes_per_s / 1e9:,.2f} GB/s memory bandwidth, "
          f"{cal.layer_overhead_s * 1e6:,.0f} us a layer and {cal.call_overhead_s * 1e6:,.0f} us a small call of "
          f"fixed software time; {cal.detail}")
    if cal.batch:
        print("a decode step of " + ", ".join(str(b) for b, _ in cal.batch) + " sequences: "
              + ", ".join(f"{f:.2f}" for _, f in cal.batch) + "x one sequence's")
    if cal.resume_note:
        print(f"compute after a wait not measured: {cal.resume_note}")
    if cal.resume:
        print("a layer after a round trip whose peer waited " + ", ".join(f"{w * 1e3:g}" for w, _ in cal.resume)
              + " ms: " + ", ".join(f"{f:.2f}" for _, f in cal.resume) + "x its time back to back")
    for line in implausible(cal):
        print(line, file=sys.stderr)
    print(f"wrote {out}")
    return 0


def implausible(cal) -> list:
    """Warnings where a measured slowdown is below 1 (work running faster after a wait, or a batch of sequences
    faster than one): noise or a busy machine, not the machine's behaviour."""
    out = []
    for what, curve in (("a batch of sequences against one", cal.batch), ("work after a wait", cal.resume)):
        low = [(x, f) for x, f in (curve or ()) if f < 1]
        if low:
            x, f = min(low, key=lambda p: p[1])
            out.append(f"warning: {what} measured {f:.2f}x (below 1, at {x:g}): implausible; the machine was "
                       "probably busy. Run calibrate again on a quiet machine before trusting the profile")
    return out


class Progress:
    """A line on stderr as each stage starts: which, the time so far and about how long is left (from the
    stages' shares of a calibration's time)."""

    def __init__(self, stages: tuple):
        self.stages, self.start = stages, time.perf_counter()

    def __call__(self, i: int) -> None:
        elapsed = time.perf_counter() - self.start
        done = sum(w for _, w in self.stages[:i])
        left = f", about {elapsed / done * (1 - done):.0f} s left" if done > 0 else ""
        print(f"calibrate: {i + 1} of {len(self.stages)} ({self.stages[i][0]}), {elapsed:.0f} s so far{left}",
              file=sys.stderr, flush=True)
