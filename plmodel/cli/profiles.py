"""List the shipped hardware and network profiles with their key figures.

Every option that takes a profile name also takes a path to your own YAML file with the same keys.
"""

from __future__ import annotations

from plmodel.io.profiles import available, load_hardware, load_link, profile_dirs


def register_arguments(p) -> None:
    p.add_argument("kind", nargs="?", choices=("hardware", "network", "all"), default="all")


def run(args) -> int:
    if args.kind in ("hardware", "all"):
        print(f"Hardware profiles ({profile_dirs()['hardware']})")
        print(f"  {'name':<20}{'GB/s':>9}{'TFLOP/s':>10}{'memory GB':>11}  {'runtime':<14}measured")
        for name in available("hardware"):
            hw = load_hardware(name)
            measured = ", ".join(f"{m.model} {m.phase} {m.weight_bits}b {m.tokens_per_s:g}"
                                 + (f" ({m.runtime})" if m.runtime else "") for m in hw.measured)
            print(f"  {name:<20}{hw.mem_bw_bytes_per_s / 1e9:>9,.1f}{hw.peak_flop_per_s / 1e12:>10,.1f}"
                  f"{hw.memory_bytes / 1e9:>11,.1f}  {hw.runtime or '-':<14}{measured or '-'}")
    if args.kind == "all":
        print()
    if args.kind in ("network", "all"):
        print(f"Network profiles ({profile_dirs()['network']})")
        print(f"  {'name':<20}{'down Mbit/s':>12}{'up Mbit/s':>11}{'RTT ms':>8}  jitter")
        for name in available("network"):
            ln = load_link(name)
            jit = f"lognormal p50 {ln.jitter.median_s * 1e3:g} ms p99 {ln.jitter.p99_s * 1e3:g} ms" if ln.jitter else "-"
            print(f"  {name:<20}{ln.c2d_bps / 1e6:>12,.1f}{ln.d2c_bps / 1e6:>11,.1f}{ln.rtt_s * 1e3:>8,.1f}  {jit}")
    return 0
