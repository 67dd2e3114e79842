"""Sweep configs: a YAML grid -> validated tasks -> records (in parallel, identical to a serial run).

A config is a mapping of axes and settings. Axes are lists (a scalar means one value): models,
ranks (r_c2d = r_d2c) or rank_pairs ([[r_c2d, r_d2c], ...]), phases, batch_sizes, prompt_tokens,
cloud, device, network, rtt_ms (overrides the profile's), targets, cloud_runtime, mode, and the designs'
act_bits, cloud_bits, device_bits, device_layers_first, device_layers_last, servers (over the datacenter
profile), prefill_chunks, draft_model, draft_tokens, acceptance, and the load (sweep_load.py: users, arrival,
rate, tpot_ms, ttft_ms, policy, scheduler, gpus_per_replica; the simulation and fleet engines). Settings: engine (analytical,
simulation or fleet), tokens, requests (fleet), seed, name. `grids:` may list mappings of
axes, each merged over the top level, when one product cannot express the study (the paper's
prefill and decode figures have different x axes).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import replace
from pathlib import Path

from plmodel import designs
from plmodel.bounds import shown
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.hardware.runtimes import lookup
from plmodel.io.design_values import resolve
from plmodel.io.profiles import check_keys, load_hardware, load_link, read_mapping, relative_to_file
from plmodel.layer_sets import parse_layers
from plmodel.models import resolve_model
from plmodel.specs import LIMITS, MODES, PHASES, SIM_LIMITS, AdapterSpec, Scenario
from plmodel.studies.sweep_load import LOAD_AXES, load_values
from plmodel.studies.sweep_vector import blocks
from plmodel.studies.tasks import ORDER, Task
from plmodel.units import MS

AXES = {"models": None, "ranks": None, "rank_pairs": None, "phases": list(PHASES), "batch_sizes": [1],
        "prompt_tokens": [128], "cloud": ["a100-80g-pcie"], "device": ["iphone-13-pro-max"],
        "network": ["5g-median"], "rtt_ms": [None], "targets": ["q,k,v"], "layers": ["all"], "cloud_runtime": [None],
        "mode": ["realistic"]}
#: Axes of the designs beyond the paper (bits, and the registry's: device-held layers, server chains, speculative decoding).
DESIGN_AXES = {"act_bits": [16], "cloud_bits": [16], "device_bits": [16],
               **{prm.name: [prm.default] for prm in designs.record_params()}}
AXES.update(DESIGN_AXES)
AXES.update(LOAD_AXES)
SETTINGS = {"engine": "analytical", "tokens": 32, "requests": 200, "seed": 0, "name": None,
            "uncertainty": 0}  # samples of the ranges for the report's uncertainty section (studies/uncertainty_report.py)
SCHEMA = {**{k: False for k in AXES}, **{k: False for k in SETTINGS}, "grids": False}
ENGINES = ("analytical", "simulation", "fleet")
#: The sweep key that sets each scenario field, to name it in errors the core raises.
SWEEP_KEY_OF = {k: f'field "{v}"' for k, v in {
    "model": "models", "rank_c2d": "ranks", "rank_d2c": "ranks", "targets": "targets", "batch": "batch_sizes",
    "prompt_tokens": "prompt_tokens", "mode": "mode", "layers": "layers", "cloud_runtime": "cloud_runtime",
    "device_runtime": "device_runtime", "act_bits": "act_bits", "cloud_weight_bits": "cloud_bits",
    "device_weight_bits": "device_bits",
    **{prm.name: prm.name for prm in designs.record_params()}}.items()}
MAXIMA = {"ranks": LIMITS["width"], "rank_pairs": LIMITS["width"], "batch_sizes": LIMITS["batch"],
          "prompt_tokens": LIMITS["tokens"], "tokens": SIM_LIMITS["tokens"], "requests": 100_000, "uncertainty": 100_000}


@frozen
class Grid:
    """One grid of a sweep: each axis's validated values (ORDER) and the settings."""

    values: dict
    settings: dict
    source: str

    @property
    def size(self) -> int:
        return math.prod(len(self.values[k]) for k in ORDER)

    def scenario(self, point: dict) -> Scenario:
        """The scenario at one value of each axis (a numpy array for ranks, batch, prompt and RTT: a vectorised
        one); errors name the sweep key."""
        (rc, rd), tg, link, rtt = point["ranks"], point["targets"], point["network"], point["rtts"]
        try:
            adapter = AdapterSpec(rc, rd, () if tg.strip().lower() == "none" else tuple(t.strip() for t in tg.split(",")),
                                  parse_layers(point["layers"]))
            ln = link if rtt is None else replace(link, rtt_s=rtt * MS)
            return _scenario(point["models"], adapter, (point["cloud"], point["device"], ln),
                             (point["batches"], point["prompts"], point["modes"], point["runtimes"]), point["designs"])
        except PlmodelError as exc:
            raise exc.named(SWEEP_KEY_OF, self.source) from None

    def tasks(self) -> list:
        """A Task a point, in order (phases kept together)."""
        s = self.settings
        return [Task(self.scenario(dict(zip(ORDER, p, strict=True))), tuple(self.values["phases"]), p[2], s["engine"],
                     s["tokens"], p[-1].users, s["seed"], p[-1], s["requests"])
                for p in itertools.product(*(self.values[k] for k in ORDER))]


@frozen
class SweepConfig:
    name: str
    engine: str
    grids: tuple
    source: str

    @functools.cached_property
    def tasks(self) -> tuple:
        """A Task a point (built on first use: the vectorised path needs none)."""
        return tuple(t for g in self.grids for t in g.tasks())

    @property
    def n_points(self) -> int:
        return sum(g.size for g in self.grids)

    def profiles(self) -> list:
        """Every hardware and network profile the study's points use."""
        return [p for g in self.grids for k in ("cloud", "device", "network") for p in g.values[k]]


def _as_list(data: dict, key: str, src: str, nested: bool = False) -> list:
    """An axis as a list: a scalar is one value; lists inside it only where `nested` (rank pairs, targets)."""
    value = data[key]
    values = value if isinstance(value, list) else [value]
    if not values:
        raise PlmodelError(f'field "{key}": the axis is empty; give at least one value', src)
    for v in values:
        if isinstance(v, dict) or (isinstance(v, list) and not nested):
            raise PlmodelError(f'field "{key}": expected a value or a list of values, got {v!r}', src)
    return values


def _ints(values, key: str, src: str, minimum: int = 1) -> list:
    top = MAXIMA.get(key, 2**63)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not minimum <= v <= top:
            raise PlmodelError(f'field "{key}": expected integers from {minimum} to {top:,}, got {shown(v)}', src)
    return values


def _setting(data: dict, key: str, src: str):
    value = data.get(key, SETTINGS[key])
    if key in ("tokens", "requests"):
        _ints([value], key, src)
    elif key in ("seed", "uncertainty"):
        _ints([value], key, src, minimum=0)
    elif key == "engine" and value not in ENGINES:
        raise PlmodelError(f'field "engine": expected analytical, simulation or fleet, got {value!r}', src)
    elif key == "name" and value is not None and not isinstance(value, str):
        raise PlmodelError(f'field "name": expected text, got {value!r}', src)
    return value


def _rank_pairs(axes: dict, src: str) -> list:
    if axes.get("ranks") is not None and axes.get("rank_pairs") is not None:
        raise PlmodelError('fields "ranks" and "rank_pairs": give one rank axis, not both', src)
    if axes.get("ranks") is not None:
        return [(r, r) for r in _ints(_as_list(axes, "ranks", src), "ranks", src)]
    if axes.get("rank_pairs") is not None:
        pairs = _as_list(axes, "rank_pairs", src, nested=True)
        for p in pairs:
            if not (isinstance(p, list) and len(p) == 2):
                raise PlmodelError(f'field "rank_pairs": expected [r_c2d, r_d2c] pairs, got {p!r}', src)
            _ints(p, "rank_pairs", src)
        return [tuple(p) for p in pairs]
    raise PlmodelError('missing field "ranks" (or "rank_pairs"): a sweep needs a rank axis', src)


def _profiles(axes: dict, src: str, cache: dict) -> dict:
    """The cloud, device and network profiles an axis names, each loaded once (cached across grids)."""
    def profile(loader, key, name):
        if not isinstance(name, str):
            raise PlmodelError(f'field "{key}": expected a profile name or path, got {name!r}', src)
        name = relative_to_file(src, name)
        if (key, name) not in cache:
            try:
                cache[key, name] = loader(name, key)
            except PlmodelError as exc:
                raise PlmodelError(f'field "{key}": {exc}', src) from None
        return cache[key, name]

    return {key: [profile(loader, key, v) for v in _as_list(axes, key, src)]
            for key, loader in (("cloud", load_hardware), ("device", load_hardware), ("network", load_link))}


def _axis_values(axes: dict, src: str, cache: dict) -> dict:
    """Every axis of one grid as a validated list of values."""
    if axes.get("models") is None:
        raise PlmodelError('missing field "models": a sweep needs at least one model', src)
    try:
        models = [resolve_model(relative_to_file(src, str(m))) for m in _as_list(axes, "models", src)]
    except PlmodelError as exc:
        raise exc.named(SWEEP_KEY_OF, src) from None
    for ph in _as_list(axes, "phases", src):
        if ph not in PHASES:
            raise PlmodelError(f'field "phases": expected prefill or decode, got {ph!r}', src)
    for r in _as_list(axes, "rtt_ms", src):
        if r is not None and (isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 <= r < float("inf")):
            raise PlmodelError(f'field "rtt_ms": expected numbers >= 0, got {r!r}', src)
    try:
        runtimes = [None if r is None else lookup(str(r)) for r in _as_list(axes, "cloud_runtime", src)]
    except PlmodelError as exc:
        raise exc.named({"runtime": 'field "cloud_runtime"'}, src) from None
    return {"models": models, "ranks": _rank_pairs(axes, src), "phases": _as_list(axes, "phases", src),
            "targets": [",".join(map(str, t)) if isinstance(t, list) else str(t)
                        for t in _as_list(axes, "targets", src, nested=True)],
            "batches": _ints(_as_list(axes, "batch_sizes", src), "batch_sizes", src),
            "prompts": _ints(_as_list(axes, "prompt_tokens", src), "prompt_tokens", src),
            "rtts": _as_list(axes, "rtt_ms", src), "runtimes": runtimes, "modes": _modes(axes, src),
            "layers": _layer_sets(axes, src),
            **_profiles(axes, src, cache)}


def _design_values(axes: dict, src: str) -> list:
    """The product of the design axes, each validated: [(act, cloud, device bits, designs)], a point a distinct
    design (a draft's length and acceptance multiply only the points that have a draft)."""
    lists = [_ints(_as_list(axes, k, src), k, src, 1) for k in ("act_bits", "cloud_bits", "device_bits")]
    names = [prm.name for prm in designs.record_params()]
    lists += [_design_axis(prm, axes, src) for prm in designs.record_params()]
    datacenter = load_link("datacenter")  # between the servers of a chain
    out = {}
    for d in itertools.product(*lists):
        try:
            chosen = designs.build({**dict(zip(names, d[3:], strict=True)), "server_network": datacenter})
        except PlmodelError as exc:
            raise exc.named(SWEEP_KEY_OF, src) from None
        out.setdefault(d[:3] + (chosen,), None)
    return list(out)


def _design_axis(prm, axes: dict, src: str) -> list:
    """A design parameter's values from its sweep key, each as the design takes it."""
    values = _as_list(axes, prm.name, src)
    if prm.kind == "int":  # from 1, or from 0 where the default is 0 (nothing of the design)
        return _ints(values, prm.name, src, 0 if prm.default == 0 else 1)
    if prm.kind == "float":
        for a in values:
            if isinstance(a, bool) or not isinstance(a, (int, float)):
                raise PlmodelError(f'field "{prm.name}": expected numbers, got {a!r}', src)
        return values
    return [resolve(prm, v, f'field "{prm.name}"', src) if v is not None else None for v in values]


def _scenario(model, adapter, profiles: tuple, workload: tuple, design: tuple) -> Scenario:
    """A Scenario from a grid point: (cloud, device, link), (batch, prompt, mode, runtime), the design."""
    act, cb, db, chosen = design
    adapter = replace(adapter, act_bits=act, cloud_weight_bits=cb, device_weight_bits=db)
    return Scenario(model, adapter, *profiles, *workload, designs=chosen)


def _layer_sets(axes: dict, src: str) -> list:
    """The adapted layers axis: 'all' or index sets like '0-15,20' (as text, records keep it so)."""
    out = []
    for v in _as_list(axes, "layers", src):
        try:
            parse_layers(v)
        except PlmodelError as exc:
            raise PlmodelError(f'field "layers": {exc.message}', src) from None
        out.append(str(v))
    return out


def _modes(axes: dict, src: str) -> list:
    modes = _as_list(axes, "mode", src)
    for m in modes:
        if m not in MODES:
            raise PlmodelError(f'field "mode": expected paper or realistic, got {m!r}', src)
    return modes


def _grid(axes: dict, settings: dict, src: str, cache: dict) -> Grid:
    """One grid with its axes validated, and every point's scenario checked (at once, vectorised)."""

    grid = Grid({**_axis_values(axes, src, cache), "designs": _design_values(axes, src),
                 "loads": load_values(axes, settings["engine"], src, _as_list)}, settings, src)
    for _ in blocks(grid):
        pass
    return grid


def load_sweep(path, engine: str | None = None) -> SweepConfig:
    """Read and validate a sweep YAML; every error names the file and the key. `engine` overrides
    the config's."""
    path = Path(path)
    src = str(path)
    if not path.exists():
        raise PlmodelError("no such file", src)
    if path.is_dir():
        raise PlmodelError("is a folder, expected a sweep YAML file", src)
    data = read_mapping(path)
    check_keys(data, SCHEMA, src)
    settings = {k: _setting(data, k, src) for k in SETTINGS}
    settings["engine"] = engine or settings["engine"]
    grids = data.get("grids") or [{}]
    if not isinstance(grids, list) or not all(isinstance(g, dict) for g in grids):
        raise PlmodelError('field "grids": expected a list of mappings of axes', src)
    cache, out = {}, []
    for i, grid in enumerate(grids):
        check_keys(grid, {k: False for k in AXES}, src, f"grids[{i}].")
        axes = {k: v for k, v in AXES.items() if v is not None}
        axes.update({k: data[k] for k in AXES if k in data})
        axes.update(grid)
        out.append(_grid(axes, settings, src, cache))
    return SweepConfig(settings["name"] or path.stem, settings["engine"], tuple(out), src)
