"""Sets of decoder layers: as people write them ('all', or indices and ranges like '0-15,20'), and the partition
of a model's layers between the device and the cloud (`LayerSplit`)."""

from __future__ import annotations

from plmodel.bounds import LIMITS, require_positive
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen


@frozen
class LayerSplit:
    """Which decoder layers the device runs: the first `first` and the last `last`; the cloud runs those between.

    The paper's split is LayerSplit() (the cloud runs every decoder layer). A design supplies any other
    (design.Design.layer_split); the workload counts (workload.py) and the torch reference read it."""

    first: int = 0
    last: int = 0

    def __post_init__(self):
        for key in ("first", "last"):
            require_positive(f"split.{key}", getattr(self, key), integer=True, allow_zero=True, maximum=LIMITS["layers"])

    @property
    def on_device(self) -> int:
        """How many decoder layers the device runs."""
        return self.first + self.last

    def cloud_range(self, n_layers: int) -> range:
        """Indices of the layers the cloud runs in a model of `n_layers` layers."""
        return range(self.first, int(n_layers) - self.last)

    def device_ranges(self, n_layers: int) -> tuple:
        """(indices the device runs before the cloud's, indices it runs after them)."""
        return range(self.first), range(int(n_layers) - self.last, int(n_layers))


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
