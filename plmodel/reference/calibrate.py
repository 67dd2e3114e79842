"""Time the reference layers on this machine: achieved FLOP/s, memory bandwidth and fixed costs.

- Bandwidth and the fixed time a layer: decode steps of one token through stacks of reference
  layers of several widths (d = 64 to 1024); a least-relative-squares fit of
  time a layer = overhead + weight bytes / bandwidth.
- FLOP/s: a prefill of `tokens` tokens through reference layers (compute bound), the fitted
  overhead taken off; the FLOPs are the workload's count (which the torch reference matches).
- The time of a small call: the cloud's side of a tiny adapter stage (x A, B and the adds, the
  device's answer stubbed) and the device part applying a tiny M, averaged over the two sides.
- Decode steps run with a KV cache of 32 tokens, as a real decode does.
Each time is the median of several repeats, each started with cold caches (see _Flush).
"""

from __future__ import annotations

import platform
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

from ..specs import AdapterSpec, ModelSpec
from ..step import Step
from ..workload import layer_work
from .model import DecoderLayer, KVCache
from .split import SplitModel

FLOP_SHAPE = ModelSpec("calibrate-flops", 2, 1024, 8, 8, 2816, 256)
#: (d_model, layers): the widths a model this CPU runs in seconds has; timed cold (see _Flush).
BANDWIDTH_STACKS = ((64, 8), (256, 16), (512, 8), (1024, 4))


@dataclass(frozen=True)
class Calibration:
    flop_per_s: float
    mem_bw_bytes_per_s: float
    matmul_flop_per_s: float
    layer_overhead_s: float
    call_overhead_s: float
    threads: int
    detail: str


class _Flush:
    """Writes a buffer larger than the last-level cache, so that the next timing starts cold, as a
    layer does in a split deployment: between two steps the other side, the network wait and the
    machine's other tenants have evicted its weights (the L3 here is 105 MiB, shared)."""

    def __init__(self, nbytes: int = 256 * 2**20):
        self.buf = np.zeros(nbytes // 8)

    def __call__(self) -> None:
        self.buf += 1.0


def _typical_time(fn, repeats: int, flush: _Flush | None = None) -> float:
    """Median time of `fn` over `repeats` runs after a warm-up, each after `flush` if given."""
    fn()
    times = []
    for _ in range(repeats):
        if flush is not None:
            flush()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _layers(spec: ModelSpec):
    torch.manual_seed(0)
    return [DecoderLayer(spec, i).eval() for i in range(spec.n_layers)]


def _run_layers(layers, x, cache=None, channel=None):
    start = cache.length() if cache is not None else 0
    positions = torch.arange(start, start + x.shape[1])
    with torch.no_grad():
        for layer in layers:
            x = layer(x, positions, cache, channel)
    return x


class _StubChannel:
    """Answers every round trip with zeros at once: the cloud's side of a stage, alone."""

    def __init__(self, r_d2c: int):
        self.r_d2c = r_d2c

    def round_trip(self, layer, xa):
        return {p: torch.zeros(*t.shape[:-1], self.r_d2c) for p, t in xa.items()}


def _decode_time(layers, d: int, repeats: int, channel=None, flush=None) -> float:
    """Median time of one decode step through `layers`, 32 tokens in the KV cache; with `flush`,
    each layer is timed alone after a flush, as each layer of a split model starts after a round
    trip with cold caches."""
    cache = KVCache()
    _run_layers(layers, torch.randn(1, 32, d), cache, channel)
    x = torch.randn(1, 1, d)
    positions = torch.arange(32, 33)

    def step() -> float:
        total = 0.0
        with torch.no_grad():
            for layer in layers:
                if flush is not None:
                    flush()
                t0 = time.perf_counter()
                layer(x, positions, cache, channel)
                total += time.perf_counter() - t0
        for k in cache.k:  # keep the context at 32 tokens
            cache.k[k], cache.v[k] = cache.k[k][:, :, :32], cache.v[k][:, :, :32]
        return total

    step()
    return statistics.median(step() for _ in range(repeats))


def _stack(d: int, n: int) -> ModelSpec:
    return ModelSpec(f"calibrate-{d}", n, d, max(1, d // 64), max(1, d // 64), int(d * 2.6875), 256)


def fit_bandwidth(repeats: int, flush: _Flush):
    """(bytes/s, s a layer) from cold decode times of layer stacks of several widths, and the points."""
    points = []
    for d, n in BANDWIDTH_STACKS:
        layers = _layers(_stack(d, n))
        t = _decode_time(layers, d, repeats, flush=flush) / n
        points.append((sum(p.numel() * p.element_size() for p in layers[0].parameters()), t))
    w, t = np.array(points).T
    slope, overhead = np.polyfit(w, t, 1, w=1 / t)  # least relative error: small and large layers alike
    return float(1 / slope), max(float(overhead), 0.0), points


def calibrate(tokens: int = 256, repeats: int = 5, threads: int | None = None) -> Calibration:
    """Measure this machine with the reference layers (float32), on `threads` torch threads."""
    if threads:
        torch.set_num_threads(threads)
    flush = _Flush()
    bw, layer_s, _ = fit_bandwidth(repeats, flush)
    tiny = _stack(64, 8)
    split = SplitModel(tiny, AdapterSpec(16, 16))
    plain = _decode_time(_layers(tiny), 64, repeats * 4, flush=flush)
    adapted = _decode_time(split.cloud_part.layers, 64, repeats * 4, _StubChannel(16), flush)
    cloud_call = max(adapted - plain, 0.0) / tiny.n_layers
    xa = {p: torch.randn(1, 1, 16) for p in "qkv"}
    with torch.no_grad():
        device_call = _typical_time(lambda: split.device_part(xa, layer=0), repeats * 4, flush)
    call_s = (cloud_call + device_call) / 2
    layers = _layers(FLOP_SHAPE)
    x = torch.randn(1, tokens, FLOP_SHAPE.d_model)
    flop = FLOP_SHAPE.n_layers * layer_work(FLOP_SHAPE, Step("prefill", 1, tokens), 32, 32).cloud_flop
    flop_s = flop / (_typical_time(lambda: _run_layers(layers, x), repeats, flush) - FLOP_SHAPE.n_layers * layer_s)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    mm = 2 * 1024**3 / _typical_time(lambda: a @ b, repeats * 4)
    n = torch.get_num_threads()
    detail = f"torch {torch.__version__}, {n} thread{'s' if n > 1 else ''}, float32, {platform.processor() or platform.machine()}"
    return Calibration(flop_s, bw, mm, layer_s, call_s, n, detail)


def profile_yaml(cal: Calibration, name: str, memory_bytes: float, date: str) -> str:
    """A hardware profile for this machine, every figure with its unit and how it was measured."""
    how = f"plmodel calibrate on {date} ({cal.detail})"
    return "\n".join([
        f"# This machine, measured by {how}.",
        f"name: {name}",
        "runtime: calibrated   # the figures below are achieved ones, host times measured: nothing is scaled",
        f"memory_bandwidth_gbyte_per_s: {cal.mem_bw_bytes_per_s / 1e9:.3f}   # decode through reference layer "
        f"stacks, d = {BANDWIDTH_STACKS[0][0]} to {BANDWIDTH_STACKS[-1][0]}: fit of time = overhead + bytes / bandwidth [M]",
        f"peak_tflop_per_s: {cal.flop_per_s / 1e12:.5f}   # prefill of reference layers (d={FLOP_SHAPE.d_model}): "
        f"counted FLOP / median time [M]; a bare 1024^3 matmul reached {cal.matmul_flop_per_s / 1e12:.5f} [M]",
        f"memory_gbyte: {memory_bytes / 1e9:.3f}   # physical memory reported by the OS [M]",
        f"layer_overhead_us: {cal.layer_overhead_s * 1e6:.1f}   # the same fit's intercept: fixed time a layer [M]",
        f"call_overhead_us: {cal.call_overhead_s * 1e6:.1f}   # a tiny adapter stage (r = 16, q,k,v): the cloud's "
        f"side and the device's M, averaged [M]",
        ""])


def physical_memory_bytes() -> float:
    import os

    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8e9


