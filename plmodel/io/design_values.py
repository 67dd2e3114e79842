"""A design parameter's value as a person writes it (a CLI option, a sweep key) -> the value the design takes:
numbers checked for their kind, models resolved, network profiles and placement files loaded. Errors name
the option or key (`where`)."""

from __future__ import annotations

import math

from plmodel.errors import PlmodelError
from plmodel.io.placements import load_placement
from plmodel.io.profiles import load_link, relative_to_file
from plmodel.models import resolve_model


def resolve(param, raw, where: str, src: str | None = None):
    """The value of `param` (design.Param) written as `raw`; `src`: the file it was written in (relative paths)."""
    if raw is None:
        return None
    here = (lambda v: relative_to_file(src, str(v))) if src else str
    if param.kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise PlmodelError(f"{where}: expected an integer, got {raw!r}")
        return raw
    if param.kind == "float":
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
            raise PlmodelError(f"{where}: expected a number, got {raw!r}")
        return float(raw) if isinstance(raw, float) else raw
    try:
        if param.kind == "model":
            return resolve_model(here(raw))
        if param.kind == "network":
            return load_link(here(raw), where)
        return load_placement(here(raw), where)
    except PlmodelError as exc:
        raise PlmodelError(exc.message if exc.message.startswith(where) else f"{where}: {exc.message}") from None


def resolve_all(cls, raw: dict, where_of, src: str | None = None) -> dict:
    """{param name: value} of a design class from raw values (defaults where absent); `where_of(param)` names
    the option or key in errors. A network is loaded only where the design is asked for."""
    out = {}
    for p in cls.params:
        value = raw.get(p.name, p.default)
        if p.kind == "network" and not _asked(cls, raw):
            out[p.name] = None
            continue
        out[p.name] = resolve(p, value, where_of(p), src)
    return out


def _asked(cls, raw: dict) -> bool:
    """Whether any parameter of the design differs from its default (a network then matters)."""
    return any(raw.get(p.name, p.default) != p.default for p in cls.params if p.kind != "network")
