"""The ranges a scenario's figures carry: its profiles' `<key>_range` keys (re-read from the files the specs
came from, already checked when they were loaded), its runtimes' (hardware/runtimes.RANGES) and, for a
speculative draft at the assumed acceptance, the acceptance's (designs/speculative.ACCEPTANCE_RANGE).
Each as a ranges.Uncertain in SI units; analysis/uncertainty.py samples them."""

from __future__ import annotations

from pathlib import Path

from plmodel.designs.speculative import ACCEPTANCE_RANGE, Speculative
from plmodel.hardware.runtimes import RANGES, resolve
from plmodel.io.files import read_mapping
from plmodel.io.ranges import RANGED, SUFFIX
from plmodel.ranges import Uncertain

#: Fields of a runtime as tables show them: (unit, SI per unit).
RUNTIME_UNITS = {"bandwidth_efficiency": ("", 1.0), "flop_efficiency": ("", 1.0), "call_host_s": ("us", 1e-6),
                 "layer_host_s": ("us", 1e-6), "overlap": ("", 1.0)}


def _mapping(src: str):
    """The YAML mapping a spec came from, or None (a spec built in code, or a file gone since)."""
    path = Path(src) if src else None
    return read_mapping(path) if path is not None and path.is_file() else None


def _collect(data, owner: str, spec, src: str, prefix: str = "") -> list:
    """The Uncertain figures of one mapping (and of its `power:` block)."""
    out = []
    for key, bounds in data.items():
        base = str(key)[: -len(SUFFIX)]
        if not str(key).endswith(SUFFIX) or f"{prefix}{base}" not in RANGED:
            continue
        path, scale, unit = RANGED[f"{prefix}{base}"]
        value = _get(spec, path)
        if value is None:
            continue
        out.append(Uncertain(f"{owner} {prefix}{base}", owner, path, value,
                             bounds[0] * scale, bounds[1] * scale, unit, scale, src))
    if not prefix and isinstance(data.get("power"), dict):
        out += _collect(data["power"], owner, spec, src, "power.")
    return out


def _get(obj, path: str):
    for part in path.split("."):
        obj = getattr(obj, part, None)
    return obj


def profile_ranges(scn) -> list:
    """The Uncertain figures of the scenario's cloud, device, link and radio profiles."""
    out = []
    for owner, spec in (("cloud", scn.cloud), ("device", scn.device), ("link", scn.link)):
        data = _mapping(spec.source)
        out += _collect(data, owner, spec, spec.source) if data else []
    radio = scn.link.radio
    if radio is not None:
        data = _mapping(radio.source)
        if data is not None and radio.source == scn.link.source:  # the radio written inside the network profile
            data = data.get("radio") if isinstance(data.get("radio"), dict) else None
        out += _collect(data, "radio", radio, radio.source) if data else []
    return out


def runtime_ranges(scn) -> list:
    """The Uncertain figures of the runtimes that run the scenario's cloud and device."""
    out = []
    for owner, rt in zip(("cloud_runtime", "device_runtime"), resolve(scn), strict=True):
        if owner == "cloud_runtime" and scn.mode == "paper":  # the paper's measured cloud, not a runtime to vary
            continue
        for field, (low, high, why) in RANGES.get(rt.name, {}).items():
            unit, scale = RUNTIME_UNITS.get(field, ("", 1.0))
            out.append(Uncertain(f"{owner.replace('_', ' ')} {rt.name} {field}", owner, field, getattr(rt, field),
                                 low, high, unit, scale, why))
    return out


def design_ranges(scn) -> list:
    """A speculative draft's acceptance, where it is the assumed default (a value the user gave is held)."""
    default = next(p.default for p in Speculative.params if p.name == "acceptance")
    return [Uncertain("speculative acceptance", "speculative", "acceptance", d.acceptance, *ACCEPTANCE_RANGE,
                      "", 1.0, "designs/speculative.py ACCEPTANCE_RANGE")
            for d in scn.designs if isinstance(d, Speculative) and d.acceptance == default]


def scenario_ranges(scn) -> list:
    """Every Uncertain figure of a scenario: its profiles', its runtimes' and its designs'."""
    return profile_ranges(scn) + runtime_ranges(scn) + design_ranges(scn)
