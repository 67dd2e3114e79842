"""The typed result of an estimate, and its flattening to the flat JSON keys (here and nowhere else)."""

from __future__ import annotations

from dataclasses import field

from plmodel.accounting import StepTime
from plmodel.analysis.privacy import fields as exposure_fields
from plmodel.frozen import frozen
from plmodel.vectors import as_bool, as_float  # noqa: F401 (the results' conversions, imported from here too)


@frozen
class CloudOnly:
    """The whole model on the cloud GPU."""

    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    ttft_s: float
    source: str


@frozen
class DeviceOnly:
    """The whole model on the device at `bits` a weight."""

    bits: int
    prefill_tokens_per_s: float
    decode_tokens_per_s: float
    prefill_source: str
    decode_source: str
    memory_bytes: float
    fits: bool


@frozen
class Traffic:
    """Bytes per decoded token each way, PrivateLoRA against shipping the full hidden state."""

    c2d_bytes_per_token: float
    d2c_bytes_per_token: float
    lora_c2d_bytes_per_token: float
    lora_d2c_bytes_per_token: float
    saving: float


@frozen
class BreakEven:
    """The RTT above which split decode is slower than the device alone, and against what."""

    rtt_s: float | None  # None: no device-only precision fits, so there is no yardstick
    bits: int | None  # the yardstick's precision
    reason: str


@frozen
class EnergyView:
    """Device energy of an answer of `tokens` tokens for each option (energy.Energy), and the RTT above
    which split costs more a token than the device alone."""

    tokens: int
    split: object
    cloud_only: object
    device_only: object | None  # the fitting precision that costs least; None if none fits
    device_only_bits: int | None
    break_even_rtt_s: float | None  # None: split never costs more below 10 s, or no yardstick
    tokens_per_battery_percent: float  # split
    promotion_delay_s: float = 0.0  # the radio's promotion from idle: the first round trip of an answer waits for it
    device_only_by_bits: tuple = ()  # (bits, energy.Energy) of every device-only precision that fits


@frozen
class Estimate:
    """Everything `plmodel estimate` reports for one scenario (SI units)."""

    inputs: dict
    prefill: StepTime
    decode: StepTime
    lora_prefill: StepTime
    lora_decode: StepTime
    round_trips_per_step: int
    traffic: Traffic
    device_memory_bytes: float
    device_matmul_weight_bytes: float
    device_flop_per_token: float
    cloud_memory_bytes: float
    cloud_only: CloudOnly
    device_only: tuple  # DeviceOnly, one a precision
    device_only_flop_per_token: float
    decode_tokens_per_s_at_rtt: dict  # RTT in ms -> decode tokens/s (realistic accounting)
    break_even: BreakEven
    cloud_fit: object  # feasibility.CloudFit
    split_fits_device: bool
    cloud_runtime: str
    device_runtime: str
    cost: object = None  # fleet.pricing.CostAtLoad; None in the paper's accounting
    adapter: object = None  # the scenario's AdapterSpec (what the privacy column reads)
    energy: EnergyView | None = None  # None where the device profile has no power figures
    exposure: object = None  # designs/exposure.Exposure: what the cloud can recover from the split
    cloud_only_exposure: object = None  # the same for the whole model on the cloud
    device_only_with_designs: tuple = ()  # DeviceOnly, one a precision, with the scenario's draft (speculative)
    extra: dict = field(default_factory=dict)
    device_runtime_provenance: str = ""  # the device runtime on this device: anchored, extrapolated, measured, peak
    device_runtime_note: str = ""  # why it is not anchored here (runtimes.on_machine); "" when it is

    def flat(self) -> dict:
        """The flat record of SI values `estimate --json`, sweeps and tables use."""
        return flatten(self)


def _step_fields(prefix: str, st: StepTime) -> dict:
    return {f"{prefix}_cloud_s": as_float(st.cloud_s), f"{prefix}_device_s": as_float(st.device_s),
            f"{prefix}_transfer_s": as_float(st.transfer_s), f"{prefix}_latency_s": as_float(st.latency_s),
            **({} if st.overlap_s is None else {f"{prefix}_overlap_s": as_float(st.overlap_s)}),
            f"{prefix}_step_s": as_float(st.total_s)}


def _device_only_fields(d: DeviceOnly, name: str = "device_only") -> dict:
    p = f"{name}_{d.bits}bit"
    return {f"{p}_prefill_tokens_per_s": d.prefill_tokens_per_s, f"{p}_prefill_source": d.prefill_source,
            f"{p}_decode_tokens_per_s": d.decode_tokens_per_s, f"{p}_decode_source": d.decode_source,
            f"{p}_memory_bytes": d.memory_bytes, f"{p}_fits": d.fits}


def flatten(e: Estimate) -> dict:
    """Estimate -> one flat dict of SI values with unit-suffixed keys."""
    dec = e.decode
    t = e.traffic
    out = dict(e.inputs)
    out.update({"cloud_runtime": e.cloud_runtime, "device_runtime": e.device_runtime,
                "device_runtime_provenance": e.device_runtime_provenance, "device_runtime_note": e.device_runtime_note})
    out.update({
        "prefill_tokens_per_s": as_float(e.prefill.tokens_per_s), "ttft_s": as_float(e.prefill.total_s),
        "decode_tokens_per_s": as_float(dec.tokens_per_s),
        "decode_tokens_per_s_per_user": as_float(dec.tokens / e.inputs["batch"] / dec.total_s),
        "tpot_s": as_float(dec.total_s * e.inputs["batch"] / dec.tokens), "cloud_speed_source": dec.cloud_source,
        **_step_fields("prefill", e.prefill), **_step_fields("decode", dec),
        "round_trips_per_step": e.round_trips_per_step,
        "c2d_bytes_per_token": t.c2d_bytes_per_token, "d2c_bytes_per_token": t.d2c_bytes_per_token,
        "lora_c2d_bytes_per_token": t.lora_c2d_bytes_per_token, "lora_d2c_bytes_per_token": t.lora_d2c_bytes_per_token,
        "traffic_saving": t.saving, "device_memory_bytes": e.device_memory_bytes,
        "device_matmul_weight_bytes": e.device_matmul_weight_bytes, "device_flop_per_token": e.device_flop_per_token,
        "cloud_memory_bytes": e.cloud_memory_bytes,
        "split_lora_prefill_tokens_per_s": as_float(e.lora_prefill.tokens_per_s),
        "split_lora_decode_tokens_per_s": as_float(e.lora_decode.tokens_per_s),
        "cloud_only_prefill_tokens_per_s": e.cloud_only.prefill_tokens_per_s, "cloud_only_ttft_s": e.cloud_only.ttft_s,
        "cloud_only_decode_tokens_per_s": e.cloud_only.decode_tokens_per_s,
        "cloud_only_decode_source": e.cloud_only.source, "cloud_only_runtime": e.cloud_runtime,
    })
    for d in e.device_only:
        out.update(_device_only_fields(d))
    out["device_only_flop_per_token"] = e.device_only_flop_per_token
    out.update({f"decode_tokens_per_s_rtt_{ms}ms": v for ms, v in e.decode_tokens_per_s_at_rtt.items()})
    out.update({"break_even_rtt_s": e.break_even.rtt_s, "break_even_yardstick_bits": e.break_even.bits,
                "break_even_reason": e.break_even.reason, "split_fits_device": e.split_fits_device,
                "cloud_fits": e.cloud_fit.fits, "cloud_gpus_needed": e.cloud_fit.gpus_needed, "cloud_gpus": e.cloud_fit.gpus,
                "cloud_required_bytes": e.cloud_fit.required_bytes, "cloud_capacity_bytes": e.cloud_fit.capacity_bytes})
    out.update(_cost_fields(e.cost))
    if e.exposure is not None:
        out.update(exposure_fields(e.exposure))
    if e.cloud_only_exposure is not None:
        out.update(exposure_fields(e.cloud_only_exposure, "cloud_only_"))
    for d in e.device_only_with_designs:
        out.update(_device_only_fields(d, "device_only_speculative"))
    out.update(_energy_fields(e.energy))
    if e.energy is not None:  # an answer that starts from an idle radio waits for its promotion first
        out["ttft_after_idle_s"] = out["ttft_s"] + e.energy.promotion_delay_s
    out.update(e.extra)
    return out


def _cost_fields(c) -> dict:
    if c is None:
        return {}
    return {"cost_users": c.users, "split_gpus_a_replica": c.split_gpus_a_replica,
            "cloud_only_gpus_a_replica": c.cloud_only_gpus_a_replica, "split_replicas": c.split_replicas,
            "cloud_only_replicas": c.cloud_only_replicas, "split_fleet_tokens_per_s": c.split_tokens_per_s,
            "cloud_only_fleet_tokens_per_s": c.cloud_only_tokens_per_s, "split_fleet_tpot_s": c.split_tpot_s,
            "cloud_only_fleet_tpot_s": c.cloud_only_tpot_s,
            "split_usd_per_million_output_tokens": c.split_usd_per_million_output_tokens,
            "cloud_only_usd_per_million_output_tokens": c.cloud_only_usd_per_million_output_tokens,
            "split_usd_per_million_tokens": c.split_usd_per_million_tokens,
            "cloud_only_usd_per_million_tokens": c.cloud_only_usd_per_million_tokens}


def _energy_fields(v: EnergyView | None) -> dict:
    if v is None:
        return {"energy_reason": "the device profile has no power figures"}
    out = {"energy_answer_tokens": v.tokens, "device_energy_j_per_token": v.split.j_per_token,
           "device_only_energy_j_per_token": v.device_only.j_per_token if v.device_only else None,
           "device_only_energy_bits": v.device_only_bits,
           "cloud_only_device_energy_j_per_token": v.cloud_only.j_per_token,
           "energy_break_even_rtt_s": v.break_even_rtt_s, "tokens_per_battery_percent": v.tokens_per_battery_percent,
           "promotion_delay_s": v.promotion_delay_s}
    for name, en in (("split", v.split), ("device_only", v.device_only), ("cloud_only", v.cloud_only)):
        for part in ("compute", "radio_active", "radio_tail", "baseline"):
            out[f"{name}_energy_{part}_j"] = getattr(en, f"{part}_j") if en else None
        out[f"{name}_answer_s"] = en.wall_s if en else None
    for bits, en in v.device_only_by_bits:
        out[f"device_only_{bits}bit_energy_j_per_token"] = en.j_per_token
    return out
