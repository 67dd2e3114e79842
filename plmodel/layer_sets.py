"""A set of decoder layers as people write it: 'all', or indices and ranges like '0-15,20'."""

from __future__ import annotations

from plmodel.errors import PlmodelError


def parse_layers(text) -> tuple | None:
    """'all' -> None (every layer the cloud runs); '0-3,7' or 7 -> (0, 1, 2, 3, 7); a bad text raises
    PlmodelError (without a field: the caller names its option or key)."""
    if isinstance(text, int) and not isinstance(text, bool):
        return (text,)
    if str(text).strip().lower() == "all":
        return None
    out = []
    try:
        for part in str(text).split(","):
            lo, _, hi = part.strip().partition("-")
            out.extend(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise PlmodelError(f"expected 'all' or indices like 0-15,20, got {text!r}") from None
    if not out:
        raise PlmodelError(f"no layer in {text!r}")
    return tuple(out)


def layer_text(layers) -> str:
    """The inverse: None -> 'all'; (0, 1, 2, 3, 7) -> '0-3,7'."""
    if layers is None:
        return "all"
    parts, run = [], [layers[0], layers[0]]
    for i in list(layers[1:]) + [None]:
        if i is not None and i == run[1] + 1:
            run[1] = i
            continue
        parts.append(str(run[0]) if run[0] == run[1] else f"{run[0]}-{run[1]}")
        if i is not None:
            run = [i, i]
    return ",".join(parts)
