"""The yardsticks split inference is compared with: the whole model on the cloud, or on the device."""

from __future__ import annotations

from plmodel import accounting, design
from plmodel.analysis.result import CloudOnly, DeviceOnly, as_bool, as_float
from plmodel.hardware.engine import Engine, engines, stack_s
from plmodel.models import parameter_count
from plmodel.step import Step
from plmodel.workload import bytes_per_weight, residency, whole

#: Weight precisions of the device-only baselines, bits a weight.
DEVICE_ONLY_BITS = (3, 4)


def whole_model(engine: Engine, scn, phase: str, bits: int, cloud: bool = False) -> tuple:
    """(tokens/s, source) of the whole model (stack, embedding, LM head) on one engine; on the `cloud`, on the
    servers the scenario's designs name (a placement's chain) with the seconds they spend forwarding."""
    step = Step(phase, scn.batch, scn.prompt_tokens)
    own = design.first(scn, "whole_model_s", scn, step, (bits, scn.adapter.act_bits)) if cloud else None
    t, source = own if own is not None else stack_s(engine, scn.model, step, (bits, scn.adapter.act_bits),
                                                     with_ends=True)
    return as_float(step.tokens / (t + (design.hops_s(scn, step) if cloud else 0.0))), source


def device_only(scn, bits: int) -> DeviceOnly:
    """The whole model on the device at `bits` a weight: speed (measured or modelled), memory, fit."""
    engine = engines(scn)[1]
    pre, pre_source = whole_model(engine, scn, "prefill", bits)
    dec, dec_source = whole_model(engine, scn, "decode", bits)
    kv = residency(scn.model, whole(scn.adapter), scn.batch, scn.prompt_tokens).cloud_kv_bytes
    memory = parameter_count(scn.model) * bytes_per_weight(bits) + kv
    limit = scn.device.usable_memory_bytes or scn.device.memory_bytes
    return DeviceOnly(bits, pre, dec, pre_source, dec_source, as_float(memory), as_bool(memory <= limit))


def device_only_drafted(scn, bits: int) -> DeviceOnly | None:
    """The whole model on the device at `bits` a weight verifying the scenario's draft (its designs' decode step
    and the device seconds they add), the same draft the split gets; None where the designs draft nothing."""
    if design.tokens_per_pass(scn) == 1:
        return None
    plain, engine = device_only(scn, bits), engines(scn)[1]
    step = Step("decode", scn.batch, scn.prompt_tokens)
    verify, source = stack_s(engine, scn.model, design.decode_step(scn, step), (bits, scn.adapter.act_bits),
                             with_ends=True)
    dec = as_float(step.tokens * design.tokens_per_pass(scn) / (verify + design.device_s(scn, step)))
    memory = plain.memory_bytes + design.device_bytes(scn)
    limit = scn.device.usable_memory_bytes or scn.device.memory_bytes
    return DeviceOnly(bits, plain.prefill_tokens_per_s, dec, plain.prefill_source, source, as_float(memory),
                      as_bool(memory <= limit))


def cloud_only(scn) -> CloudOnly:
    """The whole model on the cloud (on the scenario's chain of servers, if it has one, with their
    hops); the user waits one RTT (as the accounting sees the link) before the first token."""
    engine, bits = engines(scn)[0], scn.adapter.cloud_weight_bits
    pre, _ = whole_model(engine, scn, "prefill", bits, cloud=True)
    dec, source = whole_model(engine, scn, "decode", bits, cloud=True)
    rtt = accounting.of(scn).link(scn.link).rtt_s
    return CloudOnly(pre, dec, as_float(scn.batch * scn.prompt_tokens / pre + rtt), source)
