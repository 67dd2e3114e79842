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

from dataclasses import replace

import numpy as np

from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.hardware import runtimes
from plmodel.hardware.engine import Engine, stack_s
from plmodel.hardware.feasibility import cloud_need_bytes, group_fit
from plmodel.workload import ends_work


@frozen
class Server:
    """One server of a chain: decoder layers start..stop-1 on `hardware`."""

    start: int
    stop: int
    hardware: object  # specs.HardwareSpec

    @property
    def n_layers(self) -> int:
        return self.stop - self.start


@frozen
class Placement:
    """The cloud's layers split over a chain of servers (Server ranges in order), as a placement file gives them."""

    servers: tuple
    source: str = ""  # the file it came from

    def check(self, model, adapter) -> None:
        """The ranges cover the cloud's layers in order (raises PlmodelError, field placement)."""
        want, at = adapter.split.cloud_range(model.n_layers), adapter.split.first
        for i, s in enumerate(self.servers):
            if s.start != at or s.stop <= s.start:
                after = "the previous server's" if i else "the layers the device holds first"
                raise PlmodelError(f"servers[{i}] starts at layer {s.start}; expected layer {at}, the first after {after} "
                                   "(the cloud's layers in order, no gap, no overlap)", field="placement")
            at = s.stop
        if at != want.stop:
            raise PlmodelError(f"the servers end at layer {at - 1}; the cloud runs layers {want.start}-{want.stop - 1} "
                               f"of {model.name}", field="placement")


def server_fits(scn, placement: Placement) -> list:
    """A placement's servers, each holding its share of the cloud's layers on its own group."""
    need = float(np.max(cloud_need_bytes(scn.model, scn.adapter, scn.batch, scn.prompt_tokens)))
    n = scn.model.n_layers - scn.adapter.split.on_device
    return [group_fit(need * s.n_layers / n, s.hardware, scn.model) for s in placement.servers]


def engines(scn, placement: Placement) -> list:
    """[(Server, Engine)] of the chain: each server's hardware with the cloud runtime, on as many GPUs as its
    layers need."""
    cloud_rt = runtimes.resolve(scn)[0]
    return [(s, Engine(s.hardware, cloud_rt, fit.gpus or 1))
            for s, fit in zip(placement.servers, server_fits(scn, placement), strict=True)]


def chain_stack_s(chain: list, model, step, bits: tuple) -> tuple:
    """(seconds, source) of the cloud's layers over the chain (`engines`): each server's own layers on its engine."""
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


def whole_model_s(scn, placement: Placement, step, bits: tuple) -> tuple:
    """(seconds, source) of the whole model on the chain (the cloud-only yardstick): each server's layers,
    any layers a split would hold on the device on the first server, and the embedding and LM head there."""
    chain = engines(scn, placement)
    t, source = chain_stack_s(chain, scn.model, step, bits)
    _, first = chain[0]
    one_layer = stack_s(first, replace(scn.model, n_layers=1, key=None), step, bits, with_ends=False)[0]
    ends = ends_work(scn.model, step, *bits)
    ends_s = first.time_s(ends.device_flop / first.gpus, ends.device_bytes / first.gpus, calls=1)
    return t + scn.adapter.split.on_device * one_layer + ends_s, source
