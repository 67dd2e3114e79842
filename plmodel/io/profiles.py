"""YAML profiles -> specs: safe loading, required and unit-suffixed keys, errors naming file and field.

Hardware keys: memory_bandwidth_gbyte_per_s, peak_tflop_per_s, memory_gbyte (required);
usable_memory_gbyte, power_w, price_usd_per_hour, measured, runtime, compute_units (optional). `compute_units`
maps gpu / npu / cpu to {peak_tflop_per_s, memory_bandwidth_gbyte_per_s (optional)}: the unit a runtime runs on.
Network keys: c2d_bandwidth_mbit_per_s, d2c_bandwidth_mbit_per_s, rtt_ms (required); jitter and
bandwidth_jitter (optional).
"""

from __future__ import annotations

import contextlib

from plmodel.errors import PlmodelError
from plmodel.hardware.decode_rows import from_mapping as decode_rows_from_mapping
from plmodel.hardware.resume import from_mapping as resume_from_mapping
from plmodel.hardware.runtimes import lookup
from plmodel.io.files import (  # noqa: F401 (re-exported: the profiles' one import for their callers)
    MAXIMUM,
    available,
    check_keys,
    find_profile,
    number,
    profile_dirs,
    read_mapping,
    relative_to_file,
    stem,
)
from plmodel.io.power_profiles import power_from_mapping, radio_for
from plmodel.models import canonical_model_name
from plmodel.specs import BandwidthJitterSpec, ComputeUnit, HardwareSpec, JitterSpec, LinkSpec, MeasuredSpeed
from plmodel.units import GBYTE, GIB, MBIT, MS, TERA, US

HARDWARE_KEYS = {
    "memory_bandwidth_gbyte_per_s": True, "peak_tflop_per_s": True, "memory_gbyte": False, "memory_gib": False,
    "usable_memory_gbyte": False, "power_w": False, "price_usd_per_hour": False, "measured": False, "name": False,
    "layer_overhead_us": False, "call_overhead_us": False, "runtime": False, "interconnect_gbyte_per_s": False,
    "host_link_gbyte_per_s": False,
    "allreduce_latency_us": False, "power": False, "resume_after_wait": False,
    "decode_batch_slowdown": False, "compute_units": False,
}
NETWORK_KEYS = {
    "c2d_bandwidth_mbit_per_s": True, "d2c_bandwidth_mbit_per_s": True, "rtt_ms": True,
    "jitter": False, "bandwidth_jitter": False, "name": False, "framing_bytes_per_message": False,
    "per_message_overhead_us": False, "radio": False,
}
UNIT_KEYS = {"peak_tflop_per_s": True, "memory_bandwidth_gbyte_per_s": False}
MEASURED_KEYS = {"model": True, "phase": True, "tokens_per_s": True, "weight_bits": False, "batch": False,
                 "runtime": False}
JITTER_KEYS = {"distribution": True, "median_ms": True, "p99_ms": True}
BANDWIDTH_JITTER_KEYS = {"distribution": True, "median_factor": True, "p99_factor": True}


def optional(data: dict, key: str, src: str, scale: float):
    """An optional positive number, scaled to SI, or None."""
    return number(data, key, src) * scale if data.get(key) is not None else None


def optional_zero(data: dict, key: str, src: str, scale: float) -> float:
    """An optional non-negative number, scaled to SI; 0 when absent."""
    return number(data, key, src, allow_zero=True) * scale if data.get(key) is not None else 0.0


def parse_measured(items, src: str) -> tuple:
    """The `measured:` list of a hardware profile."""
    if items is None:
        return ()
    if not isinstance(items, list):
        raise PlmodelError('field "measured": expected a list of {model, phase, tokens_per_s}', src)
    out = []
    for i, item in enumerate(items):
        prefix = f"measured[{i}]."
        if not isinstance(item, dict):
            raise PlmodelError(f'field "measured[{i}]": expected a mapping', src)
        check_keys(item, MEASURED_KEYS, src, prefix)
        model = canonical_model_name(str(item["model"]))
        if model is None:
            raise PlmodelError(f'field "{prefix}model": unknown model {item["model"]!r}', src)
        try:
            runtime = None if item.get("runtime") is None else lookup(str(item["runtime"]), "runtime").name
            out.append(MeasuredSpeed(model, str(item["phase"]), number(item, "tokens_per_s", src, prefix=prefix),
                                     item.get("weight_bits", 16), item.get("batch", 1), src, runtime))
        except PlmodelError as exc:
            raise PlmodelError(f"{prefix[:-1]}: {exc}", src) from None
    return tuple(out)


def parse_units(units, src: str) -> tuple:
    """The `compute_units:` mapping of a hardware profile (unit name -> its peak and optional bandwidth)."""
    if units is None:
        return ()
    if not isinstance(units, dict) or not units:
        raise PlmodelError('field "compute_units": expected a mapping of gpu, npu or cpu to {peak_tflop_per_s}', src)
    out = []
    for name, unit in units.items():
        prefix = f"compute_units.{name}."
        if not isinstance(unit, dict):
            raise PlmodelError(f'field "{prefix[:-1]}": expected a mapping with peak_tflop_per_s', src)
        check_keys(unit, UNIT_KEYS, src, prefix)
        with naming(src):
            out.append(ComputeUnit(str(name), number(unit, "peak_tflop_per_s", src, prefix=prefix) * TERA,
                                   optional(unit, "memory_bandwidth_gbyte_per_s", src, GBYTE)))
    return tuple(sorted(out, key=lambda u: u.name))  # one order whatever the YAML's


@contextlib.contextmanager
def naming(src: str):
    """Errors raised inside (by the specs' own checks) name the file they came from."""
    try:
        yield
    except PlmodelError as exc:
        raise exc if exc.source else PlmodelError(str(exc), src) from None


def memory_bytes(data: dict, src: str) -> float:
    """A device's memory from exactly one of memory_gbyte (1e9 bytes) and memory_gib (2**30 bytes): GPU
    vendors' "80GB" is binary, phone makers' decimal, and the profile says which."""
    given = [k for k in ("memory_gbyte", "memory_gib") if data.get(k) is not None]
    if len(given) != 1:
        raise PlmodelError('expected exactly one of "memory_gbyte" (1e9 bytes) and "memory_gib" (2**30 bytes), '
                           f"got {len(given)}", src, "memory_gbyte")
    return number(data, given[0], src) * (GBYTE if given[0] == "memory_gbyte" else GIB)


def hardware_from_mapping(data: dict, src: str, default_name: str) -> HardwareSpec:
    """Validate a hardware mapping and convert its units (GB/s, TFLOP/s, GB) to SI."""
    check_keys(data, HARDWARE_KEYS, src)
    with naming(src):
        return HardwareSpec(
            name=str(data.get("name") or default_name),
            mem_bw_bytes_per_s=number(data, "memory_bandwidth_gbyte_per_s", src) * GBYTE,
            peak_flop_per_s=number(data, "peak_tflop_per_s", src) * TERA,
            memory_bytes=memory_bytes(data, src),
            usable_memory_bytes=optional(data, "usable_memory_gbyte", src, GBYTE),
            price_usd_per_hour=optional(data, "price_usd_per_hour", src, 1.0),
            power_w=optional(data, "power_w", src, 1.0),
            layer_overhead_s=optional_zero(data, "layer_overhead_us", src, US),
            call_overhead_s=optional_zero(data, "call_overhead_us", src, US),
            measured=parse_measured(data.get("measured"), src),
            source=src,
            runtime=None if data.get("runtime") is None else lookup(str(data["runtime"])).name,
            interconnect_bytes_per_s=optional(data, "interconnect_gbyte_per_s", src, GBYTE),
            host_link_bytes_per_s=optional(data, "host_link_gbyte_per_s", src, GBYTE),
            allreduce_latency_s=optional_zero(data, "allreduce_latency_us", src, US),
            power=power_from_mapping(data.get("power"), src),
            resume=resume_from_mapping(data.get("resume_after_wait"), src),
            decode_rows=decode_rows_from_mapping(data.get("decode_batch_slowdown"), src),
            compute_units=parse_units(data.get("compute_units"), src),
        )


def lognormal_from_mapping(data: dict, key: str, schema: dict, cls, scale: float, src: str):
    """An optional {distribution, median, p99} mapping under `key`, or None."""
    if data.get(key) is None:
        return None
    j = data[key]
    if not isinstance(j, dict):
        raise PlmodelError(f'field "{key}": expected a mapping with {", ".join(schema)}', src)
    check_keys(j, schema, src, f"{key}.")
    median, p99 = (k for k in schema if k != "distribution")
    with naming(src):
        return cls(str(j["distribution"]), number(j, median, src, prefix=f"{key}.") * scale,
                   number(j, p99, src, prefix=f"{key}.") * scale)


def link_from_mapping(data: dict, src: str, default_name: str) -> LinkSpec:
    """Validate a network mapping and convert its units (Mbit/s, ms) to SI."""
    check_keys(data, NETWORK_KEYS, src)
    with naming(src):
        return LinkSpec(
            name=str(data.get("name") or default_name),
            c2d_bps=number(data, "c2d_bandwidth_mbit_per_s", src) * MBIT,
            d2c_bps=number(data, "d2c_bandwidth_mbit_per_s", src) * MBIT,
            rtt_s=number(data, "rtt_ms", src, allow_zero=True) * MS,
            jitter=lognormal_from_mapping(data, "jitter", JITTER_KEYS, JitterSpec, MS, src),
            bandwidth_jitter=lognormal_from_mapping(data, "bandwidth_jitter", BANDWIDTH_JITTER_KEYS,
                                                    BandwidthJitterSpec, 1.0, src),
            frame_bytes=optional_zero(data, "framing_bytes_per_message", src, 1.0),
            message_s=optional_zero(data, "per_message_overhead_us", src, US),
            source=src,
            radio=radio_for(data.get("radio"), src),
        )


def load_hardware(name_or_path: str, option: str = "--cloud/--device") -> HardwareSpec:
    """A hardware profile by shipped name or path."""
    path = find_profile("hardware", name_or_path, option)
    return hardware_from_mapping(read_mapping(path), path, stem(path))


def load_link(name_or_path: str, option: str = "--network") -> LinkSpec:
    """A network profile by shipped name or path."""
    path = find_profile("network", name_or_path, option)
    return link_from_mapping(read_mapping(path), path, stem(path))


def hardware_to_mapping(hw: HardwareSpec) -> dict:
    """The YAML mapping of a HardwareSpec (inverse of hardware_from_mapping)."""
    data = {"name": hw.name, "memory_bandwidth_gbyte_per_s": hw.mem_bw_bytes_per_s / GBYTE,
            "peak_tflop_per_s": hw.peak_flop_per_s / TERA, "memory_gbyte": hw.memory_bytes / GBYTE}
    for key, value, scale in (("usable_memory_gbyte", hw.usable_memory_bytes, GBYTE),
                              ("power_w", hw.power_w, 1.0), ("price_usd_per_hour", hw.price_usd_per_hour, 1.0),
                              ("layer_overhead_us", hw.layer_overhead_s or None, US),
                              ("call_overhead_us", hw.call_overhead_s or None, US), ("runtime", hw.runtime, 1),
                              ("interconnect_gbyte_per_s", hw.interconnect_bytes_per_s, GBYTE),
                              ("host_link_gbyte_per_s", hw.host_link_bytes_per_s, GBYTE),
                              ("allreduce_latency_us", hw.allreduce_latency_s or None, US)):
        if value is not None:
            data[key] = value if isinstance(value, str) else value / scale
    if hw.power:
        data["power"] = {"active_w": hw.power.active_w, "baseline_w": hw.power.baseline_w,
                         "battery_wh": hw.power.battery_wh}
    if hw.compute_units:
        data["compute_units"] = {u.name: {"peak_tflop_per_s": u.peak_flop_per_s / TERA, **(
            {"memory_bandwidth_gbyte_per_s": u.mem_bw_bytes_per_s / GBYTE} if u.mem_bw_bytes_per_s else {})}
            for u in hw.compute_units}
    if hw.measured:
        data["measured"] = [{"model": m.model, "phase": m.phase, "weight_bits": m.weight_bits, "batch": m.batch,
                             "tokens_per_s": m.tokens_per_s, **({"runtime": m.runtime} if m.runtime else {})}
                            for m in hw.measured]
    return data


def link_to_mapping(link: LinkSpec) -> dict:
    """The YAML mapping of a LinkSpec (inverse of link_from_mapping)."""
    data = {"name": link.name, "c2d_bandwidth_mbit_per_s": link.c2d_bps / MBIT,
            "d2c_bandwidth_mbit_per_s": link.d2c_bps / MBIT, "rtt_ms": link.rtt_s / MS}
    if link.jitter:
        data["jitter"] = {"distribution": link.jitter.distribution, "median_ms": link.jitter.median_s / MS,
                          "p99_ms": link.jitter.p99_s / MS}
    if link.frame_bytes:
        data["framing_bytes_per_message"] = link.frame_bytes
    if link.message_s:
        data["per_message_overhead_us"] = link.message_s / US
    if link.radio:
        r = link.radio
        data["radio"] = {"name": r.name, "connected_w": r.connected_w, "mw_per_mbit_s_up": r.j_per_mbit_up * 1e3,
                         "mw_per_mbit_s_down": r.j_per_mbit_down * 1e3, "inactivity_ms": r.inactivity_s / MS,
                         "tail_s": r.tail_s, "tail_w": r.tail_w, "promotion_ms": r.promotion_s / MS,
                         "promotion_w": r.promotion_w, "idle_w": r.idle_w}
    if link.bandwidth_jitter:
        bj = link.bandwidth_jitter
        data["bandwidth_jitter"] = {"distribution": bj.distribution, "median_factor": bj.median_factor,
                                    "p99_factor": bj.p99_factor}
    return data
