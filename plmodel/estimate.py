"""The closed-form estimate of one scenario with its baselines, as one flat record of SI numbers."""

from __future__ import annotations

import numpy as np

from .analytical import StepTime, break_even_rtt_s, realistic_step, split_step, stack_time
from .models import canonical_model_name, parameter_count
from .specs import Scenario
from .units import MS
from .workload import residency, step_work

#: RTTs (ms) at which the estimate also reports decode tokens/s: the latency cost at a glance.
RTT_PROBES_MS = (0, 5, 20, 50)
DEVICE_ONLY_BITS = (3, 4)


def _f(x) -> float:
    return float(np.asarray(x))


def _step_fields(prefix: str, st: StepTime) -> dict:
    return {f"{prefix}_cloud_s": _f(st.cloud_s), f"{prefix}_device_s": _f(st.device_s),
            f"{prefix}_transfer_s": _f(st.transfer_s), f"{prefix}_latency_s": _f(st.latency_s),
            f"{prefix}_step_s": _f(st.total_s)}


def device_only(scn: Scenario, bits: int) -> dict:
    """The whole model on the device at `bits` per weight: speed (measured or roofline), memory, fit."""
    key = canonical_model_name(scn.model.name)
    out = {}
    for phase in ("prefill", "decode"):
        t, source = stack_time(scn.device, scn.model, key, phase, scn.batch, scn.prompt_tokens, bits,
                               scn.adapter.act_bits, with_ends=True, logit_tokens=scn.batch)
        tokens = scn.batch * scn.prompt_tokens if phase == "prefill" else scn.batch
        out[f"device_only_{bits}bit_{phase}_tokens_per_s"] = _f(tokens / t)
        out[f"device_only_{bits}bit_{phase}_source"] = source
    kv = residency(scn.model, scn.adapter, scn.batch, scn.prompt_tokens).cloud_kv_bytes
    memory = parameter_count(scn.model) * bits / 8 + kv
    limit = scn.device.usable_memory_bytes or scn.device.memory_bytes
    out[f"device_only_{bits}bit_memory_bytes"] = float(memory)
    out[f"device_only_{bits}bit_fits"] = bool(memory <= limit)
    return out


def cloud_only(scn: Scenario) -> dict:
    """The whole model on the cloud; the user pays one RTT before the first token."""
    key = canonical_model_name(scn.model.name)
    bits, act = scn.adapter.cloud_weight_bits, scn.adapter.act_bits
    pre, _ = stack_time(scn.cloud, scn.model, key, "prefill", scn.batch, scn.prompt_tokens, bits, act,
                        with_ends=True, logit_tokens=scn.batch)
    dec, source = stack_time(scn.cloud, scn.model, key, "decode", scn.batch, scn.prompt_tokens, bits, act,
                             with_ends=True)
    rtt = 0.0 if scn.mode == "paper" else scn.link.rtt_s
    return {"cloud_only_prefill_tokens_per_s": _f(scn.batch * scn.prompt_tokens / pre),
            "cloud_only_ttft_s": _f(pre + rtt),
            "cloud_only_decode_tokens_per_s": _f(scn.batch / dec), "cloud_only_decode_source": source}


def traffic(scn: Scenario) -> dict:
    """Bytes per decoded token each way (ends included), PrivateLoRA against shipping the full hidden state."""
    args = (scn.model, scn.adapter, "decode", scn.batch, scn.prompt_tokens)
    pl_step, lora_step = step_work(*args), step_work(*args, transport="lora")
    pl, lora = pl_step.total, lora_step.total
    # The saving counts the traffic inside the stack, which is what low-rank transmission changes;
    # the hidden state at the two ends of the stack is the same for both.
    pl_stack = pl_step.adapters.c2d_bytes + pl_step.adapters.d2c_bytes
    lora_stack = lora_step.adapters.c2d_bytes + lora_step.adapters.d2c_bytes
    return {"c2d_bytes_per_token": pl.c2d_bytes / scn.batch, "d2c_bytes_per_token": pl.d2c_bytes / scn.batch,
            "lora_c2d_bytes_per_token": lora.c2d_bytes / scn.batch,
            "lora_d2c_bytes_per_token": lora.d2c_bytes / scn.batch,
            "traffic_saving": 1.0 - pl_stack / lora_stack}


def inputs(scn: Scenario) -> dict:
    """The inputs of a scenario, flattened for JSON and tables."""
    a = scn.adapter
    return {"model": scn.model.name, "rank_c2d": a.r_c2d, "rank_d2c": a.r_d2c, "targets": ",".join(a.targets),
            "adapted_layers": len(a.adapted_layers(scn.model.n_layers)), "act_bits": a.act_bits,
            "cloud_weight_bits": a.cloud_weight_bits, "device_weight_bits": a.device_weight_bits,
            "cloud": scn.cloud.name, "device": scn.device.name, "network": scn.link.name, "mode": scn.mode,
            "batch": scn.batch, "prompt_tokens": scn.prompt_tokens, "rtt_s": scn.link.rtt_s,
            "c2d_bandwidth_bps": scn.link.c2d_bps, "d2c_bandwidth_bps": scn.link.d2c_bps}


def estimate(scn: Scenario) -> dict:
    """Everything `plmodel estimate` reports for one scenario, as a flat dict of SI values."""
    key = canonical_model_name(scn.model.name)
    args = (scn.model, key, scn.adapter, scn.cloud, scn.device, scn.link)
    pre = split_step(scn.mode, *args, "prefill", scn.batch, scn.prompt_tokens)
    dec = split_step(scn.mode, *args, "decode", scn.batch, scn.prompt_tokens)
    lora_pre = split_step(scn.mode, *args, "prefill", scn.batch, scn.prompt_tokens, transport="lora")
    lora_dec = split_step(scn.mode, *args, "decode", scn.batch, scn.prompt_tokens, transport="lora")
    sw = step_work(scn.model, scn.adapter, "decode", scn.batch, scn.prompt_tokens)
    mem = residency(scn.model, scn.adapter, scn.batch, scn.prompt_tokens)
    out = inputs(scn)
    out.update({
        "prefill_tokens_per_s": _f(pre.tokens_per_s), "ttft_s": _f(pre.total_s),
        "decode_tokens_per_s": _f(dec.tokens_per_s), "decode_tokens_per_s_per_user": _f(1 / dec.total_s),
        "tpot_s": _f(dec.total_s), "cloud_speed_source": dec.cloud_source,
        **_step_fields("prefill", pre), **_step_fields("decode", dec),
        "round_trips_per_step": int(sw.n_round_trips), **traffic(scn),
        "device_memory_bytes": float(mem.device_bytes),
        "device_matmul_weight_bytes": float(mem.device_matmul_weight_bytes),
        "device_flop_per_token": float((sw.adapters.device_flop + sw.ends.device_flop) / scn.batch),
        "cloud_memory_bytes": float(mem.cloud_weight_bytes + mem.cloud_adapter_bytes + mem.cloud_kv_bytes),
        "split_lora_prefill_tokens_per_s": _f(lora_pre.tokens_per_s),
        "split_lora_decode_tokens_per_s": _f(lora_dec.tokens_per_s),
        **cloud_only(scn),
    })
    for bits in DEVICE_ONLY_BITS:
        out.update(device_only(scn, bits))
    dev_flop = step_work(scn.model, scn.adapter, "decode", 1, scn.prompt_tokens).layers.cloud_flop
    out["device_only_flop_per_token"] = float(dev_flop + 2 * scn.model.d_model * scn.model.vocab_size)
    real = dec if scn.mode == "realistic" else realistic_step(*args, "decode", scn.batch, scn.prompt_tokens)
    for rtt_ms in RTT_PROBES_MS:  # realistic accounting, whatever the mode: the paper's has no latency
        step = real.total_s - real.latency_s + (sw.n_round_trips + 1) * rtt_ms * MS
        out[f"decode_tokens_per_s_rtt_{rtt_ms}ms"] = _f(scn.batch / step)
    device_step = scn.batch / out["device_only_4bit_decode_tokens_per_s"]
    out["break_even_rtt_s"] = _f(break_even_rtt_s(real, sw.n_round_trips + 1, device_step))
    if scn.cloud.price_usd_per_hour:
        out["cloud_usd_per_million_tokens"] = scn.cloud.price_usd_per_hour / 3600 / out["decode_tokens_per_s"] * 1e6
    return out
