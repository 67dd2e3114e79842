"""A placement file -> (designs.placement.Placement, the link between its servers); every error names the file
and the key. The format is in designs/placement.py."""

from __future__ import annotations

from plmodel.designs.placement import Placement, Server
from plmodel.errors import PlmodelError
from plmodel.io.files import available, profile_dirs
from plmodel.io.profiles import check_keys, load_hardware, load_link, read_mapping, relative_to_file

SCHEMA = {"servers": True, "server_network": False}
SERVER_SCHEMA = {"layers": True, "cloud": True}


def parse_range(text, where: str) -> tuple:
    """'0-39' or [0, 39] (inclusive) or 7 -> (start, stop)."""
    try:
        if isinstance(text, list) and len(text) == 2:
            lo, hi = (int(x) for x in text)
        elif isinstance(text, int) and not isinstance(text, bool):
            lo = hi = text
        else:
            lo_s, _, hi_s = str(text).partition("-")
            lo, hi = int(lo_s), int(hi_s or lo_s)
    except (TypeError, ValueError):
        raise PlmodelError(f'{where}: expected a range like 0-39, got {text!r}') from None
    if not 0 <= lo <= hi:
        raise PlmodelError(f'{where}: expected first <= last, both >= 0, got {text!r}')
    return lo, hi + 1


def placement_file(name_or_path: str, option: str):
    """A placement YAML (a Path): the file named, or where there is none, a shipped placement by name (placements/)."""
    from pathlib import Path  # only where a placement is given: not at start-up

    p = Path(name_or_path)
    if p.is_file():
        return p
    shipped = profile_dirs()["placements"] / f"{name_or_path}.yaml"
    if "/" not in name_or_path and p.suffix not in (".yaml", ".yml") and shipped.is_file():
        return shipped
    raise PlmodelError(f"{option}: no such file {name_or_path!r}; the shipped placements: "
                       f"{', '.join(available('placements'))}")


def load_placement(path: str, option: str = "--placement") -> tuple:
    """(Placement, the server link's LinkSpec) from a placement YAML; every error names the file and key."""
    p = placement_file(path, option)
    src = str(p)
    data = read_mapping(p)
    check_keys(data, SCHEMA, src)
    servers = data["servers"]
    if not isinstance(servers, list) or not servers or not all(isinstance(s, dict) for s in servers):
        raise PlmodelError('field "servers": expected a list of mappings with layers and cloud', src)
    out = []
    for i, s in enumerate(servers):
        check_keys(s, SERVER_SCHEMA, src, f"servers[{i}].")
        start, stop = parse_range(s["layers"], f'{src}: field "servers[{i}].layers"')
        try:
            hw = load_hardware(relative_to_file(src, str(s["cloud"])), f'{src}: field "servers[{i}].cloud"')
        except PlmodelError as exc:
            raise PlmodelError(exc.message if exc.message.startswith(src) else f'{src}: {exc.message}') from None
        out.append(Server(start, stop, hw))
    link = load_link(relative_to_file(src, str(data.get("server_network", "datacenter"))),
                     f'{src}: field "server_network"')
    return Placement(tuple(out), src), link
