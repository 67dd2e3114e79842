"""A profile's ranges: `<key>_range: [low, high]` beside a figure, in the figure's own unit, its reason in the
comment beside it. Checked where the profile is loaded (one line naming the file and the field): a list of
two finite numbers, low <= high, the figure itself inside, and a figure the closed form can sample.

RANGED maps each key a range may sit beside to (the spec field it sets, SI scale of the key's unit, the
unit a table shows); the same key means the same thing in hardware, network and radio profiles.
"""

from __future__ import annotations

import math

from plmodel.errors import PlmodelError
from plmodel.units import GBYTE, MBIT, MS, TERA, US

SUFFIX = "_range"

#: key (with its block, dotted) -> (spec field path, SI per the key's unit, unit shown).
RANGED = {
    "memory_bandwidth_gbyte_per_s": ("mem_bw_bytes_per_s", GBYTE, "GB/s"),
    "peak_tflop_per_s": ("peak_flop_per_s", TERA, "TFLOP/s"),
    "allreduce_latency_us": ("allreduce_latency_s", US, "us"),
    "power.active_w": ("power.active_w", 1.0, "W"), "power.baseline_w": ("power.baseline_w", 1.0, "W"),
    "rtt_ms": ("rtt_s", MS, "ms"), "c2d_bandwidth_mbit_per_s": ("c2d_bps", MBIT, "Mbit/s"),
    "d2c_bandwidth_mbit_per_s": ("d2c_bps", MBIT, "Mbit/s"),
    "connected_w": ("connected_w", 1.0, "W"), "mw_per_mbit_s_up": ("j_per_mbit_up", 1e-3, "mW per Mbit/s"),
    "mw_per_mbit_s_down": ("j_per_mbit_down", 1e-3, "mW per Mbit/s"), "inactivity_ms": ("inactivity_s", MS, "ms"),
    "tail_s": ("tail_s", 1.0, "s"), "tail_w": ("tail_w", 1.0, "W"), "promotion_ms": ("promotion_s", MS, "ms"),
    "promotion_w": ("promotion_w", 1.0, "W"), "idle_w": ("idle_w", 1.0, "W"),
}
#: Ranged keys the closed form does not read (a link's jitter: the simulation's); kept, not sampled.
NOT_SAMPLED = {"jitter.median_ms": "ms", "jitter.p99_ms": "ms"}


def is_range_key(key, schema: dict) -> bool:
    """Whether `key` is a range beside a key of `schema`."""
    return isinstance(key, str) and key.endswith(SUFFIX) and key[: -len(SUFFIX)] in schema


def check_range(data: dict, key: str, src: str, prefix: str = "") -> tuple:
    """(low, high) of the range `key` of a mapping, in the figure's unit; a one-line error naming the file and
    the field otherwise."""
    base, field = key[: -len(SUFFIX)], f"{prefix}{key}"
    if not {f"{prefix}{base}", base} & (set(RANGED) | set(NOT_SAMPLED)):
        raise PlmodelError(f'field "{field}": no range is sampled for "{prefix}{base}"; ranges go beside '
                           f"{', '.join(RANGED)}", src)
    value, bounds = data.get(base), data[key]
    if not (isinstance(bounds, list) and len(bounds) == 2
            and all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)):
        raise PlmodelError(f'field "{field}": expected [low, high], two finite numbers, got {bounds!r}', src)
    low, high = (float(b) for b in bounds)
    if not 0 <= low <= high:
        raise PlmodelError(f'field "{field}": expected 0 <= low <= high, got [{low:g}, {high:g}]', src)
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PlmodelError(f'field "{field}": "{prefix}{base}" has no number to range over', src)
    if not low <= value <= high:
        raise PlmodelError(f'field "{field}": [{low:g}, {high:g}] does not hold the figure itself ({value:g})', src)
    return low, high
