"""Options shared by `fleet` and `capacity`: the requests' lengths, the servers and their policies."""

from __future__ import annotations

import argparse
import sys

from plmodel.cli import scenario_args
from plmodel.errors import PlmodelError
from plmodel.fleet import POLICIES, BatchingSpec, PolicySpec

#: The option that sets each fleet field, to name it in errors the core raises.
OPTION_OF = {"arrival": "--arrival", "rate": "--rate", "requests": "--requests", "users": "--users",
             "think": "--think-s", "trace": "--trace-csv", "lengths": "--lengths", "prompt_tokens": "--prompt-tokens",
             "output_tokens": "--output-tokens", "policy": "--policy", "max_batch": "--max-batch",
             "cohort_size": "--cohort-size", "target": "--hold-target", "max_wait": "--max-wait-ms",
             "max_batch ": "--cloud-max-batch", "chunk_tokens": "--chunk-tokens", "server": "--server",
             "percentile": "--percentile", "mode": "--mode", "cloud": "--cloud", **scenario_args.OPTION_OF}
SERVER_CHOICES = ("both", "split", "cloud-only")


def register(p: argparse.ArgumentParser) -> None:
    scenario_args.register(p, with_mode=False, with_workload=False)
    w = p.add_argument_group("requests")
    w.add_argument("--prompt-tokens", type=int, default=128, help="prompt tokens a request (mean, with --lengths)")
    w.add_argument("--output-tokens", type=int, default=128, help="generated tokens a request (mean, with --lengths)")
    s = p.add_argument_group("servers")
    s.add_argument("--server", choices=SERVER_CHOICES, default="both", help="which serving to model")
    s.add_argument("--policy", choices=list(POLICIES), default="cohort",
                   help="split server's batching policy (see plmodel.fleet.policies)")
    s.add_argument("--cohort-size", type=int, default=PolicySpec.cohort_size, help="cohort: most sequences a cohort")
    s.add_argument("--max-batch", type=int, default=PolicySpec.max_batch, help="greedy, hold: most sequences a batch")
    s.add_argument("--hold-target", type=int, default=PolicySpec.target, help="hold: run at once with this many waiting")
    s.add_argument("--max-wait-ms", type=float, default=PolicySpec.max_wait_s * 1e3,
                   help="hold: the longest a batch waits to grow (ms)")
    s.add_argument("--cloud-max-batch", type=int, default=BatchingSpec.max_batch,
                   help="cloud-only: most sequences an iteration (vLLM's max_num_seqs)")
    s.add_argument("--chunk-tokens", type=int, help="cloud-only: most prompt tokens an iteration (chunked prefill; "
                   "default: whole prompts)")
    s.add_argument("--per-user-adapters", action="store_true",
                   help="every user has their own A and B (read once a sequence, held in memory per request); "
                        "default: A and B shared by all users, as PrivateLoRA's frozen random matrices can be")
    p.add_argument("--json", action="store_true", help="print one flat JSON object (SI units)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress on stderr (default: when stderr is a terminal)")


def check_int(args, name: str, low: int = 1, high: int = 10_000_000) -> None:
    value = getattr(args, name)
    if value is not None and not low <= value <= high:
        raise PlmodelError(f"--{name.replace('_', '-')}: expected an integer from {low:,} to {high:,}, got {value}")


def build(args) -> tuple:
    """(Scenario, PolicySpec, BatchingSpec, servers) from the options; errors name the option."""
    for name in ("prompt_tokens", "output_tokens", "cohort_size", "max_batch", "hold_target", "cloud_max_batch",
                 "chunk_tokens"):
        check_int(args, name)
    if not 0 <= args.max_wait_ms <= 1e6:
        raise PlmodelError(f"--max-wait-ms: expected a number from 0 to 1,000,000, got {args.max_wait_ms}")
    args.batch, args.mode = 1, "realistic"
    scn = scenario_args.build_scenario(args)
    policy = PolicySpec(args.policy, args.max_batch, args.max_wait_ms / 1e3, args.hold_target, args.cohort_size)
    batching = BatchingSpec(args.cloud_max_batch, args.chunk_tokens)
    kinds = ("split", "cloud-only") if args.server == "both" else (args.server,)
    return scn, policy, batching, kinds


def show_progress(args) -> bool:
    return sys.stderr.isatty() if args.progress is None else args.progress


def named(function, *a, **k):
    """function(...), with an error about a fleet field named by its option."""
    try:
        return function(*a, **k)
    except PlmodelError as exc:
        raise exc.named(OPTION_OF) from None
