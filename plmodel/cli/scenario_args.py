"""Options shared by every command that builds a scenario (estimate, simulate, validate, ...)."""

from __future__ import annotations

import argparse
from dataclasses import replace

from plmodel import designs
from plmodel.errors import PlmodelError
from plmodel.hardware.runtimes import RUNTIMES, lookup
from plmodel.io.design_values import resolve_all
from plmodel.io.profiles import load_hardware, load_link
from plmodel.models import model_choices, resolve_model
from plmodel.specs import LIMITS, PROJECTIONS, AdapterSpec, Scenario
from plmodel.units import MS

#: The option that sets each scenario field, to name it in errors the core raises.
OPTION_OF = {"model": "--model", "rank_c2d": "--rank-c2d (or --rank)", "rank_d2c": "--rank-d2c (or --rank)",
             "targets": "--targets", "layers": "--layers", "device_first": "--device-layers-first",
             "device_last": "--device-layers-last", "act_bits": "--act-bits", "cloud_weight_bits": "--cloud-bits",
             "device_weight_bits": "--device-bits", "batch": "--batch", "prompt_tokens": "--prompt-tokens",
             "mode": "--mode", "cloud_runtime": "--cloud-runtime", "device_runtime": "--device-runtime",
             "cloud": "--cloud", "device": "--device", "network": "--network", **designs.option_of(),
             "past_tokens": "--prefill-chunks"}
DEFAULTS = {"cloud": "a100-80g-pcie", "device": "iphone-13-pro-max", "network": "5g-median"}


def register(p: argparse.ArgumentParser, *, with_profiles: bool = True, with_mode: bool = True,
             with_workload: bool = True) -> None:
    g = p.add_argument_group("model and adapter")
    g.add_argument("--model", default="7b", help=f"preset ({model_choices()}) or a Hugging Face config.json")
    g.add_argument("--rank", type=int, default=64, help="r_c2d = r_d2c")
    g.add_argument("--rank-c2d", type=int, help="values a token per projection sent cloud -> device (overrides --rank)")
    g.add_argument("--rank-d2c", type=int, help="values a token per projection sent device -> cloud (overrides --rank)")
    g.add_argument("--targets", default="q,k,v", help=f"adapted projections, any of {','.join(PROJECTIONS)}; "
                   "none: no adapters (a plain split client: the hidden state crosses at the stack's ends only)")
    g.add_argument("--layers", default="all", help="layers with adapters: all (the cloud's), or indices and ranges "
                   "like 0-15,20")
    g.add_argument("--device-layers-first", type=int, default=0, metavar="K",
                   help="the first K decoder layers run on the device (at --device-bits, KV cache there)")
    g.add_argument("--device-layers-last", type=int, default=0, metavar="K",
                   help="the last K decoder layers run on the device (a prefill then sends every token's hidden "
                        "state down)")
    g.add_argument("--act-bits", type=int, default=16, help="bits per activation on the wire")
    g.add_argument("--cloud-bits", type=int, default=16, help="bits per weight on the cloud (decoder, A, B)")
    g.add_argument("--device-bits", type=int, default=16, help="bits per weight on the device (embedding, LM head, M)")
    if with_profiles:
        h = p.add_argument_group("hardware and network (a shipped profile name or a YAML path)")
        h.add_argument("--cloud", default=DEFAULTS["cloud"], help="cloud accelerator profile")
        h.add_argument("--device", default=DEFAULTS["device"], help="personal device profile")
        h.add_argument("--network", default=DEFAULTS["network"], help="network profile")
        h.add_argument("--rtt-ms", type=float, help="round-trip time in ms, overriding the network profile's")
        h.add_argument("--cloud-runtime", choices=list(RUNTIMES), help="software on the cloud GPU, for split and "
                       "cloud-only alike (default: the profile's, else optimized; paper mode: the paper's hf-eager)")
        h.add_argument("--device-runtime", choices=list(RUNTIMES),
                       help="software on the device (default: the profile's, else mlc-llm)")
    if with_profiles:
        register_designs(p)
    if not with_workload:  # the command has its own workload options (fleet, capacity)
        return
    w = p.add_argument_group("workload")
    w.add_argument("--batch", type=int, default=1, help="sequences served together")
    w.add_argument("--prompt-tokens", type=int, default=128, help="prompt length (prefill) and context (decode)")
    if with_mode:
        w.add_argument("--mode", choices=("realistic", "paper"), default="realistic",
                       help="realistic: round trips wait for the network; paper: the paper's estimate")


def register_designs(p: argparse.ArgumentParser) -> None:
    """Options of the designs beyond the paper's, a group a design, from the registry's declarations."""
    types = {"int": int, "float": float}
    for cls in designs.DESIGNS:
        g = p.add_argument_group(cls.title)
        for prm in cls.params:
            g.add_argument(prm.option, dest=prm.name, type=types.get(prm.kind, str), default=prm.default,
                           metavar=prm.metavar, help=prm.help)


def parse_layers(text: str):
    """'all' -> None; '0-3,7' -> (0, 1, 2, 3, 7); an error names --layers."""
    from plmodel.layer_sets import parse_layers as parse

    try:
        return parse(text)
    except PlmodelError as exc:
        raise PlmodelError(f"--layers: {exc.message}") from None


def parse_targets(text: str) -> tuple:
    """'q,k,v' -> ('q', 'k', 'v'); 'none' -> () (no adapters)."""
    return () if text.strip().lower() == "none" else tuple(t.strip() for t in text.split(",") if t.strip())


def build_adapter(args) -> AdapterSpec:
    for opt in ("rank", "rank_c2d", "rank_d2c", "act_bits", "cloud_bits", "device_bits"):
        value = getattr(args, opt)
        limit = 64 if opt.endswith("bits") else LIMITS["width"]
        if value is not None and not 1 <= value <= limit:
            raise PlmodelError(f"--{opt.replace('_', '-')}: expected an integer from 1 to {limit:,}, got {value}")
    targets = parse_targets(args.targets)
    if not targets and args.targets.strip().lower() != "none":
        raise PlmodelError(f"--targets: expected projections like q,k,v or none, got {args.targets!r}")
    try:
        return AdapterSpec(args.rank_c2d or args.rank, args.rank_d2c or args.rank, targets, parse_layers(args.layers),
                           args.act_bits, args.cloud_bits, args.device_bits, args.device_layers_first,
                           args.device_layers_last)
    except PlmodelError as exc:
        raise exc.named(OPTION_OF) from None


def check_workload(args) -> None:
    for opt, limit in (("batch", LIMITS["batch"]), ("prompt_tokens", LIMITS["tokens"])):
        if not 1 <= getattr(args, opt) <= limit:
            raise PlmodelError(f"--{opt.replace('_', '-')}: expected an integer from 1 to {limit:,}, "
                               f"got {getattr(args, opt)}")


def named(function, scn):
    """function(scn), with an error about a scenario field named by its option."""
    try:
        return function(scn)
    except PlmodelError as exc:
        raise exc.named(OPTION_OF) from None


def build_model(args):
    """The model --model names; an error names the option."""
    try:
        return resolve_model(args.model)
    except PlmodelError as exc:
        raise exc.named(OPTION_OF) from None


def build_scenario(args) -> Scenario:
    """Validated Scenario from parsed options; every failure is a PlmodelError naming the option."""
    check_workload(args)
    model = build_model(args)
    adapter = build_adapter(args)
    cloud = load_hardware(args.cloud, "--cloud")
    device = load_hardware(args.device, "--device")
    link = load_link(args.network, "--network")
    if args.rtt_ms is not None:
        if not 0 <= args.rtt_ms <= LIMITS["rtt_s"] / MS:
            raise PlmodelError(f"--rtt-ms: expected a number from 0 to {LIMITS['rtt_s'] / MS:g}, got {args.rtt_ms}")
        link = replace(link, rtt_s=args.rtt_ms * MS)
    runtimes = [lookup(n) if n else None for n in (getattr(args, "cloud_runtime", None),
                                                   getattr(args, "device_runtime", None))]
    try:
        chosen = build_designs(args)
        cloud = next((c for c in (d.cloud_hardware() for d in chosen) if c is not None), cloud)
        return Scenario(model, adapter, cloud, device, link, args.batch, args.prompt_tokens, args.mode, *runtimes,
                        designs=chosen)
    except PlmodelError as exc:
        raise exc.named(OPTION_OF) from None


def build_designs(args) -> tuple:
    """The designs the options ask for (none where the command has no design options)."""
    if not hasattr(args, "prefill_chunks"):
        return ()
    values = {}
    for cls in designs.DESIGNS:
        raw = {prm.name: getattr(args, prm.name) for prm in cls.params}
        values.update(resolve_all(cls, raw, lambda prm: prm.option))
    return designs.build(values)
