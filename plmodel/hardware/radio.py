"""The radio as a state machine over the device's own transmissions: idle, promotion, connected, tail.

`RadioMeter` is fed the device's transmission windows in time order (the simulation calls it as
messages are sent and received; the closed form feeds it a step's timeline) and integrates time and
energy in each state; the states' times sum to the wall time it has seen. Pure Python, no SimPy.
"""

from __future__ import annotations

from plmodel.hardware.power import RadioSpec

STATES = ("idle", "promotion", "connected", "tail")


class RadioMeter:
    """Time (s) and energy (J) of one device's radio in each state, from its transmissions."""

    def __init__(self, radio: RadioSpec, start_s: float = 0.0):
        self.radio, self.now = radio, start_s
        self.last_end = None  # end of the last transmission; None: idle since the start
        self.time_s = dict.fromkeys(STATES, 0.0)
        self.energy_j = dict.fromkeys(STATES, 0.0)
        self.data_j = 0.0  # the per-megabit energy, counted in the connected state
        self.delay_s = 0.0  # promotions that delayed a transmission

    def _spend(self, state: str, seconds: float) -> None:
        if seconds > 0:
            self.time_s[state] += seconds
            self.energy_j[state] += seconds * {"idle": self.radio.idle_w, "promotion": self.radio.promotion_w,
                                               "connected": self.radio.connected_w, "tail": self.radio.tail_w}[state]

    def _coast(self, until_s: float) -> None:
        """From `now` to `until_s` with no traffic: connected, then tail, then idle."""
        r, t = self.radio, self.now
        if self.last_end is None:
            self._spend("idle", until_s - t)
        else:
            connected_end = self.last_end + r.inactivity_s
            tail_end = connected_end + r.tail_s
            for state, end in (("connected", connected_end), ("tail", tail_end), ("idle", until_s)):
                step = min(until_s, end) - t
                if step > 0:
                    self._spend(state, step)
                    t += step
        self.now = max(self.now, until_s)

    def idle_before(self, start_s: float) -> bool:
        """Whether a transmission at `start_s` finds the radio idle (it must promote first)."""
        r = self.radio
        return self.last_end is None or start_s >= self.last_end + r.inactivity_s + r.tail_s

    def on_transmission(self, start_s: float, end_s: float, direction: str, nbytes: float) -> None:
        """The device sends (d2c) or receives (c2d) `nbytes` during [start_s, end_s]; windows in time order.
        From idle the radio first promotes for `promotion_s`, ending at `start_s`; the part of it that
        does not fit between the previous moment seen and `start_s` is a delay (`delay_s`) that lengthens
        the wall time (the first round trip after a long idle)."""
        r = self.radio
        last = self.last_end
        if last is not None and self.now <= start_s <= last + r.inactivity_s:  # the usual case: still connected
            dt = end_s - self.now
            self.time_s["connected"] += dt
            self.energy_j["connected"] += dt * r.connected_w
            self.now = self.last_end = end_s
            self.data_j += nbytes * 8e-6 * (r.j_per_mbit_up if direction == "d2c" else r.j_per_mbit_down)
            return
        if self.idle_before(start_s):  # idle until the promotion begins; what does not fit before start delays it
            self._coast(max(self.now, start_s - r.promotion_s))
            self.delay_s += max(0.0, r.promotion_s - (start_s - self.now))
            self._spend("promotion", r.promotion_s)
            self.now = start_s
        else:
            self._coast(start_s)
        self._spend("connected", end_s - self.now)
        self.now, self.last_end = max(self.now, end_s), max(end_s, self.last_end or end_s)
        per_mbit = r.j_per_mbit_up if direction == "d2c" else r.j_per_mbit_down
        self.data_j += nbytes * 8e-6 * per_mbit

    def close(self, end_s: float) -> None:
        """Account up to `end_s` (tail and idle after the last transmission included)."""
        self._coast(end_s)

    @property
    def total_j(self) -> float:
        return sum(self.energy_j.values()) + self.data_j

    @property
    def state_s(self) -> float:
        """Time in all states: the wall time seen plus the promotion delays."""
        return sum(self.time_s.values())
