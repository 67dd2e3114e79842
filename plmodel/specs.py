"""Typed, validated specifications: model shape, adapter, hardware, link and the scenario that joins them.

All numbers are SI (bytes, seconds, FLOP, bit/s). Every spec is a frozen dataclass whose fields are
checked when it is built, naming the field that is wrong; YAML and CLI parsing live elsewhere.
"""

from __future__ import annotations

import numpy as np

from plmodel.adapter_fit import check_adapter_fits
from plmodel.bounds import LIMITS, SIM_LIMITS, require_positive  # noqa: F401 (the specs' bounds, imported from here too)
from plmodel.design import check_designs, with_layer_split
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.layer_sets import LayerSplit

#: Projections that may carry an adapter, in the order they run inside a decoder layer.
PROJECTIONS = ("q", "k", "v", "o", "gate", "up", "down")
#: Projections that share an input and so one round trip: attention in, attention out, MLP in, MLP out.
STAGE_OF = {"q": 0, "k": 0, "v": 0, "o": 1, "gate": 2, "up": 2, "down": 3}
PHASES = ("prefill", "decode")
MODES = ("paper", "realistic")


@frozen
class ModelSpec:
    """Shape of a decoder: LLaMA-style (RMSNorm, rotary, GQA attention, SwiGLU MLP), or with a two-matrix
    GELU MLP (BLOOM; its LayerNorm and bias weights, under 0.1 % of the parameters, are not counted)."""

    name: str
    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    d_ffn: int
    vocab_size: int
    tie_embeddings: bool = False
    head_dim: int = 0  # 0: d_model // n_heads
    key: str | None = None  # the preset's name, which measured speeds refer to; None for a config.json
    max_context_tokens: int = 0  # max_position_embeddings; 0: not known
    mlp: str = "swiglu"  # swiglu (gate, up, down) or gelu (up, down: GPT and BLOOM style)

    def __post_init__(self):
        if self.mlp not in ("swiglu", "gelu"):
            raise PlmodelError(f"must be swiglu or gelu, got {self.mlp!r}", field="mlp")
        require_positive("n_layers", self.n_layers, integer=True, maximum=LIMITS["layers"])
        for key in ("d_model", "n_heads", "n_kv_heads", "d_ffn", "vocab_size"):
            require_positive(key, getattr(self, key), integer=True, maximum=LIMITS["width"])
        if self.n_heads % self.n_kv_heads:
            raise PlmodelError(f'({self.n_kv_heads}) must divide "n_heads" ({self.n_heads})', field="n_kv_heads")
        if self.head_dim == 0:
            if self.d_model % self.n_heads:
                raise PlmodelError(f'({self.n_heads}) must divide "d_model" ({self.d_model})', field="n_heads")
            object.__setattr__(self, "head_dim", self.d_model // self.n_heads)
        require_positive("head_dim", self.head_dim, integer=True, maximum=LIMITS["width"])
        require_positive("max_position_embeddings", self.max_context_tokens, integer=True, allow_zero=True,
                         maximum=LIMITS["tokens"])

    @property
    def q_dim(self) -> int:
        """Width of the query projection's output (n_heads x head_dim)."""
        return self.n_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of the key and value projections' outputs (n_kv_heads x head_dim)."""
        return self.n_kv_heads * self.head_dim


@frozen
class AdapterSpec:
    """PrivateLoRA adapter: dW = A M B with A (d_in x r_c2d), M (r_c2d x r_d2c), B (r_d2c x d_out).

    `layers` is None for every layer the cloud runs, or the indices of the layers that carry adapters. `split`:
    the decoder layers the device runs (LayerSplit; a design supplies it, see Scenario).
    Bits: `act_bits` per activation on the wire, `cloud_weight_bits` for the decoder stack and A, B,
    `device_weight_bits` for embedding, LM head and M.
    """

    r_c2d: int
    r_d2c: int
    targets: tuple = ("q", "k", "v")
    layers: tuple | None = None
    act_bits: int = 16
    cloud_weight_bits: int = 16
    device_weight_bits: int = 16
    split: LayerSplit = LayerSplit()  # the decoder layers the device runs (none: the paper's split)

    def __post_init__(self):
        require_positive("rank_c2d", self.r_c2d, integer=True, maximum=LIMITS["width"])
        if not isinstance(self.split, LayerSplit):
            raise PlmodelError(f"expected a LayerSplit, got {type(self.split).__name__}", field="split")
        require_positive("rank_d2c", self.r_d2c, integer=True, maximum=LIMITS["width"])
        for key in ("act_bits", "cloud_weight_bits", "device_weight_bits"):
            require_positive(key, getattr(self, key), integer=True)
            if getattr(self, key) > 64:
                raise PlmodelError(f"must be at most 64, got {getattr(self, key)}", field=key)
        unknown = [t for t in self.targets if t not in PROJECTIONS]
        if unknown:
            raise PlmodelError(f"unknown projection {unknown[0]!r}; expected any of " + ", ".join(PROJECTIONS),
                               field="targets")
        ordered = tuple(p for p in PROJECTIONS if p in self.targets)
        object.__setattr__(self, "targets", ordered)
        if self.layers is not None:
            if not self.layers:
                raise PlmodelError("must list at least one layer index", field="layers")
            for i in self.layers:
                require_positive("layers", i, integer=True, allow_zero=True, maximum=LIMITS["layers"])
            object.__setattr__(self, "layers", tuple(sorted(set(self.layers))))

    def adapted_layers(self, n_layers: int) -> tuple:
        """Indices of the layers that carry adapters in a model of `n_layers` layers: every layer the
        cloud runs unless `layers` says (none without targets: `--targets none`, a plain split client
        whose hidden state crosses only at the ends)."""
        if not self.targets:
            return ()
        return tuple(self.split.cloud_range(n_layers)) if self.layers is None else self.layers


@frozen
class MeasuredSpeed:
    """A measured tokens/s of a whole model on one machine (it takes precedence over the roofline)."""

    model: str
    phase: str
    tokens_per_s: float
    weight_bits: int = 16
    batch: int = 1
    source: str = ""
    runtime: str | None = None  # the runtime it was measured with; None: any

    def __post_init__(self):
        if self.phase not in PHASES:
            raise PlmodelError(f"must be prefill or decode, got {self.phase!r}", field="phase")
        require_positive("tokens_per_s", self.tokens_per_s, maximum=LIMITS["tokens_per_s"])
        require_positive("weight_bits", self.weight_bits, integer=True, maximum=64)
        require_positive("batch", self.batch, integer=True, maximum=LIMITS["batch"])


#: The compute units a device may declare (profiles' `compute_units:`); a runtime names the one it runs on.
COMPUTE_UNITS = ("gpu", "npu", "cpu")


@frozen
class ComputeUnit:
    """One compute unit of a device: its peak FLOP/s and, where it cannot draw the whole memory bandwidth (a
    phone's CPU cluster), the bytes/s it can; None: the profile's memory bandwidth."""

    name: str
    peak_flop_per_s: float
    mem_bw_bytes_per_s: float | None = None

    def __post_init__(self):
        if self.name not in COMPUTE_UNITS:
            raise PlmodelError(f"must be one of {', '.join(COMPUTE_UNITS)}, got {self.name!r}", field="compute_units")
        require_positive(f"compute_units.{self.name}.peak_tflop_per_s", self.peak_flop_per_s, maximum=LIMITS["flop_per_s"])
        if self.mem_bw_bytes_per_s is not None:
            require_positive(f"compute_units.{self.name}.memory_bandwidth", self.mem_bw_bytes_per_s, maximum=LIMITS["bytes"])


@frozen
class HardwareSpec:
    """A cloud accelerator or a personal device: roofline figures plus optional measured speeds."""

    name: str
    mem_bw_bytes_per_s: float
    peak_flop_per_s: float
    memory_bytes: float
    measured: tuple = ()
    usable_memory_bytes: float | None = None  # what one app may use (iOS caps it); None: all of it
    price_usd_per_hour: float | None = None
    power_w: float | None = None
    layer_overhead_s: float = 0.0  # fixed software time of one decoder layer a step (dispatch, launches)
    call_overhead_s: float = 0.0  # fixed software time of one small call (an adapter stage, the LM head)
    source: str = ""
    runtime: str | None = None  # the runtime this machine runs unless a scenario names one
    interconnect_bytes_per_s: float | None = None  # GPU to GPU, each way (NVLink, PCIe); None: single GPU only
    host_link_bytes_per_s: float | None = None  # GPU to host memory, each way (PCIe); None: not known (no swap)
    allreduce_latency_s: float = 0.0  # fixed time of one all-reduce across the GPUs of a tensor-parallel group
    power: object = None  # power.DevicePower of a personal device; None: not known
    resume: object = None  # resume.ResumeSpec: slowdown of work after a wait for the peer; None: none
    decode_rows: object = None  # decode_rows.DecodeRowsSpec: a CPU's batched decode against one; None: roofline
    compute_units: tuple = ()  # ComputeUnit; () for a profile that gives only its top-level peak

    def __post_init__(self):
        require_positive("layer_overhead", self.layer_overhead_s, allow_zero=True, maximum=1.0)
        require_positive("call_overhead", self.call_overhead_s, allow_zero=True, maximum=1.0)
        require_positive("memory_bandwidth", self.mem_bw_bytes_per_s, maximum=LIMITS["bytes"])
        require_positive("peak_flops", self.peak_flop_per_s, maximum=LIMITS["flop_per_s"])
        require_positive("memory", self.memory_bytes, maximum=LIMITS["bytes"])
        require_positive("allreduce_latency", self.allreduce_latency_s, allow_zero=True, maximum=1.0)
        for key in ("usable_memory_bytes", "price_usd_per_hour", "power_w", "interconnect_bytes_per_s",
                    "host_link_bytes_per_s"):
            if getattr(self, key) is not None:
                require_positive(key, getattr(self, key), maximum=LIMITS["bytes"])

    def unit_peaks(self, unit: str | None) -> tuple:
        """(peak FLOP/s, memory bytes/s) of the compute unit a runtime runs on. `unit` None (a cloud runtime, the
        datasheet peak) or a profile without compute units: the profile's own figures (assumed to be that unit's).
        A profile that declares its units but not this one cannot run the runtime: refused."""
        if unit is None or not self.compute_units:
            return self.peak_flop_per_s, self.mem_bw_bytes_per_s
        for u in self.compute_units:
            if u.name == unit:
                return u.peak_flop_per_s, u.mem_bw_bytes_per_s or self.mem_bw_bytes_per_s
        have = ", ".join(u.name for u in self.compute_units)
        raise PlmodelError(f"{self.name} has no {unit} in its compute_units ({have}): pick a runtime that runs on one "
                           "of those", field="runtime")

    def measured_speed(self, model: str | None, phase: str, weight_bits: int, runtime: str) -> MeasuredSpeed | None:
        """The measured figure for this model, phase, weight precision and runtime, if the profile has one."""
        for m in self.measured:
            if (m.model == model and m.phase == phase and m.weight_bits == weight_bits
                    and m.runtime in (None, runtime)):
                return m
        return None


def check_lognormal(key: str, distribution: str, median: float, p99: float, names: tuple, maximum: float) -> None:
    """A lognormal given by its median and 99th percentile: positive, bounded, p99 >= median."""
    if distribution != "lognormal":
        raise PlmodelError(f"must be lognormal, got {distribution!r}", field=f"{key}.distribution")
    require_positive(f"{key}.{names[0]}", median, maximum=maximum)
    require_positive(f"{key}.{names[1]}", p99, maximum=maximum)
    if p99 < median:
        raise PlmodelError(f'must be at least "{key}.{names[0]}"', field=f"{key}.{names[1]}")


@frozen
class JitterSpec:
    """Random extra one-way delay: lognormal with the given median and 99th percentile (seconds)."""

    distribution: str
    median_s: float
    p99_s: float

    def __post_init__(self):
        check_lognormal("jitter", self.distribution, self.median_s, self.p99_s, ("median_ms", "p99_ms"),
                        LIMITS["rtt_s"])


@frozen
class BandwidthJitterSpec:
    """Random slowdown of one message's serialisation: the nominal time times a lognormal factor
    with the given median and 99th percentile (dimensionless; 2 means half the bandwidth)."""

    distribution: str
    median_factor: float
    p99_factor: float

    def __post_init__(self):
        check_lognormal("bandwidth_jitter", self.distribution, self.median_factor, self.p99_factor,
                        ("median_factor", "p99_factor"), 1e6)


@frozen
class LinkSpec:
    """The network between device and cloud: bandwidth each way (bit/s) and round-trip time (s)."""

    name: str
    c2d_bps: float
    d2c_bps: float
    rtt_s: float = 0.0
    jitter: JitterSpec | None = None
    bandwidth_jitter: BandwidthJitterSpec | None = None
    frame_bytes: float = 0.0  # framing overhead a message (headers the transport adds), bytes
    message_s: float = 0.0  # software time to send and receive one message, seconds
    source: str = ""
    radio: object = None  # power.RadioSpec of the device's end; None: a wired link (no radio energy)

    def __post_init__(self):
        require_positive("framing_bytes_per_message", self.frame_bytes, allow_zero=True, maximum=1e6)
        require_positive("per_message_overhead", self.message_s, allow_zero=True, maximum=1.0)
        require_positive("c2d_bandwidth", self.c2d_bps, maximum=LIMITS["bandwidth_bps"])
        require_positive("d2c_bandwidth", self.d2c_bps, maximum=LIMITS["bandwidth_bps"])
        require_positive("rtt", self.rtt_s, allow_zero=True, maximum=LIMITS["rtt_s"])


@frozen
class Scenario:
    """One configuration to estimate: who runs what, over which link, on how much work. Prefill processes
    `batch` sequences of `prompt_tokens` tokens; decode a token for each, at a context of `prompt_tokens`."""

    model: ModelSpec
    adapter: AdapterSpec
    cloud: HardwareSpec
    device: HardwareSpec
    link: LinkSpec
    batch: int = 1
    prompt_tokens: int = 128
    mode: str = "realistic"
    cloud_runtime: object = None  # runtimes.RuntimeSpec; None: the default (see plmodel.hardware.runtimes.resolve)
    device_runtime: object = None
    designs: tuple = ()  # design.Design instances beyond the paper's split (designs/): one of each kind

    def __post_init__(self):
        require_positive("batch", self.batch, integer=True, maximum=LIMITS["batch"])
        require_positive("prompt_tokens", self.prompt_tokens, integer=True, maximum=LIMITS["tokens"])
        if self.mode not in MODES:
            raise PlmodelError(f"must be paper or realistic, got {self.mode!r}", field="mode")
        if self.mode == "paper" and self.cloud_runtime is not None:
            raise PlmodelError("the paper's accounting runs the paper's measured cloud (hf-eager); name a cloud "
                               "runtime in realistic mode only", field="cloud_runtime")
        check_adapter_fits(self.model, self.adapter)
        object.__setattr__(self, "designs", tuple(self.designs))
        object.__setattr__(self, "adapter", with_layer_split(self.adapter, self.designs))
        check_designs(self)
        limit = self.model.max_context_tokens
        if limit and np.max(self.prompt_tokens) > limit and self.mode != "paper":
            raise PlmodelError(f"{np.max(self.prompt_tokens)} tokens exceed {self.model.name}'s context of {limit} "
                               "(max_position_embeddings); the paper's accounting alone takes longer mini-batches, as "
                               "its prefill figure does", field="prompt_tokens")
