"""A placement file: a chain of cloud servers, each with its own decoder layers and its own hardware.

    servers:                        # in the order the hidden state visits them
      - {layers: 0-39, cloud: h100-sxm}
      - {layers: 40-79, cloud: a100-80g-sxm}
    server_network: datacenter      # the link between consecutive servers (default datacenter)

The servers' layer ranges must cover the cloud's layers (all but those the device holds) in order,
without gaps or overlaps. Each server is a group of its GPUs, as many as its own layers need
(feasibility.group_fit). A step's cloud time is the sum of each server's time for its own layers; the
pieces carry it as a mean a layer (and a mean a round trip over the adapted layers), which keeps every
total exact for one user (Pieces.cloud_s), while the order in which fast and slow layers come is not
kept (a simulation with several users, or a pipelined prefill, sees the mean layer).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .errors import PlmodelError

SCHEMA = {"servers": True, "server_network": False}
SERVER_SCHEMA = {"layers": True, "cloud": True}


@dataclass(frozen=True)
class Server:
    """One server of a chain: decoder layers start..stop-1 on `hardware`."""

    start: int
    stop: int
    hardware: object  # specs.HardwareSpec

    @property
    def n_layers(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Placement:
    servers: tuple
    source: str = ""  # the file it came from

    def check(self, model, adapter) -> None:
        """The ranges cover the cloud's layers in order (raises PlmodelError, field placement)."""
        want, at = range(adapter.device_first, model.n_layers - adapter.device_last), adapter.device_first
        for i, s in enumerate(self.servers):
            if s.start != at or s.stop <= s.start:
                after = "the previous server's" if i else "the layers the device holds first"
                raise PlmodelError(f"servers[{i}] starts at layer {s.start}; expected layer {at}, the first after {after} "
                                   "(the cloud's layers in order, no gap, no overlap)", field="placement")
            at = s.stop
        if at != want.stop:
            raise PlmodelError(f"the servers end at layer {at - 1}; the cloud runs layers {want.start}-{want.stop - 1} "
                               f"of {model.name}", field="placement")


def parse_range(text, where: str) -> tuple:
    """'0-39' or [0, 39] (inclusive) or 7 -> (start, stop)."""
    try:
        if isinstance(text, list) and len(text) == 2:
            lo, hi = (int(x) for x in text)
        elif isinstance(text, int) and not isinstance(text, bool):
            lo = hi = text
        else:
            lo_s, _, hi_s = str(text).partition("-")
            lo, hi = int(lo_s), int(hi_s or lo_s)
    except (TypeError, ValueError):
        raise PlmodelError(f'{where}: expected a range like 0-39, got {text!r}') from None
    if not 0 <= lo <= hi:
        raise PlmodelError(f'{where}: expected first <= last, both >= 0, got {text!r}')
    return lo, hi + 1


def load_placement(path: str, option: str = "--placement") -> tuple:
    """(Placement, the server link's LinkSpec) from a placement YAML; every error names the file and key."""
    from .profiles import check_keys, load_hardware, load_link, read_mapping
    from .sweep import relative_to_file

    p = Path(path)
    if not p.is_file():
        raise PlmodelError(f"{option}: no such file {path!r}")
    src = str(p)
    data = read_mapping(p)
    check_keys(data, SCHEMA, src)
    servers = data["servers"]
    if not isinstance(servers, list) or not servers or not all(isinstance(s, dict) for s in servers):
        raise PlmodelError('field "servers": expected a list of mappings with layers and cloud', src)
    out = []
    for i, s in enumerate(servers):
        check_keys(s, SERVER_SCHEMA, src, f"servers[{i}].")
        start, stop = parse_range(s["layers"], f'{src}: field "servers[{i}].layers"')
        try:
            hw = load_hardware(relative_to_file(src, str(s["cloud"])), f'{src}: field "servers[{i}].cloud"')
        except PlmodelError as exc:
            raise PlmodelError(exc.message if exc.message.startswith(src) else f'{src}: {exc.message}') from None
        out.append(Server(start, stop, hw))
    link = load_link(relative_to_file(src, str(data.get("server_network", "datacenter"))),
                     f'{src}: field "server_network"')
    return Placement(tuple(out), src), link


def engines(scn) -> list:
    """[(Server, Engine)] of the chain: each server's hardware with the cloud runtime, on as many GPUs as its
    layers need."""
    from . import runtimes
    from .engine import Engine
    from .feasibility import server_fits

    cloud_rt = runtimes.resolve(scn)[0]
    return [(s, Engine(s.hardware, cloud_rt, fit.gpus or 1))
            for s, fit in zip(scn.placement.servers, server_fits(scn), strict=True)]


def chain_stack_s(chain: list, model, step, bits: tuple) -> tuple:
    """(seconds, source) of the cloud's layers over the chain (`engines`): each server's own layers on its engine."""
    from .engine import stack_s

    total, sources = 0.0, []
    for server, engine in chain:
        t, source = stack_s(engine, replace(model, n_layers=server.n_layers, key=None), step, bits, with_ends=False)
        total, sources = total + t, sources + [source]
    return total, "peak" if "peak" in sources else sources[0]


def chain_stage_s(chain: list, works: list, adapted: tuple) -> list:
    """Cloud time of each round trip's A and B, the mean over the adapted layers of the servers holding them."""
    pairs = [(sum(1 for i in adapted if s.start <= i < s.stop), e) for s, e in chain]
    n = sum(k for k, _ in pairs) or 1
    return [sum(k * e.cloud_s(w, calls=1) for k, e in pairs) / n for w in works]


def whole_model_s(scn, step, bits: tuple) -> tuple:
    """(seconds, source) of the whole model on the chain (the cloud-only yardstick): each server's layers,
    any layers a split would hold on the device on the first server, and the embedding and LM head there."""
    from .engine import stack_s
    from .workload import ends_work

    chain = engines(scn)
    t, source = chain_stack_s(chain, scn.model, step, bits)
    _, first = chain[0]
    one_layer = stack_s(first, replace(scn.model, n_layers=1, key=None), step, bits, with_ends=False)[0]
    ends = ends_work(scn.model, step, *bits)
    ends_s = first.time_s(ends.device_flop / first.gpus, ends.device_bytes / first.gpus, calls=1)
    return t + scn.adapter.held * one_layer + ends_s, source
