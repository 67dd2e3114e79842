"""Published serving benchmarks the fleet engine is held to, and the ShareGPT length law it draws from.

Every figure is as printed in its source; what is derived from them says so ([D]). The test that holds
the engine to them is tests/test_fleet_anchors.py.
"""

from __future__ import annotations

import numpy as np

from plmodel.frozen import frozen

#: lmdeploy docs/en/benchmark/a100_fp16.md (InternLM/lmdeploy, commit f148d471f, 2024-04-07), "Request
#: Throughput Benchmark", FP16, TurboMind v0.2.0 on A100-80G (x8), CUDA 11.8: 3,000 prompts sampled from
#: ShareGPT_V3_unfiltered_cleaned_split by benchmark/profile_throughput.py, run closed loop with
#: `concurrency` = the table's batch (also TurboMind's max_batch_size).
LMDEPLOY_SOURCE = "InternLM/lmdeploy docs/en/benchmark/a100_fp16.md (v0.2.0, Request Throughput, FP16)"
#: TensorRT-LLM docs/source/performance.md (NVIDIA/TensorRT-LLM), "Peak Throughput", A100 GPUs (FP16),
#: v0.6.1: gptSessionBenchmark, a static batch (every sequence prefilled, then decoded together).
TRTLLM_SOURCE = "NVIDIA/TensorRT-LLM docs/source/performance.md (v0.6.1, Peak Throughput, A100 FP16)"
#: The same lmdeploy file's "Static Inference Benchmark" (v0.1.0a1, TurboMind, A100-80G, FP16): `batch` requests
#: of 128 + 128 tokens started together, output tokens a second: a check across batch sizes (1, 16, 64) of the
#: roofline overlap fitted on the request-throughput rows.
LMDEPLOY_STATIC_SOURCE = "InternLM/lmdeploy docs/en/benchmark/a100_fp16.md (v0.1.0a1, Static Inference, FP16)"
#: The same file's request-throughput table at v0.1.0a1 (TurboMind, A100-80G, CUDA 11.8, 3,000 ShareGPT prompts):
#: Llama-2-7B at concurrency 64 and 128. Checks, not fitted: the mean lengths are derived [D] from each row
#: (output tok/s / RPS; (total - output) tok/s / RPS), as for v0.2.0 below.
LMDEPLOY_V01_SOURCE = "InternLM/lmdeploy docs/en/benchmark/a100_fp16.md (v0.1.0a1, Request Throughput, FP16)"


@frozen
class ServingAnchor:
    """One published throughput measurement of an engine on one A100 or a tensor-parallel group."""

    name: str
    model: str
    gpus: int
    batch: int  # closed-loop concurrency and max batch (lmdeploy); the static batch (TensorRT-LLM)
    requests: int
    prompt_tokens: int  # the mean (ShareGPT) or the fixed length
    output_tokens: int
    lengths: str  # sharegpt or fixed
    output_tokens_per_s: float
    requests_per_s: float | None
    source: str
    runtime: str = "optimized"  # the shipped cloud runtime of that engine (hardware/runtimes.py)


#: Mean lengths of lmdeploy's ShareGPT sample [D]: out tok/s / RPS and (total - out) tok/s / RPS of its
#: 7B row: 3387.419 / 14.556 = 232.7 out, 3593.740 / 14.556 = 246.9 in (the 13B and 70B rows agree within 1 %).
SHAREGPT_PROMPT_MEAN, SHAREGPT_OUTPUT_MEAN = 247, 233

ANCHORS = (
    ServingAnchor("lmdeploy llama2-7b", "llama-2-7b", 1, 256, 3000, 247, 233, "sharegpt", 3387.419, 14.556,
                  LMDEPLOY_SOURCE),
    ServingAnchor("lmdeploy llama2-13b", "llama-2-13b", 1, 128, 3000, 247, 233, "sharegpt", 1850.145, 7.950,
                  LMDEPLOY_SOURCE),
    ServingAnchor("lmdeploy llama2-70b tp4", "llama-2-70b", 4, 256, 3000, 247, 233, "sharegpt", 1682.738, 7.231,
                  LMDEPLOY_SOURCE),
    ServingAnchor("TensorRT-LLM LLaMA 7B bs384 128/128", "llama-2-7b", 1, 384, 384, 128, 128, "fixed", 5586.0, None,
                  TRTLLM_SOURCE, "tensorrt-llm"),
    ServingAnchor("TensorRT-LLM LLaMA 7B bs60 128/2048", "llama-2-7b", 1, 60, 60, 128, 2048, "fixed", 1928.0, None,
                  TRTLLM_SOURCE, "tensorrt-llm"),
    ServingAnchor("TensorRT-LLM LLaMA 7B bs52 2048/128", "llama-2-7b", 1, 52, 52, 2048, 128, "fixed", 591.0, None,
                  TRTLLM_SOURCE, "tensorrt-llm"),
    ServingAnchor("lmdeploy v0.1 llama2-7b bs64", "llama-2-7b", 1, 64, 3000, 265, 249, "sharegpt", 2562.435, 10.275,
                  LMDEPLOY_V01_SOURCE),
    ServingAnchor("lmdeploy v0.1 llama2-7b bs128", "llama-2-7b", 1, 128, 3000, 270, 255, "sharegpt", 3210.3, 12.611,
                  LMDEPLOY_V01_SOURCE),
) + tuple(
    ServingAnchor(f"lmdeploy static {name} bs{batch} 128/128", model, gpus, batch, batch, 128, 128, "fixed", tps, None,
                  LMDEPLOY_STATIC_SOURCE)
    for name, model, gpus, batch, tps in (
        ("llama2-7b", "llama-2-7b", 1, 1, 102.21), ("llama2-7b", "llama-2-7b", 1, 16, 1272.47),
        ("llama2-7b", "llama-2-7b", 1, 64, 3024.07), ("llama2-13b", "llama-2-13b", 1, 1, 56.58),
        ("llama2-13b", "llama-2-13b", 1, 16, 757.3), ("llama2-13b", "llama-2-13b", 1, 64, 2033.22),
        ("llama2-70b tp4", "llama-2-70b", 4, 1, 33.63), ("llama2-70b tp4", "llama-2-70b", 4, 16, 439.77),
        ("llama2-70b tp4", "llama-2-70b", 4, 64, 1159.84)))
#: The acceptance of issue 24: the engine within 15 % of every anchor.
ANCHOR_TOLERANCE = 0.15
#: Anchors the engine misses (paged KV, prefill-first, sharegpt or fixed lengths, host time 0; the runtime of the
#: engine measured: `optimized` with roofline overlap 0.5 for lmdeploy, `tensorrt-llm` for TensorRT-LLM), with the
#: ratio measured when this was written and why; tests hold each within MISS_BAND of it, so a change shows, and
#: they stay listed until the engine meets them. Both are rows of lmdeploy's older static table (v0.1.0a1), not
#: of the request-throughput table the engine is anchored on, and they pull in opposite directions at the same
#: batch: 13B at 64 runs faster than its own bandwidth roofline allows with the overlap the serving rows need
#: (0.84x: the engine slow), 70B TP4 at 64 slower (1.20x: the engine fast; TurboMind's TP4 was already 12 % behind
#: gpt-fast at batch 1, 33.63 against 38.01 tok/s). One efficiency a runtime cannot fit both; a GEMM efficiency
#: that depends on the GEMM's shape (vidur profiles them) might. Nothing was fitted to close them.
KNOWN_MISSES = {"lmdeploy static llama2-13b bs64 128/128": 0.84, "lmdeploy static llama2-70b tp4 bs64 128/128": 1.20}
MISS_BAND = 0.05

#: ShareGPT lengths. Measured: only the means above and the sampler's filter (lmdeploy
#: benchmark/profile_throughput.py, as vLLM's benchmark_serving.py: a pair is kept when prompt and output
#: have at least 4 tokens, the prompt at most 1,024 and both together at most 2,048). The dataset is not
#: shipped and its histogram was not read: the shape is assumed [U], a lognormal for each (prompt and output
#: drawn independently), truncated by the filter and scaled to the measured means. Its log-sd is fitted [D]
#: to another column of the same table: lmdeploy's mean first-token latency, 0.352 s on its 13B row, which the
#: engine gives at 0.5 (0.35 s; 0.50 s at 0.6, 1.14 s at 0.8: a wider law holds more long requests' KV, so
#: requests queue for memory). The 7B row then reads 0.73 s against 0.526 s. The spread matters where memory
#: binds: from 0.5 to 1.0 the lmdeploy 7B throughput ratio goes 1.07 -> 0.94, 13B 1.01 -> 0.87.
SHAREGPT_SIGMA = 0.5
SHAREGPT_MIN_TOKENS, SHAREGPT_MAX_PROMPT, SHAREGPT_MAX_TOTAL = 4, 1024, 2048
#: The law is kept as QUANTILES points of its inverse CDF, lengths as a multiple of the mean.
QUANTILES = 201


def _quantiles(mean: float, upper: float) -> np.ndarray:
    """Inverse-CDF table (multiples of the mean: its integral is 1) of a lognormal of log-sd SHAREGPT_SIGMA
    truncated to [SHAREGPT_MIN_TOKENS, upper] tokens, its median set so the truncated mean is `mean`."""
    z = np.linspace(-6, 6, 4001)
    density = np.exp(-z * z / 2)
    lo, hi = 0.0, np.log(upper)
    for _ in range(60):  # bisect the log-median for the truncated mean
        mu = (lo + hi) / 2
        x = np.exp(mu + SHAREGPT_SIGMA * z)
        keep = (x >= SHAREGPT_MIN_TOKENS) & (x <= upper)
        got = float((x * density)[keep].sum() / density[keep].sum())
        lo, hi = (mu, hi) if got < mean else (lo, mu)
    cdf = np.cumsum(density * keep)
    cdf /= cdf[-1]
    table = np.interp(np.linspace(0.0, 1.0, QUANTILES), cdf, np.clip(x, SHAREGPT_MIN_TOKENS, upper))
    return table / ((table[:-1] + table[1:]).sum() / 2 / (QUANTILES - 1))  # a draw's mean: the table's integral


#: (prompt, output) inverse-CDF tables; the output's bound is what the total leaves a mean prompt.
SHAREGPT_PROMPT_Q = _quantiles(SHAREGPT_PROMPT_MEAN, SHAREGPT_MAX_PROMPT)
SHAREGPT_OUTPUT_Q = _quantiles(SHAREGPT_OUTPUT_MEAN, SHAREGPT_MAX_TOTAL - SHAREGPT_PROMPT_MEAN)
