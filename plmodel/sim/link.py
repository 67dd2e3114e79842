"""One direction of the network: a FIFO that a message holds for bytes/bandwidth (serialisation),
then a one-way latency it travels without holding it (propagation), like SimPy's latency example."""

from __future__ import annotations

import math

import simpy

from plmodel.link import hold_s, lognormal_sigma


class Jitter:
    """Draws from a lognormal given by its median and p99: an extra one-way delay (s), or a
    serialisation slowdown factor."""

    def __init__(self, median: float, p99: float, rng):
        self.mu = math.log(median)
        self.sigma = lognormal_sigma(median, p99)
        self.rng = rng

    def sample(self) -> float:
        return float(self.rng.lognormal(self.mu, self.sigma))


class Link:
    """A link direction: serialisation holds it (FIFO), propagation does not.

    FIFO by arrival: a message starts when the link is free (`free_at`), so one timeout per message
    covers its wait, its serialisation and its propagation.
    """

    def __init__(self, env: simpy.Environment, spec, direction: str, trace, process: str, *, rng=None, meter=None):
        """`spec` is the LinkSpec as the accounting sees it, `direction` c2d or d2c; jitter draws come
        from `rng` when the spec has jitter; `meter` (radio.RadioMeter) sees the device's end of it."""
        self.env, self.spec, self.name, self.trace, self.process = env, spec, f"link {direction}", trace, process
        self.bandwidth_bps = spec.c2d_bps if direction == "c2d" else spec.d2c_bps
        self.one_way_s = spec.rtt_s / 2
        j, b = spec.jitter, spec.bandwidth_jitter
        self.jitter = Jitter(j.median_s, j.p99_s, rng) if j else None
        self.slowdown = Jitter(b.median_factor, b.p99_factor, rng) if b else None
        self.direction, self.meter = direction, meter
        self.free_at = 0.0
        self.busy_s = 0.0
        self.bytes = {"prefill": 0.0, "decode": 0.0}
        self.messages = 0

    def send(self, nbytes: float, label: str, phase: str):
        """Process: the message is delivered when this generator returns."""
        now = self.env.now
        start = self.free_at if self.free_at > now else now
        ser = hold_s(nbytes, 1, self.bandwidth_bps, self.spec, self.slowdown.sample() if self.slowdown else 1.0)
        self.free_at = start + ser
        self.busy_s += ser
        self.bytes[phase] += nbytes
        self.messages += 1
        delay = self.one_way_s + (self.jitter.sample() if self.jitter else 0.0)
        if self.meter is not None:  # the device's radio sends at once, or receives after the propagation
            at = start if self.direction == "d2c" else start + delay
            self.meter.on_transmission(at, at + ser, self.direction, nbytes)
        if self.trace.enabled:
            self.trace.add(self.process, self.name, label, start, ser + delay, bytes=nbytes)
        yield self.env.timeout(start - now + ser + delay)
