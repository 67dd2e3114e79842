"""A machine running a runtime: the time of a piece of work, and of a whole decoder stack.

Time of work = the accelerator's time, max(FLOP / achieved FLOP/s, bytes / achieved bytes/s) plus the
part of the shorter of the two that the runtime's kernels do not hide (near the roofline's ridge a GEMM
reaches neither peak: `roofline_overlap` 1 is the ideal roofline, 0 adds them), combined with the host's
time (a fixed time a decoder layer and a launched call): the longer of the two plus the part of the shorter
that the runtime does not overlap. Pure; inputs may be arrays.
"""

from __future__ import annotations

import functools

import numpy as np

from plmodel.frozen import frozen
from plmodel.hardware import resume, runtimes
from plmodel.hardware.feasibility import cloud_fit
from plmodel.hardware.runtimes import RuntimeSpec
from plmodel.specs import HardwareSpec
from plmodel.step import Step
from plmodel.workload import Work, ends_work, layer_work


@frozen
class Rates:
    """A machine's achieved rates and fixed times (SI units): the one law of how long work takes. Its methods
    take numpy arrays (the closed form) or, given the builtin max and min, plain floats (the fleet's hot loop)."""

    flop_per_s: float
    bytes_per_s: float
    layer_host_s: float
    call_host_s: float
    unoverlapped: float  # share of the shorter of accelerator and host time not hidden
    roofline_unhidden: float  # share of the shorter of compute and memory time not hidden
    gpus: int
    allreduce_fixed_s: float  # fixed time of an all-reduce (0 on one GPU)
    ring: float  # 2 (N - 1) / N: the share of an all-reduce's bytes that crosses each GPU's link
    interconnect_bytes_per_s: float  # inf on one GPU

    def accel_s(self, flop, nbytes, maximum=np.maximum, minimum=np.minimum):
        """Accelerator time (s): the longer of compute and memory time at the runtime's achieved fractions,
        plus the part of the shorter its kernels do not hide."""
        compute, memory = flop / self.flop_per_s, nbytes / self.bytes_per_s
        return maximum(compute, memory) + self.roofline_unhidden * minimum(compute, memory)

    def host_s(self, layers=0, calls=0):
        """Host time (s) of `layers` decoder layers and `calls` launched calls (runtime + machine)."""
        return layers * self.layer_host_s + calls * self.call_host_s

    def combine(self, accel, host, maximum=np.maximum, minimum=np.minimum):
        """Time (s) of work: the longer of accelerator and host time, plus the unoverlapped shorter."""
        return maximum(accel, host) + self.unoverlapped * minimum(accel, host)

    def allreduce_s(self, nbytes):
        """Time (s) of a ring all-reduce of `nbytes` across the group: 2 (N-1)/N of it crosses each GPU's
        link, plus a fixed latency (0 for one GPU)."""
        if self.gpus == 1:
            return 0.0 * nbytes
        return self.allreduce_fixed_s + self.ring * nbytes / self.interconnect_bytes_per_s


@frozen
class Engine:
    """A hardware profile with the runtime that runs on it."""

    hw: HardwareSpec
    runtime: RuntimeSpec
    gpus: int = 1  # a tensor-parallel group: weights, KV cache and work split evenly, two all-reduces a layer

    @functools.cached_property
    def rates(self) -> Rates:
        """The machine's achieved rates (the runtime's efficiencies of the peaks of the unit it runs on, and host
        times on this hardware)."""
        hw, rt, n = self.hw, self.runtime, self.gpus
        flop_per_s, bytes_per_s = hw.unit_peaks(rt.unit)
        return Rates(flop_per_s * rt.flop_efficiency, bytes_per_s * rt.bandwidth_efficiency,
                     rt.layer_host_s + hw.layer_overhead_s, rt.call_host_s + hw.call_overhead_s, 1.0 - rt.overlap,
                     1.0 - rt.roofline_overlap, n,
                     hw.allreduce_latency_s if n > 1 else 0.0, 2 * (n - 1) / n,
                     hw.interconnect_bytes_per_s if n > 1 else float("inf"))

    def accel_s(self, flop, nbytes):
        return self.rates.accel_s(flop, nbytes)

    def host_s(self, layers=0, calls=0):
        return self.rates.host_s(layers, calls)

    def time_s(self, flop, nbytes, layers=0, calls=0):
        """Time (s) of work on this machine (Rates: accelerator and host time, their overlap)."""
        r = self.rates
        return r.combine(r.accel_s(flop, nbytes), r.host_s(layers, calls))

    def allreduce_s(self, nbytes):
        return self.rates.allreduce_s(nbytes)

    def layer_s(self, w: Work, hidden_bytes):
        """Time (s) of one decoder layer's cloud work split across the group, with its two all-reduces
        (after attention and after the MLP) of the step's hidden states (`hidden_bytes`)."""
        n = self.gpus
        return self.time_s(w.cloud_flop / n, w.cloud_bytes / n, layers=1) + 2 * self.allreduce_s(hidden_bytes)

    def cloud_s(self, w: Work, layers=0, calls=0):
        return self.time_s(w.cloud_flop, w.cloud_bytes, layers, calls)

    def device_s(self, w: Work, layers=0, calls=0):
        return self.time_s(w.device_flop, w.device_bytes, layers, calls)

    def slowdown_after_wait(self, wait_s):
        """How much slower this machine runs work that follows a wait of `wait_s` for its peer (its profile's
        measured curve, resume.py; 1 without one)."""
        return resume.slowdown(self.hw, wait_s)

    def at_bits(self, bits) -> Engine:
        """This engine for weights of `bits` (the runtime's bandwidth efficiency for them, if it has its own)."""
        runtime = self.runtime.at_bits(bits)
        return self if runtime is self.runtime else Engine(self.hw, runtime, self.gpus)

    @property
    def batched_decode(self):
        """The measured slowdown of a batched decode step against one sequence (decode_rows.py), or None:
        the roofline's."""
        return self.hw.decode_rows


def modelled_stack_s(engine: Engine, model, step: Step, bits: tuple, with_ends: bool):
    """Time (s) of the decoder stack (and embedding and LM head if `with_ends`) on `engine`;
    `bits` is (weight bits, activation bits)."""
    engine = engine.at_bits(bits[0])
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
    provenance on this machine (anchored, extrapolated or peak: runtimes.on_machine).
    """
    measured = engine.hw.measured_speed(model.key, step.phase, bits[0], engine.runtime.name)
    if measured is None:
        return modelled_stack_s(engine, model, step, bits, with_ends), runtimes.on_machine(engine.hw, engine.runtime)[0]
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
