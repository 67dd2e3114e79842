"""Files of profiles and studies: where the shipped ones are, finding one by name or path, reading YAML with
the safe loader, and checking a mapping's keys and numbers with errors that name the file and field."""

from __future__ import annotations

import difflib
import math
from pathlib import Path

import yaml

from plmodel.bounds import shown, too_large
from plmodel.errors import PlmodelError
from plmodel.io.ranges import check_range, is_range_key

#: The safe loader, libyaml's where PyYAML was built with it (the same documents, a few times faster).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def profile_dirs() -> dict:
    """Folders holding the shipped profiles: inside the wheel, or at the top of a source checkout."""
    here = Path(__file__).resolve().parent.parent
    bundled = here / "profiles_data"
    root = bundled if bundled.is_dir() else here.parent
    return {"hardware": root / "hardware_profiles", "network": root / "network_profiles",
            "radio": root / "radio_profiles", "sweeps": root / "sweeps", "notebooks": root / "notebooks",
            "placements": root / "placements"}


def available(kind: str) -> list:
    """Names of the shipped profiles of one kind ('hardware' or 'network'), sorted."""
    return sorted(p.stem for p in profile_dirs()[kind].glob("*.yaml"))


def find_profile(kind: str, name_or_path: str, option: str) -> Path:
    """The YAML file for a shipped profile name or a user's path; a clear error if there is none."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists() or "/" in name_or_path:
        if not path.exists():
            raise PlmodelError("no such file", str(path))
        if not path.is_file():
            raise PlmodelError("is a folder, expected a YAML file", str(path))
        return path
    shipped = profile_dirs()[kind] / f"{name_or_path}.yaml"
    if shipped.is_file():
        return shipped
    raise PlmodelError(f"{option}: unknown {kind} profile {name_or_path!r}; expected one of "
                       f"{', '.join(available(kind))} or a path to a YAML file")


def relative_to_file(src: str, value: str) -> str:
    """A path named in a sweep file, relative to that file's folder (a shipped name stays as it is)."""
    path = Path(value)
    if path.is_absolute() or not (path.suffix in (".yaml", ".yml", ".json") or "/" in value):
        return value
    return str(Path(src).resolve().parent / path)


def read_mapping(path: Path) -> dict:
    """Parse a YAML file with the safe loader and insist on a mapping at the top."""
    try:
        data = yaml.load(path.read_text(), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise PlmodelError(f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlmodelError(f"cannot be read ({exc.__class__.__name__})", str(path)) from None
    if not isinstance(data, dict):
        raise PlmodelError(f"expected a mapping of keys to values, got {type(data).__name__}", str(path))
    return data


def check_keys(data: dict, schema: dict, src: str, prefix: str = "") -> None:
    """Every required key present and no unknown key (with a did-you-mean); a `<key>_range` beside a key is
    checked (io/ranges.py)."""
    for key in data:
        if is_range_key(key, schema):
            check_range(data, key, src, prefix)
        elif key not in schema:
            close = difflib.get_close_matches(str(key), list(schema), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of {', '.join(schema)}"
            raise PlmodelError(f'unknown field "{prefix}{key}"{hint}', src)
    for key, required in schema.items():
        if required and key not in data:
            raise PlmodelError(f'missing field "{prefix}{key}"', src)


#: Largest believable value of each unit-suffixed key, in the key's own unit (catches unit slips).
MAXIMUM = {"memory_bandwidth_gbyte_per_s": 1e6, "peak_tflop_per_s": 1e7, "memory_gbyte": 1e6, "memory_gib": 1e6,
           "usable_memory_gbyte": 1e6, "power_w": 1e7, "price_usd_per_hour": 1e6, "tokens_per_s": 1e9,
           "c2d_bandwidth_mbit_per_s": 1e9, "d2c_bandwidth_mbit_per_s": 1e9, "rtt_ms": 3.6e6, "median_ms": 3.6e6,
           "p99_ms": 3.6e6, "median_factor": 1e6, "p99_factor": 1e6, "layer_overhead_us": 1e6,
           "call_overhead_us": 1e6, "framing_bytes_per_message": 1e6, "per_message_overhead_us": 1e6,
           "interconnect_gbyte_per_s": 1e6, "allreduce_latency_us": 1e6}


def number(data: dict, key: str, src: str, *, allow_zero: bool = False, prefix: str = "") -> float:
    """A finite, positive (or non-negative) number from a mapping, within the key's believable range."""
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or too_large(value) \
            or not math.isfinite(float(value)):
        raise PlmodelError(f'field "{prefix}{key}": expected a finite number, got {shown(value)}', src)
    if value < 0 or (value == 0 and not allow_zero):
        raise PlmodelError(f'field "{prefix}{key}": expected a number {">= 0" if allow_zero else "> 0"}, '
                           f'got {shown(value)}', src)
    if value > MAXIMUM.get(key, math.inf):
        raise PlmodelError(f'field "{prefix}{key}": expected at most {MAXIMUM[key]:g}, got {shown(value)}', src)
    return float(value)
