"""A scenario from option values as the CLI names them: the adapter, workload, profiles and designs checked, each
error one line naming the option. `o` is anything with the options' names as attributes (argparse's Namespace,
the explorer's Choices); a design parameter's value is `o.design_value(name, default)` where `o` has it, else its
attribute. The CLI (cli/scenario_args.py) and the explorer build their scenarios here, so their checks and
messages are one."""

from __future__ import annotations

from dataclasses import replace

from plmodel import designs
from plmodel.errors import PlmodelError
from plmodel.hardware.runtimes import lookup
from plmodel.io.design_values import resolve_all
from plmodel.io.profiles import load_hardware, load_link
from plmodel.layer_sets import parse_layers as parse_layer_set
from plmodel.models import resolve_model
from plmodel.specs import LIMITS, AdapterSpec, Scenario
from plmodel.units import MS

#: The option that sets each scenario field, to name it in errors the core raises.
OPTION_OF = {"model": "--model", "rank_c2d": "--rank-c2d (or --rank)", "rank_d2c": "--rank-d2c (or --rank)",
             "targets": "--targets", "layers": "--layers", "act_bits": "--act-bits", "cloud_weight_bits": "--cloud-bits",
             "device_weight_bits": "--device-bits", "batch": "--batch", "prompt_tokens": "--prompt-tokens",
             "mode": "--mode", "cloud_runtime": "--cloud-runtime", "device_runtime": "--device-runtime",
             "cloud": "--cloud", "device": "--device", "network": "--network", **designs.option_of(),
             "past_tokens": "--prefill-chunks"}

#: The scenario's options `plan` does not take from the user: it tries its own ranks and layers.
PLAN_TRIES = ("--rank", "--rank-c2d", "--rank-d2c", "--layers", "--device-layers-first", "--device-layers-last")


def design_value(o, name: str, default):
    """A design parameter's value in `o` (its default where `o` does not set it)."""
    if hasattr(o, "design_value"):
        return o.design_value(name, default)
    return getattr(o, name, default)


def parse_layers(text: str):
    """'all' -> None; '0-3,7' -> (0, 1, 2, 3, 7); an error names --layers."""
    try:
        return parse_layer_set(text)
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
                           args.act_bits, args.cloud_bits, args.device_bits)
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


def build_scenario(args, classes: tuple = designs.DESIGNS) -> Scenario:
    """Validated Scenario from option values (the designs among `classes`); every failure is a PlmodelError
    naming the option."""
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
        chosen = build_designs(args, classes)
        check_designs_asked(args, chosen, classes)
        cloud = next((c for c in (d.cloud_hardware() for d in chosen) if c is not None), cloud)
        return Scenario(model, adapter, cloud, device, link, args.batch, args.prompt_tokens, args.mode, *runtimes,
                        designs=chosen)
    except PlmodelError as exc:
        raise exc.named(OPTION_OF) from None


def check_designs_asked(args, chosen: tuple, classes: tuple = designs.DESIGNS) -> None:
    """Refuse a design's option that changes nothing because the design is not asked for (--draft-tokens
    without --draft-model)."""
    built = {d.name for d in chosen}
    for cls in classes:
        given = [p for p in cls.params if design_value(args, p.name, p.default) != p.default]
        if given and cls.name not in built:
            raise PlmodelError(f"{given[0].option}: changes nothing without {cls.title}")


def build_designs(args, classes: tuple = designs.DESIGNS) -> tuple:
    """The designs the options ask for, among `classes` (none where `args` has no design options)."""
    if not (hasattr(args, "design_value") or any(hasattr(args, p.name) for c in classes for p in c.params)):
        return ()
    values = {}
    for cls in designs.DESIGNS:
        raw = {prm.name: design_value(args, prm.name, prm.default) for prm in cls.params} if cls in classes else {}
        values.update(resolve_all(cls, raw, lambda prm: prm.option))
    return designs.build(values)
