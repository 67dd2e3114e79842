"""The closed-form estimate of one scenario with its baselines, as a typed Estimate (result.py)."""

from __future__ import annotations

import numpy as np

from plmodel import accounting, design, designs
from plmodel.accounting import StepTime
from plmodel.analysis.baselines import DEVICE_ONLY_BITS, cloud_only, device_only, device_only_drafted
from plmodel.analysis.energy import cloud_only_energy, device_only_energy, energy_break_even_rtt_s, split_energy
from plmodel.analysis.privacy import cloud_only_exposure, split_exposure
from plmodel.analysis.result import BreakEven, EnergyView, Estimate, Traffic, as_float
from plmodel.fleet.pricing import cost_at_load
from plmodel.hardware import runtimes
from plmodel.hardware.feasibility import require_cloud_fit, split_fits_device
from plmodel.specs import Scenario
from plmodel.step import Step
from plmodel.units import MS
from plmodel.workload import residency, step_work, whole

#: RTTs (ms) at which the estimate also reports decode tokens/s: the latency cost at a glance.
RTT_PROBES_MS = (0, 5, 20, 50)


def traffic(scn: Scenario) -> Traffic:
    """Bytes per decoded token each way (ends included), PrivateLoRA against shipping the full hidden state."""
    step = Step("decode", scn.batch, scn.prompt_tokens)
    b = scn.batch
    if scn.designs:  # a verification pass carries k + 1 positions and yields tokens_per_pass a sequence
        step, b = design.decode_step(scn, step), scn.batch * design.tokens_per_pass(scn)
    pl_step, lora_step = step_work(scn.model, scn.adapter, step), step_work(scn.model, scn.adapter, step.lora())
    pl, lora = pl_step.total, lora_step.total
    # The saving counts the traffic inside the stack, which is what low-rank transmission changes;
    # the hidden state at the two ends of the stack is the same for both.
    pl_stack = pl_step.adapters.c2d_bytes + pl_step.adapters.d2c_bytes
    lora_stack = lora_step.adapters.c2d_bytes + lora_step.adapters.d2c_bytes
    inside = np.asarray(lora_stack) > 0  # no adapters: nothing inside to save
    saving = as_float(np.where(inside, 1.0 - pl_stack / np.where(inside, lora_stack, 1.0), 0.0))
    up = pl.d2c_bytes
    if scn.designs:  # a design may change what goes up at the ends (token ids instead of embeddings)
        up = up + (accounting.realistic().pieces(scn, Step("decode", scn.batch, scn.prompt_tokens)).up_bytes
                   - pl_step.ends.d2c_bytes)
    return Traffic(*(as_float(x / b) for x in (pl.c2d_bytes, up, lora.c2d_bytes, lora.d2c_bytes)), saving)


def break_even_rtt_s(split_decode: StepTime, n_latencies, device_decode_s):
    """RTT (s) above which a split decode step is slower than the device alone; 0 if it always is."""
    no_latency = split_decode.total_s - split_decode.latency_s
    return np.maximum((device_decode_s - no_latency) / n_latencies, 0.0)


def fastest_fitting(devices: tuple) -> tuple:
    """The yardstick of the break-even RTT: (decode tokens/s, bits) of the fastest device-only precision
    that fits (the first of equals), NaN and 0 where none does; arrays for a vectorised estimate."""
    tps, bits = np.nan, 0
    for d in devices:
        better = np.asarray(d.fits) & ~(d.decode_tokens_per_s <= tps)  # NaN compares False: any fit beats none
        tps, bits = np.where(better, d.decode_tokens_per_s, tps), np.where(better, d.bits, bits)
    return as_float(tps), (int(bits) if np.ndim(bits) == 0 else bits)


NO_YARDSTICK = "no device-only precision fits the device's memory"


def latency_view(scn: Scenario, n_latencies: int, yardstick: tuple, real: StepTime) -> tuple:
    """({RTT ms: decode tokens/s}, BreakEven), both in the realistic accounting whatever the mode (the
    paper's has no latency): the RTT cost at a glance, and the RTT above which split is slower than
    the fastest device-only precision that fits (absent, with the reason, when none fits: None, or NaN
    in a vectorised estimate). `real` is the decode step in the realistic accounting."""
    base = real.total_s - real.latency_s
    probes = {ms: as_float(real.tokens / (base + n_latencies * ms * MS)) for ms in RTT_PROBES_MS}
    tps, bits = yardstick
    rtt = as_float(break_even_rtt_s(real, n_latencies, real.tokens / tps))
    if np.ndim(rtt):
        return probes, BreakEven(rtt, bits, np.where(bits == 0, NO_YARDSTICK, "against device-only, the fastest that fits"))
    if bits == 0:
        return probes, BreakEven(None, None, NO_YARDSTICK)
    return probes, BreakEven(rtt, bits, f"against device-only {bits}-bit, the fastest that fits")


def energy_view(scn: Scenario, devices: tuple, cloud, tokens: int):
    """Device energy of an answer of `tokens` tokens for split, cloud-only and the cheapest fitting
    device-only precision; None where the device has no power figures."""
    if scn.device.power is None:
        return None
    split = split_energy(scn, tokens)
    own = [(device_only_energy(scn, d, tokens), d) for d in devices]
    best, bits = cheapest_fitting(own)
    rtt = energy_break_even_rtt_s(scn, tokens, best.j_per_token) if best is not None else None
    by_bits = sorted((d.bits, en if np.ndim(d.fits) == 0 else en.where(d.fits)) for en, d in own
                     if np.ndim(d.fits) or d.fits)
    return EnergyView(tokens, split, cloud_only_energy(scn, cloud, tokens), best, bits, rtt,
                      split.tokens_per_battery_percent(scn.device.power),
                      scn.link.radio.promotion_s if scn.link.radio else 0.0, tuple(by_bits))


def cheapest_fitting(own: list) -> tuple:
    """(Energy, bits) of the device-only precision that fits and costs the least energy (the first of equals);
    (None, None) where none fits, or an Energy with NaN there in a vectorised estimate."""
    best, total, bits = None, np.inf, 0
    for en, d in own:
        better = np.asarray(d.fits) & (en.total_j < total)
        if np.ndim(better) == 0:
            best, total, bits = (en, en.total_j, d.bits) if better else (best, total, bits)
        else:
            best = en if best is None else en.choose(better, best)
            total, bits = np.where(better, en.total_j, total), np.where(better, d.bits, bits)
    if np.ndim(bits) == 0:
        return (best, bits) if bits else (None, None)
    return best.where(bits > 0), bits


def cost_view(scn: Scenario, tokens: int, users):
    """Cost per million tokens at `users` requests in flight (None: a replica's memory full), split and
    cloud-only; None in the paper's accounting (it has no load) or where no request fits."""
    if scn.mode == "paper" or any("fleet" not in d.engines for d in scn.designs):  # not in the fleet model
        return None
    return cost_at_load(scn, scn.prompt_tokens, tokens, users)


def estimate(scn: Scenario, tokens: int = 128, users: float | None = None, with_cost: bool = True) -> Estimate:
    """Everything `plmodel estimate` reports for one scenario; energy is for an answer of `tokens`
    tokens, cost (unless not `with_cost`) for `users` requests of `prompt_tokens` + `tokens` in flight
    (None: a replica's memory full). A vectorised scenario (flat arrays of ranks, batch, prompt tokens
    and RTT; sweep_vector.py) gives arrays, and no cost."""
    fit = require_cloud_fit(scn)
    acc = accounting.of(scn)
    pre_step, dec_step = Step("prefill", scn.batch, scn.prompt_tokens), Step("decode", scn.batch, scn.prompt_tokens)
    dec = acc.step_time(scn, dec_step)
    sw = step_work(scn.model, scn.adapter, dec_step)
    mem = residency(scn.model, scn.adapter, scn.batch, scn.prompt_tokens)
    draft_mem = design.device_bytes(scn)
    devices, cloud = tuple(device_only(scn, bits) for bits in DEVICE_ONLY_BITS), cloud_only(scn)
    yardstick = fastest_fitting(devices)
    real = dec if acc is accounting.realistic() else accounting.realistic().step_time(scn, dec_step)
    probes, break_even = latency_view(scn, sw.n_round_trips + 1, yardstick, real)
    one_layer = step_work(scn.model, whole(scn.adapter), Step("decode", 1, scn.prompt_tokens)).layers.cloud_flop
    cloud_rt, device_rt = runtimes.resolve(scn)
    device_provenance, device_note = runtimes.on_machine(scn.device, device_rt)
    return Estimate(
        inputs=inputs(scn), prefill=acc.step_time(scn, pre_step), decode=dec,
        lora_prefill=acc.step_time(scn, pre_step.lora()), lora_decode=acc.step_time(scn, dec_step.lora()),
        round_trips_per_step=int(sw.n_round_trips), traffic=traffic(scn),
        device_memory_bytes=as_float(mem.device_bytes + draft_mem),
        device_matmul_weight_bytes=as_float(mem.device_matmul_weight_bytes),
        device_flop_per_token=as_float((sw.adapters.device_flop + sw.ends.device_flop + sw.device_layers.device_flop) / scn.batch),
        cloud_memory_bytes=as_float(mem.cloud_weight_bytes + mem.cloud_adapter_bytes + mem.cloud_kv_bytes),
        cloud_only=cloud, device_only=devices, energy=energy_view(scn, devices, cloud, tokens),
        device_only_flop_per_token=as_float(one_layer + 2 * scn.model.d_model * scn.model.vocab_size),
        decode_tokens_per_s_at_rtt=probes, break_even=break_even, cloud_fit=fit, split_fits_device=split_fits_device(scn),
        cloud_runtime=cloud_rt.name, device_runtime=device_rt.name,
        device_runtime_provenance=device_provenance, device_runtime_note=device_note,
        cost=cost_view(scn, tokens, users) if with_cost else None,
        adapter=scn.adapter, exposure=split_exposure(scn), cloud_only_exposure=cloud_only_exposure(scn),
        device_only_with_designs=tuple(d for d in (device_only_drafted(scn, b) for b in DEVICE_ONLY_BITS) if d))


def inputs(scn: Scenario) -> dict:
    """The inputs of a scenario, flattened for JSON and tables."""
    a = scn.adapter
    return {"model": scn.model.name, "rank_c2d": a.r_c2d, "rank_d2c": a.r_d2c, "targets": ",".join(a.targets) or "none",
            "adapted_layers": len(a.adapted_layers(scn.model.n_layers)), **designs.listed_inputs(scn),
            "act_bits": a.act_bits,
            "cloud_weight_bits": a.cloud_weight_bits, "device_weight_bits": a.device_weight_bits,
            **design.inputs(scn),
            "cloud": scn.cloud.name, "device": scn.device.name, "network": scn.link.name, "mode": scn.mode,
            "batch": scn.batch, "prompt_tokens": scn.prompt_tokens, "rtt_s": scn.link.rtt_s,
            "c2d_bandwidth_bps": scn.link.c2d_bps, "d2c_bandwidth_bps": scn.link.d2c_bps}
