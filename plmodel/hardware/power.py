"""Power figures of a device and of a radio technology: validated specs, SI units (W, J, s).

A device draws `active_w` on top of its baseline while it computes, and `baseline_w` (screen on, app
open) for as long as its user waits for an answer; its battery holds `battery_wh`. A radio is idle,
promoting (idle to connected: `promotion_s` at `promotion_w`, which also delays the first message
after a long idle), connected (`connected_w` plus an energy per megabit each way), and, from
`inactivity_s` after its last packet, in its tail (`tail_w` for `tail_s`) before it is idle again.
"""

from __future__ import annotations

from dataclasses import field

from plmodel.frozen import frozen
from plmodel.specs import require_positive


@frozen
class DevicePower:
    """A device's power while it computes and while its user waits, and its battery (W, Wh)."""

    active_w: float  # extra power of the SoC while it computes, above the baseline
    baseline_w: float  # the whole device while its user waits (screen on, app open)
    battery_wh: float
    source: str = field(default="", compare=False)

    def __post_init__(self):
        for key in ("active_w", "baseline_w", "battery_wh"):
            require_positive(key, getattr(self, key), maximum=1e5)

    @property
    def battery_j(self) -> float:
        return self.battery_wh * 3600.0


@frozen
class RadioSpec:
    """A radio's power model: connected power, energy a megabit each way, and the inactivity tail and promotion (W, J, s)."""

    name: str
    connected_w: float  # radio power while connected, at negligible throughput
    j_per_mbit_up: float  # extra energy a megabit sent (W per Mbit/s, integrated)
    j_per_mbit_down: float
    inactivity_s: float  # connected this long after the last packet, then the tail
    tail_s: float
    tail_w: float
    promotion_s: float
    promotion_w: float
    idle_w: float = 0.0
    source: str = field(default="", compare=False)

    def __post_init__(self):
        for key in ("connected_w", "j_per_mbit_up", "j_per_mbit_down", "inactivity_s", "tail_s", "tail_w",
                    "promotion_s", "promotion_w", "idle_w"):
            require_positive(key, getattr(self, key), allow_zero=True, maximum=1e4)
