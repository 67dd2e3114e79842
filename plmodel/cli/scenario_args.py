"""Options shared by every command that builds a scenario (estimate, simulate, validate, ...); the scenario is
built from them by io/scenario_options.py (shared with the explorer)."""

from __future__ import annotations

import argparse

from plmodel import designs
from plmodel.hardware.runtimes import RUNTIMES
from plmodel.io.scenario_options import (  # noqa: F401 (the commands' one import for building their scenario)
    OPTION_OF,
    build_adapter,
    build_model,
    build_scenario,
    check_workload,
    named,
)
from plmodel.models import model_choices
from plmodel.specs import PROJECTIONS

DEFAULTS = {"cloud": "a100-80g-pcie", "device": "iphone-13-pro-max", "network": "5g-median"}


def register(p: argparse.ArgumentParser, *, with_profiles: bool = True, with_mode: bool = True,
             with_workload: bool = True, without: tuple = (), design_classes: tuple = designs.DESIGNS) -> None:
    """The scenario's options; those in `without` (options like "--rank") are the command's own business
    and not listed (their default set instead), as are the designs not in `design_classes`."""
    def add(group, option, **kw):
        if option in without:
            p.set_defaults(**{option[2:].replace("-", "_"): kw.get("default")})
        else:
            group.add_argument(option, **kw)

    g = p.add_argument_group("model and adapter")
    add(g, "--model", default="7b", metavar="NAME", help=f"preset ({model_choices(short=True)}) or a config.json")
    add(g, "--rank", type=int, default=64, metavar="R", help="r_c2d = r_d2c")
    add(g, "--rank-c2d", type=int, metavar="R", help="r_c2d: values sent down a token a projection")
    add(g, "--rank-d2c", type=int, metavar="R", help="r_d2c: values sent up a token a projection")
    add(g, "--targets", default="q,k,v", metavar="LIST", help=f"adapted projections ({','.join(PROJECTIONS)}) or "
        "none: a plain split")
    add(g, "--layers", default="all", metavar="LIST", help="adapted layers, e.g. 0-15,20")
    add(g, "--act-bits", type=int, default=16, metavar="BITS", help="bits an activation on the wire")
    add(g, "--cloud-bits", type=int, default=16, metavar="BITS", help="bits a cloud weight (decoder, A, B)")
    add(g, "--device-bits", type=int, default=16, metavar="BITS", help="bits a device weight (LM head, M)")
    if with_profiles:
        h = p.add_argument_group("hardware and network (a shipped profile name or a YAML path)")
        add(h, "--cloud", default=DEFAULTS["cloud"], metavar="NAME", help="cloud accelerator profile")
        add(h, "--device", default=DEFAULTS["device"], metavar="NAME", help="personal device profile")
        add(h, "--network", default=DEFAULTS["network"], metavar="NAME", help="network profile")
        add(h, "--rtt-ms", type=float, metavar="MS", help="round-trip time, overriding the network profile's")
        add(h, "--cloud-runtime", choices=list(RUNTIMES), metavar="NAME", help="cloud software: optimized, hf-eager, peak, "
            "calibrated (default: the profile's, else optimized; paper mode: hf-eager)")
        add(h, "--device-runtime", choices=list(RUNTIMES), metavar="NAME",
            help="device software: mlc-llm (phone GPU), qnn-genie (NPU), llama-cpp (CPU), llama-cpp-gpu "
            "(Apple) (default: the profile's)")
        register_designs(p, design_classes)
    if not with_workload:  # the command has its own workload options (fleet, capacity)
        return
    w = p.add_argument_group("workload")
    add(w, "--batch", type=int, default=1, metavar="N", help="sequences served together")
    add(w, "--prompt-tokens", type=int, default=128, metavar="N", help="prompt length (prefill) and context (decode)")
    if with_mode:
        add(w, "--mode", choices=("realistic", "paper"), default="realistic",
            help="realistic: round trips wait for the network; paper: the paper's estimate")


def register_designs(p: argparse.ArgumentParser, design_classes: tuple = designs.DESIGNS) -> None:
    """Options of the designs beyond the paper's, a group a design, from the registry's declarations; a design
    left out keeps its defaults."""
    types = {"int": int, "float": float}
    metavars = {"int": "N", "float": "X", "network": "NAME", "model": "MODEL", "placement": "FILE"}
    for cls in designs.DESIGNS:
        if cls not in design_classes:
            p.set_defaults(**{prm.name: prm.default for prm in cls.params})
            continue
        g = p.add_argument_group(cls.title)
        for prm in cls.params:
            g.add_argument(prm.option, dest=prm.name, type=types.get(prm.kind, str), default=prm.default,
                           metavar=prm.metavar or metavars.get(prm.kind), help=prm.help)
