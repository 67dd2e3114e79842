"""Bounds on inputs and the check every spec field goes through: finite, positive, not absurd."""

from __future__ import annotations

import math

import numpy as np

from plmodel.errors import PlmodelError


def shown(value) -> str:
    """A value as an error message shows it: an integer too long to read (or to print) by its digit count."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    return repr(value)


def too_large(value) -> bool:
    """An integer beyond any float (math.isfinite would overflow on it)."""
    return isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1000


def require_positive(name: str, value, *, integer: bool = False, allow_zero: bool = False,
                     maximum: float | None = None) -> None:
    """Raise PlmodelError (field `name`) unless `value` is a finite positive number (an integer where asked) no
    larger than `maximum`, a bound that catches absurd input before it runs; an array is checked value by value."""
    if isinstance(value, np.ndarray):  # all at once; the first bad value is then checked alone, for its message
        a = value.astype(float)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(a) & (a > 0 if not allow_zero else a >= 0)
            ok &= (a <= maximum) if maximum is not None else True
            ok &= (a == np.floor(a)) if integer else True
        if not ok.all():
            v = a[~ok].flat[0]
            require_positive(name, int(v) if integer and float(v).is_integer() else float(v), integer=integer,
                             allow_zero=allow_zero, maximum=maximum)
            raise PlmodelError(f"must be a number, got {v!r}", field=name)  # not reached: the check above raises
        return
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        kind = "an integer" if integer else "a number"
        raise PlmodelError(f"must be {kind}, got {shown(value)}", field=name)
    if too_large(value) or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise PlmodelError(f"must be finite and {bound}, got {shown(value)}", field=name)
    if maximum is not None and value > maximum:
        raise PlmodelError(f"must be at most {maximum:g}, got {shown(value)}", field=name)


#: Bounds on inputs, far beyond any real system, that stop absurd values (SI units).
LIMITS = {"layers": 10_000, "width": 10_000_000, "batch": 1_000_000, "tokens": 10_000_000,
          "bandwidth_bps": 1e15, "rtt_s": 3600.0, "bytes": 1e15, "flop_per_s": 1e19, "tokens_per_s": 1e9}
#: Bounds on a simulation's size: generated tokens a request and users.
SIM_LIMITS = {"tokens": 100_000, "users": 10_000}
