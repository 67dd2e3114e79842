"""A measured curve in a hardware profile: a block of two equally long lists of numbers (resume.py,
decode_rows.py), read with one-line errors that name the block and the list."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from plmodel.errors import PlmodelError
from plmodel.frozen import frozen


def lists_from_mapping(data, block: str, keys: tuple, src: str) -> tuple:
    """The block's lists, as tuples of floats, in `keys`' order; one-line errors naming the field."""
    if not isinstance(data, dict) or set(data) != set(keys):
        raise PlmodelError(f'field "{block}": expected a mapping with {" and ".join(keys)} lists', src)
    lists = []
    for key in keys:
        v = data[key]
        if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            raise PlmodelError(f'field "{block}.{key}": expected a list of numbers, got {v!r}', src)
        lists.append(tuple(float(x) for x in v))
    return tuple(lists)


def check(block: str, names: tuple, xs: tuple, slowdowns: tuple, most: float, *, first=None, scale: float = 1.0) -> None:
    """A curve's points: as many slowdowns as `xs` (`names`: their lists' YAML names), `xs` finite, >= 0
    and increasing (from `first` if given; shown divided by `scale`), every slowdown from 0.5 to `most`."""
    if not xs or len(xs) != len(slowdowns) or (first is not None and xs[0] != first):
        start = "" if first is None else f", starting at {first:g}"
        raise PlmodelError(f"expected {names[0]} and {names[1]} lists of the same length{start}", field=block)
    if not all(math.isfinite(x) for x in xs) or xs[0] < 0 or any(b <= a for a, b in zip(xs, xs[1:])):
        raise PlmodelError(f"{names[0]}: expected increasing values >= 0, got {[x / scale for x in xs]}", field=block)
    if not all(0.5 <= s <= most for s in slowdowns):
        raise PlmodelError(f"{names[1]}: expected factors from 0.5 to {most:g}, got {list(slowdowns)}", field=block)


@frozen
class Curve:
    """A slowdown measured at increasing `x` (linear between the points, the end values beyond them).
    Subclasses name their YAML block and lists and bound their values."""

    x: tuple
    slowdown: tuple
    source: str = ""
    BLOCK: ClassVar[str] = ""
    KEYS: ClassVar[tuple] = ("x", "slowdown")
    MOST: ClassVar[float] = 10.0
    FIRST: ClassVar[float | None] = None
    SCALE: ClassVar[float] = 1.0  # SI units of x a YAML unit

    def __post_init__(self):
        check(self.BLOCK, self.KEYS, self.x, self.slowdown, self.MOST, first=self.FIRST, scale=self.SCALE)

    def at(self, x):
        """The slowdown at `x` (SI; a number or an array)."""
        return np.interp(x, self.x, self.slowdown)

    @classmethod
    def from_mapping(cls, data, src: str):
        """The profile's block (YAML units), or None; the curve's own errors named as the block."""
        if data is None:
            return None
        xs, slowdowns = lists_from_mapping(data, cls.BLOCK, cls.KEYS, src)
        try:
            return cls(tuple(v * cls.SCALE for v in xs), slowdowns, src)
        except PlmodelError as exc:
            raise PlmodelError(f'field "{cls.BLOCK}": {exc.message}', src) from None
