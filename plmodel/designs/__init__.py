"""The registry of designs: each a module of this folder with one `Design` subclass (design.py).

A new design is one module here and a line in DESIGNS; the CLI options, sweep axes, record columns,
estimate inputs and docs tables are derived from the declarations of the designs listed. The order is the
order of the records' columns and of the sweeps' axes.
"""

from __future__ import annotations

from plmodel.design import Design, Param
from plmodel.designs.chain import ServerChain
from plmodel.designs.cloud_lora import CloudLora
from plmodel.designs.held_layers import HeldLayers
from plmodel.designs.pipelined import PipelinedPrefill
from plmodel.designs.private_layers import PrivateLayers
from plmodel.designs.speculative import Speculative
from plmodel.designs.tee import ConfidentialCloud
from plmodel.designs.token_ids import TokenIdsUp

#: The layers on the device come first: their columns follow the adapter's in records and sweeps, and their checks run
#: first. A TEE comes before per-user LoRA: its `whole_model_s` wraps the others' (design.first takes the first answer).
DESIGNS = (HeldLayers, ServerChain, PipelinedPrefill, Speculative, PrivateLayers, TokenIdsUp, ConfidentialCloud, CloudLora)


def params() -> list:
    """(design class, Param) of every registered design, in order."""
    return [(d, p) for d in DESIGNS for p in d.params]


def set_for_plan() -> tuple:
    """The designs `plan` takes from the user: those that offer no variants of their own (a chain of servers);
    plan tries the others' variants itself (a pipelined prefill in 8 chunks, each draft preset, ...)."""
    return tuple(cls for cls in DESIGNS if cls.variants.__func__ is Design.variants.__func__)


def option_of() -> dict:
    """{field: CLI option} of every design parameter, to name it in errors."""
    return {p.name: p.option for _, p in params()}


def record_params() -> list:
    """The parameters that are sweep axes and record columns."""
    return [p for _, p in params() if p.record]


def build(values: dict) -> tuple:
    """The designs that parameter values (resolved: models, links, placements) ask for, in registry order."""
    out = []
    for cls in DESIGNS:
        mine = {p.name: values[p.name] for p in cls.params if p.name in values}
        d = cls.from_values({**{p.name: p.default for p in cls.params}, **mine})
        if d is not None:
            out.append(d)
    return tuple(out)


def record_columns(scn) -> dict:
    """Every registered design's record columns for a scenario: its values, or the absent ones."""
    out = {}
    for cls in DESIGNS:
        out.update(cls.scenario_columns(scn))
    return out


def listed_inputs(scn) -> dict:
    """The estimate's inputs of the designs every estimate lists (the layers on the device), the scenario's values."""
    out = {}
    for cls in DESIGNS:
        if cls.listed:
            out.update(cls.scenario_columns(scn))
    return out


def param_table(cls) -> str:
    """The Markdown table of a design's parameters, as docs/designs/<name>.md shows it (a test checks it)."""
    rows = ["| option | sweep key and record column | kind | unit | default | what |", "|---|---|---|---|---|---|"]
    for p in cls.params:
        key = p.name if p.record else "(CLI only)"
        rows.append(f"| `{p.option}` | {key} | {p.kind} | {p.unit or '-'} | {p.default if p.default is not None else '-'} "
                    f"| {p.help} |")
    return "\n".join(rows) + "\n"


__all__ = ["DESIGNS", "CloudLora", "ConfidentialCloud", "Design", "HeldLayers", "Param", "PipelinedPrefill",
           "PrivateLayers", "ServerChain", "Speculative", "TokenIdsUp", "build",
           "listed_inputs", "option_of", "param_table", "set_for_plan", "params", "record_columns", "record_params"]
