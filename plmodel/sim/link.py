"""One direction of the network: a FIFO that a message holds for bytes/bandwidth (serialisation),
then a one-way latency it travels without holding it (propagation), like SimPy's latency example."""

from __future__ import annotations

import math

import simpy

#: z of the 99th percentile of a standard normal: a lognormal's sigma from its median and p99.
Z99 = 2.3263478740408408


class Jitter:
    """Draws from a lognormal given by its median and p99: an extra one-way delay (s), or a
    serialisation slowdown factor."""

    def __init__(self, median: float, p99: float, rng):
        self.mu = math.log(median)
        self.sigma = math.log(p99 / median) / Z99
        self.rng = rng

    def sample(self) -> float:
        return float(self.rng.lognormal(self.mu, self.sigma))


class Link:
    """A link direction: serialisation holds it (FIFO), propagation does not.

    FIFO by arrival: a message starts when the link is free (`free_at`), so one timeout per message
    covers its wait, its serialisation and its propagation.
    """

    def __init__(self, env: simpy.Environment, name: str, bandwidth_bps: float, one_way_s: float, trace,
                 process: str, jitter: Jitter | None = None, slowdown: Jitter | None = None,
                 frame_bytes: float = 0.0, message_s: float = 0.0):
        self.env, self.name, self.trace, self.process = env, name, trace, process
        self.frame_bytes, self.message_s = frame_bytes, message_s
        self.bandwidth_bps, self.one_way_s, self.jitter, self.slowdown = bandwidth_bps, one_way_s, jitter, slowdown
        self.free_at = 0.0
        self.busy_s = 0.0
        self.bytes = {"prefill": 0.0, "decode": 0.0}
        self.messages = 0

    def send(self, nbytes: float, label: str, phase: str):
        """Process: the message is delivered when this generator returns."""
        now = self.env.now
        start = self.free_at if self.free_at > now else now
        wire = (nbytes + self.frame_bytes) * 8 / self.bandwidth_bps
        ser = wire * (self.slowdown.sample() if self.slowdown else 1.0) + self.message_s
        self.free_at = start + ser
        self.busy_s += ser
        self.bytes[phase] += nbytes
        self.messages += 1
        delay = self.one_way_s + (self.jitter.sample() if self.jitter else 0.0)
        if self.trace.enabled:
            self.trace.add(self.process, self.name, label, start, ser + delay, bytes=nbytes)
        yield self.env.timeout(start - now + ser + delay)
