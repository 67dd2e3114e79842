"""Time the reference layers on this machine: achieved FLOP/s, memory bandwidth and fixed costs.

- Bandwidth and the fixed time a layer: decode steps of one token through stacks of reference
  layers of several widths (d = 64 to 1024), each stack at least twice the last-level cache, so that
  every step streams the weights from memory as a real model's do; a least-relative-squares fit of
  time a layer = overhead + weight bytes / bandwidth.
- FLOP/s: a prefill of `tokens` tokens through reference layers (compute bound), the fitted
  overhead taken off; the FLOPs are the workload's count (which the torch reference matches).
- The time of a small call: the cloud's side of a tiny adapter stage (x A, B and the adds, the
  device's answer stubbed) and the device part applying a tiny M, averaged over the two sides.
- Decode steps run with a KV cache of 32 tokens, as a real decode does.
- Two curves where a CPU leaves the roofline: a decode step of 2-8 sequences against one
  (decode_rows.py), and a layer right after a round trip to another process (resume_probe.py).
Each time is the median of several steady-state repeats. (An earlier version wrote a buffer larger
than the cache before each layer to start it cold; the write-backs that buffer left behind slowed the
timed layer by a varying amount, and calibrations minutes apart differed by 40 % in the fixed time a
layer and 2.6x in a small call's.)
"""

from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from plmodel.frozen import frozen
from plmodel.reference.model import KVCache
from plmodel.reference.resume_probe import measure
from plmodel.reference.split import SplitModel
from plmodel.reference.stacks import StubChannel, keep_context, layers_of, run_layers, stack_over_cache, stack_spec  # noqa: F401
from plmodel.specs import AdapterSpec, ModelSpec
from plmodel.step import Step
from plmodel.workload import layer_work

FLOP_SHAPE = ModelSpec("calibrate-flops", 2, 1024, 8, 8, 2816, 256)
#: The widths of the bandwidth fit: those a model this CPU runs in seconds has.
BANDWIDTH_WIDTHS = (64, 256, 512, 1024)


@frozen
class Calibration:
    flop_per_s: float
    mem_bw_bytes_per_s: float
    matmul_flop_per_s: float
    layer_overhead_s: float
    call_overhead_s: float
    threads: int
    detail: str
    resume: tuple | None = None  # ((wait s, slowdown), ...) of a layer after a round trip; None: not measured
    resume_note: str = ""  # why not
    batch: tuple = ()  # ((sequences, slowdown), ...) of a batched decode step against one sequence's


def last_level_cache_bytes() -> int:
    """The largest CPU cache this machine reports (bytes); 32 MiB where it reports none."""
    sizes = []
    for f in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = f.read_text().strip().upper()
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
        try:
            sizes.append(int(text.rstrip("KMG")) * scale)
        except ValueError:
            continue
    return max(sizes, default=32 * 2**20)


def _typical_time(fn, repeats: int) -> float:
    """Median time of `fn` over `repeats` runs after a warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _decode_time(layers, d: int, repeats: int, channel=None, batch: int = 1) -> float:
    """Median time of one decode step of `batch` sequences through `layers` (32 tokens in each one's KV
    cache), steady state."""
    cache = KVCache()
    run_layers(layers, torch.randn(batch, 32, d), cache, channel)
    x = torch.randn(batch, 1, d)

    def step() -> None:
        run_layers(layers, x, cache, channel)
        keep_context(cache)

    return _typical_time(step, repeats)


def fit_bandwidth(repeats: int, cache_bytes: int):
    """(bytes/s, s a layer) from steady decode times of layer stacks of several widths, each at least
    twice `cache_bytes`, so that a step reads every weight from memory; and the (bytes, s) points."""
    points = []
    for d in BANDWIDTH_WIDTHS:
        layers = stack_over_cache(d, cache_bytes)
        t = _decode_time(layers, d, repeats) / len(layers)
        points.append((sum(p.numel() * p.element_size() for p in layers[0].parameters()), t))
    w, t = np.array(points).T
    slope, overhead = np.polyfit(w, t, 1, w=1 / t)  # least relative error: small and large layers alike
    return float(1 / slope), max(float(overhead), 0.0), points


#: Batch sizes of the batched-decode curve (decode_rows.py).
BATCH_SEQUENCES = (1, 2, 3, 4, 8)


def batch_curve(repeats: int, cache_bytes: int) -> tuple:
    """((sequences, slowdown), ...): a decode step of the d = 512 stack (twice the cache) for b sequences
    against one sequence's, timed just before and just after it (steady medians), so drift cancels."""
    layers = stack_over_cache(512, cache_bytes)
    out, one = [(1, 1.0)], _decode_time(layers, 512, 4 * repeats)  # the first pass is slower: discarded
    for b in BATCH_SEQUENCES[1:]:
        before = _decode_time(layers, 512, 4 * repeats)
        t = _decode_time(layers, 512, 4 * repeats, batch=b)
        one = _decode_time(layers, 512, 4 * repeats)
        out.append((b, 2 * t / (before + one)))
    return tuple(out)


#: The stages of a calibration with their shares of its time (measured here: the progress line's estimate).
STAGES = (("memory bandwidth", 0.35), ("fixed costs", 0.1), ("FLOP/s", 0.1), ("compute after a wait", 0.3),
          ("batched decode", 0.15))


def calibrate(tokens: int = 256, repeats: int = 5, threads: int | None = None, progress=None) -> Calibration:
    """Measure this machine with the reference layers (float32), on `threads` torch threads; `progress(i)` is
    called as stage i of STAGES starts."""
    tell = progress or (lambda i: None)
    if threads:
        torch.set_num_threads(threads)
    cache_bytes = last_level_cache_bytes()
    tell(0)
    bw, layer_s, _ = fit_bandwidth(repeats, cache_bytes)
    tell(1)
    tiny = stack_spec(64, 8)
    split = SplitModel(tiny, AdapterSpec(16, 16))
    plain = _decode_time(layers_of(tiny), 64, repeats * 4)
    adapted = _decode_time(split.cloud_part.layers, 64, repeats * 4, StubChannel(16))
    cloud_call = max(adapted - plain, 0.0) / tiny.n_layers
    xa = {p: torch.randn(1, 1, 16) for p in "qkv"}
    with torch.no_grad():
        device_call = _typical_time(lambda: split.device_part(xa, layer=0), repeats * 4)
    call_s = (cloud_call + device_call) / 2
    tell(2)
    layers = layers_of(FLOP_SHAPE)
    x = torch.randn(1, tokens, FLOP_SHAPE.d_model)
    flop = FLOP_SHAPE.n_layers * layer_work(FLOP_SHAPE, Step("prefill", 1, tokens), 32, 32).cloud_flop
    flop_s = flop / (_typical_time(lambda: run_layers(layers, x), repeats) - FLOP_SHAPE.n_layers * layer_s)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    mm = 2 * 1024**3 / _typical_time(lambda: a @ b, repeats * 4)
    n = torch.get_num_threads()
    detail = f"torch {torch.__version__}, {n} thread{'s' if n > 1 else ''}, float32, {platform.processor() or platform.machine()}"
    tell(3)
    resume = measure(cache_bytes, repeats)
    tell(4)
    return Calibration(flop_s, bw, mm, layer_s, call_s, n, detail, *resume, batch_curve(repeats, cache_bytes))


def profile_yaml(cal: Calibration, name: str, memory_bytes: float, date: str) -> str:
    """A hardware profile for this machine, every figure with its unit and how it was measured."""
    how = f"plmodel calibrate on {date} ({cal.detail})"
    return "\n".join([
        f"# This machine, measured by {how}.",
        f"name: {name}",
        "runtime: calibrated   # the figures below are achieved ones, host times measured: nothing is scaled",
        f"memory_bandwidth_gbyte_per_s: {cal.mem_bw_bytes_per_s / 1e9:.3f}   # decode through reference layer "
        f"stacks, d = {BANDWIDTH_WIDTHS[0]} to {BANDWIDTH_WIDTHS[-1]}, each twice the last-level cache: fit of time = "
        "overhead + bytes / bandwidth [M]",
        f"peak_tflop_per_s: {cal.flop_per_s / 1e12:.5f}   # prefill of reference layers (d={FLOP_SHAPE.d_model}): "
        f"counted FLOP / median time [M]; a bare 1024^3 matmul reached {cal.matmul_flop_per_s / 1e12:.5f} [M]",
        f"memory_gbyte: {memory_bytes / 1e9:.3f}   # physical memory reported by the OS [M]",
        f"layer_overhead_us: {cal.layer_overhead_s * 1e6:.1f}   # the same fit's intercept: fixed time a layer [M]",
        f"call_overhead_us: {cal.call_overhead_s * 1e6:.1f}   # a tiny adapter stage (r = 16, q,k,v): the cloud's "
        f"side and the device's M, averaged [M]",
        *resume_yaml(cal.resume, cal.resume_note),
        *batch_yaml(cal.batch),
        ""])


def batch_yaml(curve) -> list:
    """The profile's decode_batch_slowdown block (decode_rows.py)."""
    if not curve:
        return []
    return ["decode_batch_slowdown:   # a decode step of the d = 512 stack for that many sequences, over one "
            "sequence's, steady [M]",
            f"  sequences: [{', '.join(str(b) for b, _ in curve)}]",
            f"  slowdown: [{', '.join(f'{f:.3f}' for _, f in curve)}]"]


def resume_yaml(resume, why_not: str = "") -> list:
    """The profile's resume_after_wait block (resume.py), or a comment saying why there is none."""
    if resume is None:
        return [f"# resume_after_wait: not measured ({why_not or 'no curve'})"]
    return ["resume_after_wait:   # a d = 512 decode layer right after a round trip to a process on another core "
            "that held its answer wait_ms, over the same layers back to back [M]",
            f"  wait_ms: [{', '.join(f'{w * 1e3:g}' for w, _ in resume)}]",
            f"  slowdown: [{', '.join(f'{f:.3f}' for _, f in resume)}]"]


def physical_memory_bytes() -> float:
    import os

    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8e9


