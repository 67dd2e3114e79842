"""Application-level network shaping: each frame is stamped with the time a link of the session's
bandwidth and latency would deliver it, and the receiver holds it until then (framing.read_frame).

The sender keeps the link's state: a frame holds its direction for bytes / rate after the previous
one (FIFO, a token bucket with no burst), then travels the one-way delay - the same link model as
plmodel's simulation. Frames leave at once; nothing waits in a second thread (which, on the one core a
testbed process has, would wait for the scheduler to give it back the core and the GIL: a third of a
millisecond a frame, measured, that no term of the model has).
"""

from __future__ import annotations

import socket
import time

from plmodel.errors import PlmodelError
from plmodel.link import wire_s
from plmodel.testbed.framing import PollingSocket, with_due


class PacedSender:
    """Sends frames on `sock` stamped for a link of `rate_bps` (None: the kernel shapes it, or nothing
    does) and a one-way `delay_s`, to the `peer` ("cloud", "device") that errors name."""

    def __init__(self, sock: socket.socket, rate_bps: float | None, delay_s: float, peer: str = "peer"):
        self.sock, self.rate_bps, self.delay_s, self.peer = sock, rate_bps, delay_s, peer
        self.free_at = 0.0
        self.bytes = 0
        self.frames = 0
        self.ser_s = 0.0  # serialisation charged to the shaped frames (their bytes / rate)

    def send(self, frame: bytes, shaped: bool = True) -> None:
        """Send a frame; `shaped=False` sends it due after the one-way delay alone (no serialisation, no
        queue) and leaves it out of the counts: probes, which wait like the session's frames do."""
        if not shaped:
            self.sock.sendall(with_due(frame, time.perf_counter() + self.delay_s) if self.delay_s else frame)
            return
        start = max(time.perf_counter(), self.free_at)
        ser = wire_s(len(frame), self.rate_bps) if self.rate_bps else 0.0  # the frame holds its framing
        self.free_at = start + ser
        self.bytes += len(frame)
        self.frames += 1
        self.ser_s += ser
        try:
            self.sock.sendall(with_due(frame, start + ser + self.delay_s))
        except OSError as exc:
            raise PlmodelError(f"testbed: sending to the {self.peer} process failed ({exc})") from None

    def close(self) -> None:
        """Nothing is queued: every frame left when it was sent."""


def link_end(raw: socket.socket, timeout_s: float, rate_bps: float | None, delay_s: float, peer: str,
             poll: bool = True) -> tuple:
    """(PollingSocket, PacedSender) of one end of a testbed connection to `peer`: no Nagle delay, reads
    that poll (or block, with `poll` False), frames stamped for a link of `rate_bps` and one-way `delay_s`."""

    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = PollingSocket(raw, timeout_s, poll)
    return conn, PacedSender(conn, rate_bps, delay_s, peer)
