"""YAML -> power specs: a hardware profile's `power:` block and a network profile's `radio:` (the name
of a shipped radio profile in radio_profiles/, a path to one, or the mapping itself)."""

from __future__ import annotations

from plmodel.errors import PlmodelError
from plmodel.hardware.power import DevicePower, RadioSpec
from plmodel.io.files import check_keys, find_profile, number, read_mapping, stem
from plmodel.units import MS

POWER_KEYS = {"active_w": True, "baseline_w": True, "battery_wh": True}
RADIO_KEYS = {"name": False, "connected_w": True, "mw_per_mbit_s_up": True, "mw_per_mbit_s_down": True,
              "inactivity_ms": True, "tail_s": True, "tail_w": True, "promotion_ms": True, "promotion_w": True,
              "idle_w": False}


def _numbers(data, schema: dict, src: str, prefix: str) -> dict:
    if not isinstance(data, dict):
        raise PlmodelError(f'field "{prefix[:-1]}": expected a mapping with {", ".join(schema)}', src)
    check_keys(data, schema, src, prefix)
    return {k: number(data, k, src, allow_zero=True, prefix=prefix) for k in schema if k != "name" and k in data}


def power_from_mapping(data, src: str) -> DevicePower | None:
    """A device's `power:` block (W, Wh), or None."""
    if data is None:
        return None
    v = _numbers(data, POWER_KEYS, src, "power.")
    try:
        return DevicePower(v["active_w"], v["baseline_w"], v["battery_wh"], src)
    except PlmodelError as exc:
        raise exc.named({}, src, f'field "power.{exc.field}"') from None


def radio_from_mapping(data, src: str, default_name: str) -> RadioSpec:
    """A radio power model (W, mW per Mbit/s, ms, s) -> RadioSpec in SI (J per Mbit, s)."""
    v = _numbers(data, RADIO_KEYS, src, "radio.")
    try:
        return RadioSpec(str(data.get("name") or default_name), v["connected_w"], v["mw_per_mbit_s_up"] / 1e3,
                         v["mw_per_mbit_s_down"] / 1e3, v["inactivity_ms"] * MS, v["tail_s"], v["tail_w"],
                         v["promotion_ms"] * MS, v["promotion_w"], v.get("idle_w", 0.0), src)
    except PlmodelError as exc:
        raise exc.named({}, src, f'field "radio.{exc.field}"') from None


def radio_for(value, src: str) -> RadioSpec | None:
    """A network profile's `radio:` value: None, a mapping, or a shipped radio profile's name or a path."""
    if value is None or isinstance(value, dict):
        return None if value is None else radio_from_mapping(value, src, "radio")
    if not isinstance(value, str):
        raise PlmodelError(f'field "radio": expected a radio profile name, a path or a mapping, got {value!r}', src)
    if "/" in value or value.endswith((".yaml", ".yml")):
        from pathlib import Path  # a path to a radio profile (a shipped name needs none)

        value = str(Path(src).parent / value) if not Path(value).is_absolute() else value
    try:
        path = find_profile("radio", value, "radio")
    except PlmodelError as exc:
        raise PlmodelError(f'field "radio": {exc.message}', src) from None
    return radio_from_mapping(read_mapping(path), path, stem(path))
