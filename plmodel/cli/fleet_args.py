"""Options shared by `fleet` and `capacity`: the requests' lengths, the servers and their policies."""

from __future__ import annotations

import argparse
import sys

from plmodel.cli import scenario_args
from plmodel.errors import PlmodelError
from plmodel.fleet.cloud_only import CHUNK_TOKENS, KV_POLICIES, SCHEDULERS, BatchingSpec
from plmodel.fleet.paging import PREEMPTIONS
from plmodel.fleet.policies import POLICIES, PolicySpec

#: The option that sets each fleet field, to name it in errors the core raises.
OPTION_OF = {"arrival": "--arrival", "rate": "--rate", "requests": "--requests", "users": "--users",
             "think": "--think-s", "trace": "--trace-csv", "lengths": "--lengths", "prompt_tokens": "--prompt-tokens",
             "output_tokens": "--output-tokens", "policy": "--policy", "max_batch": "--max-batch",
             "cohort_size": "--cohort-size", "target": "--hold-target", "max_wait": "--max-wait-ms",
             "max_batch ": "--cloud-max-batch", "chunk_tokens": "--chunk-tokens", "scheduler": "--scheduler", "kv": "--kv",
             "preemption": "--preemption",
             "server": "--server", "gpus": "--gpus-per-replica",
             "percentile": "--percentile", "mode": "--mode", "cloud": "--cloud", **scenario_args.OPTION_OF}
SERVER_CHOICES = ("both", "split", "cloud-only")
#: Each server option, its default, and the --server and --policy values it has an effect with.
SCOPED = {"policy": (PolicySpec.name, ("both", "split"), tuple(POLICIES)),
          "cohort_size": (PolicySpec.cohort_size, ("both", "split"), ("cohort",)),
          "max_batch": (PolicySpec.max_batch, ("both", "split"), ("greedy", "hold")),
          "hold_target": (PolicySpec.target, ("both", "split"), ("hold",)),
          "max_wait_ms": (PolicySpec.max_wait_s * 1e3, ("both", "split"), ("hold",)),
          "cloud_max_batch": (BatchingSpec.max_batch, ("both", "cloud-only"), tuple(POLICIES)),
          "chunk_tokens": (None, ("both", "cloud-only"), tuple(POLICIES)),
          "scheduler": (BatchingSpec.scheduler, ("both", "cloud-only"), tuple(POLICIES)),
          "kv": (BatchingSpec.kv, ("both", "split", "cloud-only"), tuple(POLICIES)),
          "preemption": (BatchingSpec.preemption, ("both", "split", "cloud-only"), tuple(POLICIES))}


def register(p: argparse.ArgumentParser) -> None:
    scenario_args.register(p, with_mode=False, with_workload=False)
    w = p.add_argument_group("requests")
    w.add_argument("--prompt-tokens", type=int, default=128, metavar="N", help="prompt tokens a request (the mean)")
    w.add_argument("--output-tokens", type=int, default=128, metavar="N", help="generated tokens a request (the mean)")
    s = p.add_argument_group("servers (the split server's policy, the cloud-only server's batching)")
    s.add_argument("--server", choices=SERVER_CHOICES, default="both", metavar="NAME",
                   help=f"which to model: {', '.join(SERVER_CHOICES)}")
    s.add_argument("--policy", choices=list(POLICIES), default="cohort", metavar="NAME",
                   help=f"split: batching policy, {', '.join(POLICIES)}")
    s.add_argument("--cohort-size", type=int, default=PolicySpec.cohort_size, metavar="N",
                   help="cohort: most sequences a cohort")
    s.add_argument("--max-batch", type=int, default=PolicySpec.max_batch, metavar="N",
                   help="greedy, hold: most sequences a batch")
    s.add_argument("--hold-target", type=int, default=PolicySpec.target, metavar="N",
                   help="hold: run at once with N waiting")
    s.add_argument("--max-wait-ms", type=float, default=PolicySpec.max_wait_s * 1e3, metavar="MS",
                   help="hold: the longest a batch waits to grow")
    s.add_argument("--cloud-max-batch", type=int, default=BatchingSpec.max_batch, metavar="N",
                   help="cloud-only: most sequences an iteration")
    s.add_argument("--scheduler", choices=SCHEDULERS, default=BatchingSpec.scheduler, metavar="NAME",
                   help="cloud-only: prefill-first (as vLLM before chunked prefill) or chunked (a token "
                        "budget, as Sarathi-Serve)")
    s.add_argument("--chunk-tokens", type=int, metavar="N",
                   help=f"cloud-only, --scheduler chunked: tokens an iteration (default {CHUNK_TOKENS})")
    s.add_argument("--kv", choices=KV_POLICIES, default=BatchingSpec.kv, metavar="NAME",
                   help="both servers' KV memory: paged (as vLLM, blocks as contexts grow) or reserve (the "
                        "whole length at admission)")
    s.add_argument("--preemption", choices=PREEMPTIONS, default=BatchingSpec.preemption, metavar="NAME",
                   help="paged KV full: recompute (as vLLM V1) or swap (over PCIe to host memory)")

    s.add_argument("--per-user-adapters", action="store_true", help="each user their own A and B (default: shared)")
    o = p.add_argument_group("output")
    o.add_argument("--json", action="store_true", help="print one flat JSON object (SI units)")
    o.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
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
    check_scope(args)
    args.batch, args.mode = 1, "realistic"
    scn = scenario_args.build_scenario(args)
    policy = PolicySpec(args.policy, args.max_batch, args.max_wait_ms / 1e3, args.hold_target, args.cohort_size)
    batching = named(BatchingSpec, args.cloud_max_batch, args.chunk_tokens, args.scheduler, args.kv,
                     preemption=args.preemption)
    kinds = ("split", "cloud-only") if args.server == "both" else (args.server,)
    return scn, policy, batching, kinds


def check_scope(args) -> None:
    """Refuse a server option that changes nothing with the --server and --policy asked for."""
    for name, (default, servers, policies) in SCOPED.items():
        if getattr(args, name) == default:
            continue
        option = f"--{name.replace('_', '-')}"
        if args.server not in servers:
            raise PlmodelError(f"{option}: changes nothing with --server {args.server}")
        if args.policy not in policies:
            raise PlmodelError(f"{option}: only with --policy {' or '.join(policies)}, got --policy {args.policy}")


def show_progress(args) -> bool:
    return sys.stderr.isatty() if args.progress is None else args.progress


def named(function, *a, **k):
    """function(...), with an error about a fleet field named by its option."""
    try:
        return function(*a, **k)
    except PlmodelError as exc:
        raise exc.named(OPTION_OF) from None
