"""The runtimes plmodel knows, and which one runs a scenario's cloud and device.

A runtime (specs.RuntimeSpec) turns a machine's peak figures into achieved ones. Each shipped runtime
is one entry in RUNTIMES with its sources and the published measurements (anchors) its figures were
fitted to; tests/test_runtimes.py checks every anchor within the runtime's stated tolerance.
A new runtime is one entry here.
"""

from __future__ import annotations

from dataclasses import replace

from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.specs import COMPUTE_UNITS, require_positive

#: Where a speed comes from: a measurement of this model on this hardware and runtime; a runtime's
#: efficiencies fitted to published measurements (anchored); or the datasheet's peak figures. A runtime
#: anchored on other machines than the one it runs on is `extrapolated` there (on_machine).
PROVENANCES = ("measured", "anchored", "peak")


@frozen
class RuntimeSpec:
    """The software that runs a model on a machine: what fraction of the hardware's peak memory
    bandwidth and FLOP/s its kernels achieve, the host (CPU) time it spends a decoder layer and a
    separately launched call, and how much of the shorter of host and accelerator time hides behind
    the longer (`overlap`: 0 when they add, 1 when launches are asynchronous and only the longer
    counts). `roofline_overlap`: how much of the shorter of compute and memory time its kernels hide behind the
    longer (1: the ideal roofline, the longer alone; 0: they add; a GEMM near the ridge reaches neither peak).
    `iteration_host_s` and `sequence_host_s`: what a serving engine's host spends on one
    iteration of continuous batching (scheduling, block tables, launching) and on each sequence in it
    (sampling, detokenising, streaming), not hidden behind the GPU (the fleet's cloud-only and split
    servers add them to an iteration). `anchors` are the published measurements the figures were fitted to.
    A device runtime names the compute `unit` it runs on (gpu, npu, cpu: its efficiencies are of that unit's
    peak); None: the profile's top-level peak (a cloud accelerator). `bits_bandwidth_efficiency` ((bits,
    efficiency), ...) replaces the bandwidth efficiency for weights of those bits (a 3-bit kernel that
    dequantises more slowly)."""

    name: str
    bandwidth_efficiency: float = 1.0
    flop_efficiency: float = 1.0
    layer_host_s: float = 0.0
    call_host_s: float = 0.0
    overlap: float = 0.0
    roofline_overlap: float = 1.0
    iteration_host_s: float = 0.0
    sequence_host_s: float = 0.0
    provenance: str = "peak"
    source: str = ""
    anchors: tuple = ()  # AnchorSpec
    tolerance: float = 0.0  # the largest relative error of the fit on its anchors
    unit: str | None = None  # the compute unit it runs on (specs.COMPUTE_UNITS); None: the profile's peak
    bits_bandwidth_efficiency: tuple = ()  # ((weight bits, bandwidth efficiency), ...)

    def __post_init__(self):
        for key in ("bandwidth_efficiency", "flop_efficiency"):
            require_positive(key, getattr(self, key), maximum=1.0)
        for _, eff in self.bits_bandwidth_efficiency:
            require_positive("bits_bandwidth_efficiency", eff, maximum=1.0)
        if self.unit is not None and self.unit not in COMPUTE_UNITS:
            raise PlmodelError(f"must be one of {', '.join(COMPUTE_UNITS)}, got {self.unit!r}", field="unit")
        require_positive("layer_host_s", self.layer_host_s, allow_zero=True, maximum=1.0)
        require_positive("call_host_s", self.call_host_s, allow_zero=True, maximum=1.0)
        require_positive("overlap", self.overlap, allow_zero=True, maximum=1.0)
        require_positive("roofline_overlap", self.roofline_overlap, allow_zero=True, maximum=1.0)
        require_positive("iteration_host_s", self.iteration_host_s, allow_zero=True, maximum=1.0)
        require_positive("sequence_host_s", self.sequence_host_s, allow_zero=True, maximum=1.0)
        if self.provenance not in PROVENANCES:
            raise PlmodelError(f"must be one of {', '.join(PROVENANCES)}, got {self.provenance!r}", field="provenance")

    def at_bits(self, bits) -> RuntimeSpec:
        """This runtime for weights of `bits` (its bandwidth efficiency for those bits, if it has one)."""
        eff = dict(self.bits_bandwidth_efficiency).get(int(bits)) if self.bits_bandwidth_efficiency else None
        return self if eff is None else replace(self, bandwidth_efficiency=eff, bits_bandwidth_efficiency=())


@frozen
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
#: time (the graph replays the layers). Roofline overlap 0.5, fitted [D] to lmdeploy's ShareGPT request
#: throughput (paperdata/serving.py: 7B, 13B, 70B TP4 at 0.94, 0.87, 1.14 of it; the ideal roofline, overlap 1,
#: gave 1.07, 1.01, 1.40): at batch the step's GEMMs sit near the ridge, where they reach neither peak. It costs
#: the 2,048-token first tokens 3-7 % (slow), so those two anchors hold at 8 %. Short prompts (128 tokens:
#: 16-22 ms measured) still come out ~30 % fast: small GEMMs run below this efficiency; not modelled.
#: Serving host time an iteration and a sequence: 0, fitted [D]: against lmdeploy's and TensorRT-LLM's A100
#: serving benchmarks (paperdata/serving.py) the paged, prefill-first engine without it is 1-11 % fast on
#: three figures and 15-16 % slow on two (TensorRT-LLM's long sequences), so these C++ schedulers leave no
#: host time to fit (a Python scheduler, vLLM before v0.6, spends milliseconds an iteration: not shipped, [U]).
OPTIMIZED = RuntimeSpec(
    "optimized", bandwidth_efficiency=0.685, flop_efficiency=0.685, call_host_s=20e-6, overlap=1.0, roofline_overlap=0.5,
    iteration_host_s=0.0, sequence_host_s=0.0,
    provenance="anchored", tolerance=0.04,
    source="gpt-fast README, lmdeploy docs/en/benchmark/a100_fp16.md, TensorRT-LLM docs performance.md",
    anchors=(AnchorSpec("a100-80g-sxm", "llama-2-7b", "decode", 104.9, 16, 1, 5, "gpt-fast README (A100 80GB)"),
             AnchorSpec("a100-80g-sxm", "llama-2-7b", "decode", 102.21, 16, 1, 128, "lmdeploy a100_fp16.md"),
             AnchorSpec("a100-80g-sxm", "llama-2-7b", "prefill", 2048 / 0.133, 16, 1, 2048,
                        "TensorRT-LLM performance.md, first token 133 ms at 2048 tokens", tolerance=0.08),
             AnchorSpec("a100-80g-sxm", "llama-2-7b", "prefill", 2048 / 0.139, 16, 1, 2048,
                        "lmdeploy a100_fp16.md, first token 139 ms at 2048 tokens", tolerance=0.08))
    + TENSOR_PARALLEL_ANCHORS)

#: TensorRT-LLM (v0.5-v0.6.1, FP16, in-flight batching or static batches), the same class as `optimized` with
#: kernels that draw more of the A100: FLOP/s fitted [D] to its 7B first token, 133 ms at 2,048 tokens (0.73 of
#: 312 TFLOP/s with `optimized`'s roofline overlap, 0.5, taken as is); bandwidth fitted [D] to its static
#: batch of 60 at 128 + 2,048 tokens (1,928 tok/s: decode reading ~50 GB of weights and KV a step, 0.86 of
#: 2,039 GB/s). Checked, not fitted (paperdata/serving.py): batch 384 at 128 + 128 (7 % fast) and 52 at
#: 2,048 + 128 (7 % slow). A 128-token first token comes out 11.6 ms against 16 measured (small GEMMs run
#: below these efficiencies; not modelled). Not anchored at batch 1: NeMo's TensorRT-LLM 7B end to end (234 ms
#: for 128 + 20 tokens, A100 SXM) implies ~0.6 of the bandwidth there, so a one-user decode from this runtime may be ~30 % fast [U].
TENSORRT_LLM = RuntimeSpec(
    "tensorrt-llm", bandwidth_efficiency=0.86, flop_efficiency=0.73, call_host_s=20e-6, overlap=1.0,
    roofline_overlap=0.5, provenance="anchored", tolerance=0.04,
    source="NVIDIA/TensorRT-LLM docs/source/performance.md (v0.5 first token, v0.6.1 peak throughput, A100 FP16)",
    anchors=(AnchorSpec("a100-80g-sxm", "llama-2-7b", "prefill", 2048 / 0.133, 16, 1, 2048,
                        "TensorRT-LLM performance.md, first token 133 ms at 2048 tokens"),))

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

#: Device runtimes, one a class of device, each on the compute unit it runs on (the profile's `compute_units`).
#: The GPU, NPU and CPU peaks are [D] or [U] (see the profiles), so each efficiency below is of a peak that may
#: itself be 20-50 % off; the anchors hold the product (achieved speed), not the split between the two.

#: MLC LLM on a phone GPU (Metal / OpenCL), fitted to the paper's iPhone 13 Pro Max, LLaMA-2 7B at 4 bit (q4f16,
#: 4.5 bits a weight with its scales): 8.1 tok/s decode = 3.8 GB a token at 30.7 of 42.7 GB/s (0.72); 58 tok/s
#: prefill of 128 tokens = 0.76 TFLOP/s of the A15 GPU's 1.71 (0.44; the same 0.76 TFLOP/s the earlier fit took
#: as 0.041 of the profile's Neural Engine peak, so the paper's figures do not move). Its 3-bit kernels
#: (q3f16) dequantise more slowly: 0.45 of the bandwidth fits three devices' 3-bit decodes within 14 %. The 4-bit
#: efficiency rests on one phone and could be 0.5-0.8 on others [U]: a Xiaomi 14 (Snapdragon 8 Gen 3, OpenCL)
#: decoding q4f16_1 at 10 tok/s (mlc-llm #1359) is 0.49 of its 76.8 GB/s. The iPhone 15 Pro's prefill comes out 31 %
#: fast (its GPU peak is [D]). Not anchored: the M2's MLC prefill of May 2023 (31.7 tok/s, 3.7x below this fit).
MLC_LLM = RuntimeSpec(
    "mlc-llm", bandwidth_efficiency=0.72, flop_efficiency=0.7585 / 1.71, overlap=1.0, provenance="anchored",
    tolerance=0.03, unit="gpu", bits_bandwidth_efficiency=((3, 0.45),),
    source="PrivateLoRA paper's 7B figure (MLC Chat); mlc-ai/mlc-llm issues #15 and #1359",
    anchors=(AnchorSpec("iphone-13-pro-max", "llama-2-7b", "decode", 8.1, 4, 1, 128, "PrivateLoRA paper, MLC Chat"),
             AnchorSpec("iphone-13-pro-max", "llama-2-7b", "prefill", 58.0, 4, 1, 128, "PrivateLoRA paper, MLC Chat"),
             AnchorSpec("iphone-13-pro-max", "llama-2-7b", "decode", 5.7, 3, 1, 128,
                        "PrivateLoRA paper's text, MLC Chat (read as q3f16 [U])", tolerance=0.2),
             AnchorSpec("iphone-15-pro", "llama-2-7b", "decode", 9.0, 3, 1, 128,
                        "mlc-llm issue #1359: CodeLlama-7B q3f16_1 (LLaMA-2-7B shapes)", tolerance=0.2),
             AnchorSpec("iphone-15-pro", "llama-2-7b", "prefill", 56.0, 3, 1, 128,
                        "mlc-llm issue #1359: CodeLlama-7B q3f16_1, prompt length not stated", tolerance=0.35),
             AnchorSpec("apple-m2", "llama-2-7b", "decode", 15.0, 3, 1, 128,
                        "mlc-llm issue #15: Vicuna-7B q3f16 on a MacBook Air M2", tolerance=0.2)))

#: Qualcomm QNN / Genie on a Snapdragon NPU (Hexagon), w4a16: fitted to Qualcomm AI Hub's Llama-v2-7B-Chat on a
#: Galaxy S24 (Snapdragon 8 Gen 3): 12.85 tok/s decode at 1,024 tokens of context (0.71 of 76.8 GB/s; the bandwidth
#: is [D], so 0.6-0.8) and a
#: 1,024-token prompt in 1,495.83 ms (685 tok/s: 0.21 of the NPU's 45 TOPS, a third-party INT8 figure read as
#: FLOP/s [U], so this efficiency could move 2x with the peak). Vendor tool speeds; apps run up to ~3x slower
#: (qualcomm/ai-hub-apps #60, #150). One device.
QNN_GENIE = RuntimeSpec(
    "qnn-genie", bandwidth_efficiency=0.71, flop_efficiency=0.21, overlap=1.0, provenance="anchored",
    tolerance=0.03, unit="npu", source="quic/ai-hub-models perf.yaml, Llama-v2-7B-Chat w4a16, QNN",
    anchors=(AnchorSpec("snapdragon-8-gen3", "llama-2-7b", "decode", 12.85, 4, 1, 1024,
                        "quic/ai-hub-models perf.yaml (Galaxy S24, token generator)"),
             AnchorSpec("snapdragon-8-gen3", "llama-2-7b", "prefill", 1024 / 1.49583, 4, 1, 1024,
                        "quic/ai-hub-models perf.yaml (Galaxy S24, TTFT 1,495.83 ms at 1,024 tokens)")))

#: llama.cpp on a CPU (NEON, 4 threads), fitted to the Raspberry Pi 5, whose profile's bandwidth (11.4 GB/s) is
#: the CPU's own sustained figure: TinyLlama-1.1B Q8_0 decode 9 tok/s (1.17 GB a token: 0.87 of it with the
#: KV and LM head) and LLaMA-2-7B Q4_0 prefill 8.1 tok/s of 109 tokens with llamafile's sgemm (0.69 of 4 x 2.4 GHz
#: x 16 FP32 FLOP/cycle). Could move: bandwidth 0.75-1.0 (the Pi's ceiling is ~17 GB/s), FLOP 0.45-0.75 (the
#: same page's TinyLlama prefill, 35 tok/s on the older kernels, comes out 1.5x fast: not an anchor). On a
#: phone CPU the profile's bandwidth is the DRAM's, not what the CPU cluster draws, so this runtime is far off
#: there (Snapdragon 8 Gen 3: 6.3 tok/s measured, 2.8x below it): such profiles carry measured entries or
#: a unit bandwidth.
LLAMA_CPP = RuntimeSpec(
    "llama-cpp", bandwidth_efficiency=0.87, flop_efficiency=0.69, overlap=1.0, provenance="anchored",
    tolerance=0.03, unit="cpu", source="llama.cpp PR #6928 (Pi 5 prefill); justine.lol/matmul (Pi 5 TinyLlama)",
    anchors=(AnchorSpec("raspberry-pi-5", "llama-2-7b", "prefill", 8.1, 4, 1, 109,
                        "llama.cpp PR #6928: Pi 5 8GB, Llama 2 7B Q4_0, llamafile sgemm"),
             AnchorSpec("raspberry-pi-5", "tinyllama-1.1b", "decode", 9.0, 8, 1, 128,
                        "justine.lol/matmul: Pi 5, TinyLlama 1.1B Q8_0, llama.cpp 2024-03-26 [S, via a mirror]")))

#: llama.cpp with every layer on an integrated GPU (Metal on Apple silicon; CUDA on a Jetson), fitted to
#: XiongjieDai/GPU-Benchmarks-on-LLM-Inference's M3 10-core GPU: LLaMA-2-7B Q4_0 20.79 tok/s decode (0.83 of
#: 100 GB/s with 512 tokens of KV) and 184.51 tok/s prompt (pp512: 0.69 of the GPU's 3.53 TFLOP/s, a [D] peak).
#: Could move: bandwidth 0.7-0.85 across base Apple chips (the same page's M1 Max, 48.65 tok/s, is 0.47 of its
#: 400 GB/s: wider chips draw less of theirs), FLOP +-30 % with the peak. Apple silicon only: a Jetson with it
#: is extrapolated.
LLAMA_CPP_GPU = RuntimeSpec(
    "llama-cpp-gpu", bandwidth_efficiency=0.83, flop_efficiency=0.69, overlap=1.0, provenance="anchored",
    tolerance=0.03, unit="gpu", source="XiongjieDai/GPU-Benchmarks-on-LLM-Inference README (llama.cpp, Dec 2023)",
    anchors=(AnchorSpec("apple-m3", "llama-2-7b", "decode", 20.79, 4, 1, 512, "XiongjieDai README, M3 10-core GPU"),
             AnchorSpec("apple-m3", "llama-2-7b", "prefill", 184.51, 4, 1, 512,
                        "XiongjieDai README, M3 10-core GPU, pp512")))

RUNTIMES = {r.name: r for r in (OPTIMIZED, TENSORRT_LLM, HF_EAGER, MLC_LLM, QNN_GENIE, LLAMA_CPP, LLAMA_CPP_GPU, PEAK, CALIBRATED)}
DEFAULT_CLOUD, DEFAULT_DEVICE = "optimized", "mlc-llm"


def runtime_choices() -> str:
    return ", ".join(RUNTIMES)


def lookup(name: str, field: str = "runtime") -> RuntimeSpec:
    """A shipped runtime by name; a one-line error naming the choices otherwise."""
    if name not in RUNTIMES:
        raise PlmodelError(f"unknown runtime {name!r}; expected one of {runtime_choices()}", field=field)
    return RUNTIMES[name]


def on_machine(hw, runtime: RuntimeSpec) -> tuple:
    """(provenance, note) of a runtime on a machine: a device runtime (one that names its unit) is `anchored` where
    its anchors include this machine and `extrapolated` where they are of others (the note names them); a cloud
    runtime keeps its own provenance (anchored for its class of accelerator). The note also says when the profile
    gives no compute units, so the runtime's unit is assumed to have the profile's peak."""
    notes = []
    if runtime.unit and not hw.compute_units:
        notes.append(f"{hw.name} gives no compute_units: its peak_tflop_per_s is taken as its {runtime.unit}'s")
    provenance = runtime.provenance
    anchored_on = sorted({a.hardware for a in runtime.anchors})
    if provenance == "anchored" and runtime.unit and hw.name not in anchored_on:
        provenance = "extrapolated"
        notes.insert(0, f"runtime {runtime.name} is anchored on {', '.join(anchored_on)}, not on {hw.name}: "
                        "its speeds there are extrapolated")
    return provenance, "; ".join(notes)


def paper_cloud_runtime() -> RuntimeSpec:
    """The runtime of the paper's cloud measurements (its A100 decode speeds)."""
    return HF_EAGER


def resolve(scn) -> tuple:
    """(cloud runtime, device runtime) of a scenario: those it names, else the hardware profile's own (its
    class's runtime; a calibrated machine names `calibrated`), else optimized on the cloud and mlc-llm on the
    device. A runtime whose compute unit the machine's profile lacks is refused.
    The paper's accounting runs the paper's cloud runtime."""
    if scn.mode == "paper":
        cloud = paper_cloud_runtime()
    else:
        cloud = scn.cloud_runtime or lookup(scn.cloud.runtime or DEFAULT_CLOUD)
    device = scn.device_runtime or lookup(scn.device.runtime or DEFAULT_DEVICE)
    for hw, runtime, field in ((scn.cloud, cloud, "cloud_runtime"), (scn.device, device, "device_runtime")):
        try:
            hw.unit_peaks(runtime.unit)  # a runtime on a unit the machine lacks is refused, naming the option
        except PlmodelError as exc:
            raise PlmodelError(exc.message, field=field) from None
    return cloud, device


#: Plausible ranges of the shipped runtimes' fitted or assumed figures, runtime -> field -> (low, high, why);
#: `--uncertainty` samples them (analysis/uncertainty.py). A runtime or field not here is held fixed.
RANGES = {
    "optimized": {
        "bandwidth_efficiency": (0.6, 0.75, "0.68-0.69 fitted on A100 (gpt-fast, lmdeploy); other GPUs and engines "
                                 "+-10 %"),
        "flop_efficiency": (0.5, 0.75, "0.69-0.72 at 2,048-token prompts; short prompts' small GEMMs run below"),
        "call_host_s": (5e-6, 50e-6, "a graph launch a segment, assumed [U]"),
        "roofline_overlap": (0.3, 0.7, "0.5 fitted to lmdeploy's three serving rows; 0.3-0.7 keeps them within "
                             "~25 %")},
    "tensorrt-llm": {
        "bandwidth_efficiency": (0.6, 0.9, "0.86 fitted on one long-decode batch; ~0.6 implied at batch 1 (NeMo)"),
        "flop_efficiency": (0.6, 0.8, "0.73 on one 2,048-token first token; short prompts run below"),
        "roofline_overlap": (0.3, 0.7, "taken from optimized's fit, not fitted on TensorRT-LLM")},
    "hf-eager": {"call_host_s": (0.05e-3, 0.2e-3, "the 0.1 ms call is assumed [U], the layer time fitted around it")},
    "mlc-llm": {
        "bandwidth_efficiency": (0.45, 0.8, "0.72 fitted on one A15 at 4 bit; a Xiaomi 14 (OpenCL) decodes "
                                 "q4f16_1 at 0.49 of its bandwidth (mlc-llm #1359)"),
        "flop_efficiency": (0.3, 0.6, "0.44 of the A15 GPU's [D] peak from one prefill figure; the iPhone 15 Pro's "
                            "prefill comes out 31 % fast with it")},
    "qnn-genie": {
        "bandwidth_efficiency": (0.6, 0.8, "0.71 of a [D] bandwidth on one phone (Galaxy S24)"),
        "flop_efficiency": (0.1, 0.42, "0.21 of 45 TOPS read as FLOP/s [U]: could move 2x with the peak")},
    "llama-cpp": {
        "bandwidth_efficiency": (0.75, 1.0, "0.87 on one Pi 5 decode; the Pi's ceiling is ~17 GB/s"),
        "flop_efficiency": (0.45, 0.75, "0.69 on one prefill; older kernels ran 1.5x apart")},
    "llama-cpp-gpu": {
        "bandwidth_efficiency": (0.7, 0.85, "0.83 on an M3; wider Apple chips draw less of theirs (M1 Max 0.47)"),
        "flop_efficiency": (0.48, 0.9, "0.69 of a [D] GPU peak: +-30 % with the peak")},
}
