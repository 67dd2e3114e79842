"""A machine running a runtime: the time of a piece of work, and of a whole decoder stack.

Time of work = the accelerator's time, max(FLOP / achieved FLOP/s, bytes / achieved bytes/s),
combined with the host's time (a fixed time a decoder layer and a launched call): the longer of the
two plus the part of the shorter that the runtime does not overlap. Pure; inputs may be arrays.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from plmodel.hardware import runtimes
from plmodel.hardware.feasibility import cloud_fit
from plmodel.hardware.runtimes import RuntimeSpec
from plmodel.specs import HardwareSpec
from plmodel.step import Step
from plmodel.workload import Work, ends_work, layer_work


@dataclass(frozen=True)
class Engine:
    """A hardware profile with the runtime that runs on it."""

    hw: HardwareSpec
    runtime: RuntimeSpec
    gpus: int = 1  # a tensor-parallel group: weights, KV cache and work split evenly, two all-reduces a layer

    def accel_s(self, flop, nbytes):
        """Accelerator time (s): bound by compute or memory at the runtime's achieved fractions."""
        rt = self.runtime
        return np.maximum(flop / (self.hw.peak_flop_per_s * rt.flop_efficiency),
                          nbytes / (self.hw.mem_bw_bytes_per_s * rt.bandwidth_efficiency))

    def host_s(self, layers=0, calls=0):
        """Host time (s) of `layers` decoder layers and `calls` launched calls (runtime + machine)."""
        rt, hw = self.runtime, self.hw
        return layers * (rt.layer_host_s + hw.layer_overhead_s) + calls * (rt.call_host_s + hw.call_overhead_s)

    def time_s(self, flop, nbytes, layers=0, calls=0):
        """Time (s) of work: the longer of accelerator and host time, plus the unoverlapped shorter."""
        a, h = self.accel_s(flop, nbytes), self.host_s(layers, calls)
        return np.maximum(a, h) + (1.0 - self.runtime.overlap) * np.minimum(a, h)

    def allreduce_s(self, nbytes):
        """Time (s) of a ring all-reduce of `nbytes` across the group: 2 (N-1)/N of it crosses each GPU's
        link, plus a fixed latency (0 for one GPU)."""
        n = self.gpus
        if n == 1:
            return 0.0 * nbytes
        return self.hw.allreduce_latency_s + 2 * (n - 1) / n * nbytes / self.hw.interconnect_bytes_per_s

    def layer_s(self, w: Work, hidden_bytes):
        """Time (s) of one decoder layer's cloud work split across the group, with its two all-reduces
        (after attention and after the MLP) of the step's hidden states (`hidden_bytes`)."""
        n = self.gpus
        return self.time_s(w.cloud_flop / n, w.cloud_bytes / n, layers=1) + 2 * self.allreduce_s(hidden_bytes)

    def cloud_s(self, w: Work, layers=0, calls=0):
        return self.time_s(w.cloud_flop, w.cloud_bytes, layers, calls)

    def device_s(self, w: Work, layers=0, calls=0):
        return self.time_s(w.device_flop, w.device_bytes, layers, calls)


def modelled_stack_s(engine: Engine, model, step: Step, bits: tuple, with_ends: bool):
    """Time (s) of the decoder stack (and embedding and LM head if `with_ends`) on `engine`;
    `bits` is (weight bits, activation bits)."""
    layer = layer_work(model, step, *bits)
    t = model.n_layers * engine.layer_s(layer, step.tokens * model.d_model * bits[1] / 8)
    if with_ends:
        ends = ends_work(model, step, *bits)
        t = t + engine.time_s(ends.device_flop / engine.gpus, ends.device_bytes / engine.gpus, calls=1)
    return t


def stack_s(engine: Engine, model, step: Step, bits: tuple, *, with_ends: bool) -> tuple:
    """(seconds, source) of the decoder stack on `engine`, `bits` = (weight bits, activation bits).

    A measured whole-model speed for this model, phase, precision and runtime takes precedence:
    decode at batch b costs the measured step time plus what the model adds from the measured batch
    to b; prefill costs T / measured tokens/s. As the paper does, a measured whole-model speed stands
    for the decoder stack alone when the stack is split off. Otherwise the source is the runtime's
    provenance (anchored or peak).
    """
    measured = engine.hw.measured_speed(model.key, step.phase, bits[0], engine.runtime.name)
    if measured is None:
        return modelled_stack_s(engine, model, step, bits, with_ends), engine.runtime.provenance
    if step.phase == "prefill":
        return step.tokens / measured.tokens_per_s, "measured"
    ref = Step("decode", measured.batch, step.context_tokens, measured.batch)
    extra = modelled_stack_s(engine, model, step, bits, with_ends) - modelled_stack_s(engine, model, ref, bits, with_ends)
    return measured.batch / measured.tokens_per_s + np.maximum(extra, 0.0), "measured"


def engines(scn) -> tuple:
    """(cloud engine, device engine) of a scenario: its hardware with the runtimes it runs, the cloud
    on as many GPUs as its memory needs (feasibility.cloud_fit). Memoised for hashable scenarios (a
    simulation asks once a token); a vectorised one (array ranks) is computed each time."""
    try:
        return _engines(scn)
    except TypeError:  # unhashable: numpy arrays in the adapter
        return _engines.__wrapped__(scn)


@functools.lru_cache(maxsize=256)
def _engines(scn) -> tuple:
    cloud_rt, device_rt = runtimes.resolve(scn)
    return Engine(scn.cloud, cloud_rt, cloud_fit(scn).gpus or 1), Engine(scn.device, device_rt)
