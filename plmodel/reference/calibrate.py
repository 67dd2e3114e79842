"""Time the reference layers on this machine: achieved FLOP/s on the matmuls and memory bandwidth.

- FLOP/s: a prefill of `tokens` tokens through reference decoder layers (compute bound); the FLOPs
  are the workload's count for those layers (which the torch reference matches exactly).
- Bandwidth: a decode step of one token through layers whose weights are far larger than the CPU
  caches (memory bound); the bytes are the weights read.
Each figure is the best of several repeats (the machine's capability, not its noise).
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass

import torch

from ..specs import ModelSpec
from ..workload import layer_work
from .model import DecoderLayer

FLOP_SHAPE = ModelSpec("calibrate-flops", 2, 1024, 8, 8, 2816, 256)
BANDWIDTH_SHAPE = ModelSpec("calibrate-bandwidth", 4, 2048, 16, 16, 5632, 256)


@dataclass(frozen=True)
class Calibration:
    flop_per_s: float
    mem_bw_bytes_per_s: float
    matmul_flop_per_s: float
    threads: int
    detail: str


def _best_time(fn, repeats: int) -> float:
    fn()  # warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _layers(spec: ModelSpec):
    torch.manual_seed(0)
    return [DecoderLayer(spec, i).eval() for i in range(spec.n_layers)]


def _run_layers(layers, x):
    positions = torch.arange(x.shape[1])
    with torch.no_grad():
        for layer in layers:
            x = layer(x, positions, None, None)
    return x


def calibrate(tokens: int = 256, repeats: int = 5) -> Calibration:
    """Measure this machine with the reference layers (float32)."""
    layers = _layers(FLOP_SHAPE)
    x = torch.randn(1, tokens, FLOP_SHAPE.d_model)
    flop = FLOP_SHAPE.n_layers * layer_work(FLOP_SHAPE, "prefill", 1, tokens, 32, 32).cloud_flop
    flop_s = flop / _best_time(lambda: _run_layers(layers, x), repeats)
    big = _layers(BANDWIDTH_SHAPE)
    x1 = torch.randn(1, 1, BANDWIDTH_SHAPE.d_model)
    weights = sum(p.numel() * p.element_size() for layer in big for p in layer.parameters())
    bw = weights / _best_time(lambda: _run_layers(big, x1), repeats)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    mm = 2 * 1024**3 / _best_time(lambda: a @ b, repeats * 4)
    detail = (f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, {platform.processor() or platform.machine()}")
    return Calibration(flop_s, bw, mm, torch.get_num_threads(), detail)


def profile_yaml(cal: Calibration, name: str, memory_bytes: float, date: str) -> str:
    """A hardware profile for this machine, every figure with its unit and how it was measured."""
    how = f"plmodel calibrate on {date} ({cal.detail})"
    return "\n".join([
        f"# This machine, measured by {how}.",
        f"name: {name}",
        f"memory_bandwidth_gbyte_per_s: {cal.mem_bw_bytes_per_s / 1e9:.3f}   # decode of {BANDWIDTH_SHAPE.n_layers} "
        f"reference layers (d={BANDWIDTH_SHAPE.d_model}): weights read / best time [M]",
        f"peak_tflop_per_s: {cal.flop_per_s / 1e12:.5f}   # prefill of reference layers (d={FLOP_SHAPE.d_model}): "
        f"counted FLOP / best time [M]; a bare 1024^3 matmul reached {cal.matmul_flop_per_s / 1e12:.5f} [M]",
        f"memory_gbyte: {memory_bytes / 1e9:.3f}   # physical memory reported by the OS [M]",
        ""])


def physical_memory_bytes() -> float:
    import os

    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8e9


