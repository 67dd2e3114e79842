"""Files of profiles and studies: where the shipped ones are, finding one by name or path, reading YAML with
the safe loader, and checking a mapping's keys and numbers with errors that name the file and field.

A shipped profile is found on plain strings (os.path): `plmodel estimate` then loads no pathlib (whose
import brings urllib.parse and ipaddress); pathlib is imported where a user's path or a folder's Path is
asked for."""

from __future__ import annotations

import math
import os

import yaml

from plmodel.bounds import shown, too_large
from plmodel.errors import PlmodelError
from plmodel.io.ranges import check_range, is_range_key

#: The safe loader, libyaml's where PyYAML was built with it (the same documents, a few times faster).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: The shipped folders of each kind, under the data root.
FOLDERS = {"hardware": "hardware_profiles", "network": "network_profiles", "radio": "radio_profiles",
           "sweeps": "sweeps", "notebooks": "notebooks", "placements": "placements"}


def data_root() -> str:
    """The folder holding the shipped folders: inside the wheel, or the top of a source checkout."""
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    bundled = os.path.join(here, "profiles_data")
    return bundled if os.path.isdir(bundled) else os.path.dirname(here)


def profile_dirs() -> dict:
    """Folders holding the shipped profiles, as Paths."""
    from pathlib import Path  # not at the top: estimate's start-up finds its profiles on strings

    root = Path(data_root())
    return {kind: root / folder for kind, folder in FOLDERS.items()}


def available(kind: str) -> list:
    """Names of the shipped profiles of one kind ('hardware' or 'network'), sorted."""
    return sorted(p.stem for p in profile_dirs()[kind].glob("*.yaml"))


def stem(path) -> str:
    """A file's name without its last suffix, as pathlib's `stem` reads it."""
    name = os.path.basename(str(path))
    i = name.rfind(".")
    return name[:i] if 0 < i < len(name) - 1 else name


def find_profile(kind: str, name_or_path: str, option: str) -> str:
    """The YAML file for a shipped profile name or a user's path (a file of that name here wins); a clear error
    if there is none."""
    shipped = os.path.join(data_root(), FOLDERS[kind], f"{name_or_path}.yaml")
    if (name_or_path and "/" not in name_or_path and not name_or_path.endswith((".yaml", ".yml"))
            and not os.path.exists(name_or_path) and os.path.isfile(shipped)):
        return shipped
    from pathlib import Path  # a user's path, read as before

    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists() or "/" in name_or_path:
        if not path.exists():
            raise PlmodelError("no such file", str(path))
        if not path.is_file():
            raise PlmodelError("is a folder, expected a YAML file", str(path))
        return str(path)
    raise PlmodelError(f"{option}: unknown {kind} profile {name_or_path!r}; expected one of "
                       f"{', '.join(available(kind))} or a path to a YAML file")


def relative_to_file(src: str, value: str) -> str:
    """A path named in a sweep file, relative to that file's folder (a shipped name stays as it is)."""
    from pathlib import Path  # a sweep's file names, not a command's start-up

    path = Path(value)
    if path.is_absolute() or not (path.suffix in (".yaml", ".yml", ".json") or "/" in value):
        return value
    return str(Path(src).resolve().parent / path)


def read_mapping(path) -> dict:
    """Parse a YAML file (a str or Path) with the safe loader and insist on a mapping at the top."""
    try:
        with open(path) as f:
            data = yaml.load(f.read(), Loader=SAFE_LOADER)
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
            import difflib  # an unknown key's did-you-mean: errors only

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
