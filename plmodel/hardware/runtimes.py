"""The runtimes plmodel knows, and which one runs a scenario's cloud and device.

A runtime (specs.RuntimeSpec) turns a machine's peak figures into achieved ones. Each shipped runtime
is one entry in RUNTIMES with its sources and the published measurements (anchors) its figures were
fitted to; tests/test_runtimes.py checks every anchor within the runtime's stated tolerance.
A new runtime is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

from plmodel.errors import PlmodelError
from plmodel.specs import require_positive

#: Where a speed comes from: a measurement of this model on this hardware and runtime; a runtime's
#: efficiencies fitted to published measurements (anchored); or the datasheet's peak figures.
PROVENANCES = ("measured", "anchored", "peak")


@dataclass(frozen=True)
class RuntimeSpec:
    """The software that runs a model on a machine: what fraction of the hardware's peak memory
    bandwidth and FLOP/s its kernels achieve, the host (CPU) time it spends a decoder layer and a
    separately launched call, and how much of the shorter of host and accelerator time hides behind
    the longer (`overlap`: 0 when they add, 1 when launches are asynchronous and only the longer
    counts). `iteration_host_s` and `sequence_host_s`: what a serving engine's host spends on one
    iteration of continuous batching (scheduling, block tables, launching) and on each sequence in it
    (sampling, detokenising, streaming), not hidden behind the GPU (the fleet's cloud-only and split
    servers add them to an iteration). `anchors` are the published measurements the figures were fitted to."""

    name: str
    bandwidth_efficiency: float = 1.0
    flop_efficiency: float = 1.0
    layer_host_s: float = 0.0
    call_host_s: float = 0.0
    overlap: float = 0.0
    iteration_host_s: float = 0.0
    sequence_host_s: float = 0.0
    provenance: str = "peak"
    source: str = ""
    anchors: tuple = ()  # AnchorSpec
    tolerance: float = 0.0  # the largest relative error of the fit on its anchors

    def __post_init__(self):
        for key in ("bandwidth_efficiency", "flop_efficiency"):
            require_positive(key, getattr(self, key), maximum=1.0)
        require_positive("layer_host_s", self.layer_host_s, allow_zero=True, maximum=1.0)
        require_positive("call_host_s", self.call_host_s, allow_zero=True, maximum=1.0)
        require_positive("overlap", self.overlap, allow_zero=True, maximum=1.0)
        require_positive("iteration_host_s", self.iteration_host_s, allow_zero=True, maximum=1.0)
        require_positive("sequence_host_s", self.sequence_host_s, allow_zero=True, maximum=1.0)
        if self.provenance not in PROVENANCES:
            raise PlmodelError(f"must be one of {', '.join(PROVENANCES)}, got {self.provenance!r}", field="provenance")


@dataclass(frozen=True)
class AnchorSpec:
    """A published whole-model speed a runtime's figures were fitted to."""

    hardware: str
    model: str
    phase: str
    tokens_per_s: float
    weight_bits: int = 16
    batch: int = 1
    prompt_tokens: int = 128
    source: str = ""
    gpus: int = 1  # a tensor-parallel group
    tolerance: float | None = None  # None: the runtime's


#: The datasheet's peak: every byte at full memory bandwidth, every FLOP at peak, no host time.
PEAK = RuntimeSpec("peak", provenance="peak", source="hardware profile's peak figures")

#: A machine measured by `plmodel calibrate`: its profile's figures are already achieved ones and its
#: per-layer and per-call software times are in the profile, so nothing is scaled and host time adds.
CALIBRATED = RuntimeSpec("calibrated", provenance="measured", source="plmodel calibrate on this machine")

#: Tensor parallel on 2, 4 and 8 A100s (gpt-fast README, bf16, batch 1, 5-token prompt): they check the
#: all-reduce model (engine.Engine.allreduce_s) with the profile's interconnect and its 20 us latency
#: a collective, which is cruder than the kernels' fit: 7B on 8 GPUs comes out 23 % fast (host time,
#: not modelled at this speed, dominates), 70B on 2 GPUs 11 % slow; so a 25 % tolerance.
TENSOR_PARALLEL_ANCHORS = tuple(
    AnchorSpec("a100-80g-sxm", model, "decode", tps, 16, 1, 5, "gpt-fast README, tensor parallel", gpus, 0.25)
    for model, gpus, tps in (("llama-2-7b", 2, 168.84), ("llama-2-7b", 4, 254.02), ("llama-2-7b", 8, 328.43),
                             ("llama-2-70b", 2, 21.32), ("llama-2-70b", 4, 38.01), ("llama-2-70b", 8, 62.50)))

#: vLLM / TensorRT-LLM / gpt-fast class: CUDA graphs or compiled decode, launches asynchronous.
#: Bandwidth: gpt-fast 7B bf16 104.9 tok/s on an A100 80GB = 1,414 GB/s of 2,039 (0.69); lmdeploy
#: TurboMind 102.21 tok/s (0.68). FLOP/s: TensorRT-LLM 7B first token 133 ms at 2,048 tokens (0.72 of
#: 312 TFLOP/s), lmdeploy 139 ms (0.69); 0.685 fits all four within 4 %. Host time: a graph launch a segment (20 us, [U]); no layer
#: time (the graph replays the layers). Short prompts (128 tokens: 16-22 ms measured) come out
#: ~40 % fast: small GEMMs run below this efficiency; not modelled.
#: Serving host time an iteration and a sequence: 0, fitted [D]: against lmdeploy's and TensorRT-LLM's A100
#: serving benchmarks (paperdata/serving.py) the paged, prefill-first engine without it is 1-11 % fast on
#: three figures and 15-16 % slow on two (TensorRT-LLM's long sequences), so these C++ schedulers leave no
#: host time to fit (a Python scheduler, vLLM before v0.6, spends milliseconds an iteration: not shipped, [U]).
OPTIMIZED = RuntimeSpec(
    "optimized", bandwidth_efficiency=0.685, flop_efficiency=0.685, call_host_s=20e-6, overlap=1.0,
    iteration_host_s=0.0, sequence_host_s=0.0,
    provenance="anchored", tolerance=0.04,
    source="gpt-fast README, lmdeploy docs/en/benchmark/a100_fp16.md, TensorRT-LLM docs performance.md",
    anchors=(AnchorSpec("a100-80g-sxm", "llama-2-7b", "decode", 104.9, 16, 1, 5, "gpt-fast README (A100 80GB)"),
             AnchorSpec("a100-80g-sxm", "llama-2-7b", "decode", 102.21, 16, 1, 128, "lmdeploy a100_fp16.md"),
             AnchorSpec("a100-80g-sxm", "llama-2-7b", "prefill", 2048 / 0.133, 16, 1, 2048,
                        "TensorRT-LLM performance.md, first token 133 ms at 2048 tokens"),
             AnchorSpec("a100-80g-sxm", "llama-2-7b", "prefill", 2048 / 0.139, 16, 1, 2048,
                        "lmdeploy a100_fp16.md, first token 139 ms at 2048 tokens"))
    + TENSOR_PARALLEL_ANCHORS)

#: Hugging Face transformers, eager PyTorch, the paper's cloud: the same kernels as above
#: (bandwidth and FLOP fractions assumed equal, [U]) behind 0.73 ms of Python and launches a layer,
#: of which the GPU hides 66 % (fitted, with a 0.1 ms call [U], to the paper's A100 PCIe 37.1 / 27.8 /
#: 16.7 tok/s for 7B / 13B / 33B: the time a layer rises 0.34 ms per ms of GPU work, not 1 ms).
#: 7B and 13B within 0.5 %, 33B 6.3 % slow (its GPU time exceeds the host's, where the fit is weakest).
HF_EAGER = RuntimeSpec(
    "hf-eager", bandwidth_efficiency=0.685, flop_efficiency=0.70, layer_host_s=0.732e-3, call_host_s=0.1e-3,
    overlap=0.66, provenance="anchored", tolerance=0.07,
    source="PrivateLoRA paper (arXiv 2311.14030): A100 80G, Hugging Face transformers, batch 1, FP16",
    anchors=tuple(AnchorSpec("a100-80g-pcie", m, "decode", tps, 16, 1, 128, "PrivateLoRA paper")
                  for m, tps in (("llama-2-7b", 37.1), ("llama-2-13b", 27.8), ("llama-33b", 16.7))))

#: MLC LLM on a phone GPU: the paper's iPhone 13 Pro Max, LLaMA-2 7B at 4 bit (q4f16, 4.5 bits a
#: weight with its scales): 8.1 tok/s decode = 3.8 GB a token at 30.7 of 42.7 GB/s (0.72); 58 tok/s
#: prefill of 128 tokens = 0.76 TFLOP/s of the profile's 18.5 (0.041: the peak is the Neural Engine's, MLC runs on
#: the GPU). One device's anchors: other phones are extrapolated.
MLC_LLM = RuntimeSpec(
    "mlc-llm", bandwidth_efficiency=0.72, flop_efficiency=0.041, overlap=1.0, provenance="anchored",
    tolerance=0.03, source="PrivateLoRA paper's 7B figure, device-only dashed lines (MLC Chat)",
    anchors=(AnchorSpec("iphone-13-pro-max", "llama-2-7b", "decode", 8.1, 4, 1, 128, "PrivateLoRA paper, MLC Chat"),
             AnchorSpec("iphone-13-pro-max", "llama-2-7b", "prefill", 58.0, 4, 1, 128, "PrivateLoRA paper, MLC Chat")))

RUNTIMES = {r.name: r for r in (OPTIMIZED, HF_EAGER, MLC_LLM, PEAK, CALIBRATED)}
DEFAULT_CLOUD, DEFAULT_DEVICE = "optimized", "mlc-llm"


def runtime_choices() -> str:
    return ", ".join(RUNTIMES)


def lookup(name: str, field: str = "runtime") -> RuntimeSpec:
    """A shipped runtime by name; a one-line error naming the choices otherwise."""
    if name not in RUNTIMES:
        raise PlmodelError(f"unknown runtime {name!r}; expected one of {runtime_choices()}", field=field)
    return RUNTIMES[name]


def paper_cloud_runtime() -> RuntimeSpec:
    """The runtime of the paper's cloud measurements (its A100 decode speeds)."""
    return HF_EAGER


def resolve(scn) -> tuple:
    """(cloud runtime, device runtime) of a scenario: those it names, else the hardware profile's own
    (a calibrated machine names `calibrated`), else optimized on the cloud and mlc-llm on the device.
    The paper's accounting runs the paper's cloud runtime."""
    if scn.mode == "paper":
        cloud = paper_cloud_runtime()
    else:
        cloud = scn.cloud_runtime or lookup(scn.cloud.runtime or DEFAULT_CLOUD)
    return cloud, scn.device_runtime or lookup(scn.device.runtime or DEFAULT_DEVICE)
