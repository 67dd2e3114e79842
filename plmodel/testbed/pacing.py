"""Application-level network shaping in the sender: a pacer for bandwidth (each frame holds the link
for its bytes / rate, FIFO: a token bucket with no burst) and a delay line for the one-way latency.

A thread writes each frame to the socket at its delivery time, so the receiver sees it when a link
of that bandwidth and latency would deliver it: the same link model as plmodel's simulation. The
thread sleeps until just before the due time and spins for the rest: a plain sleep overshoots by
tenths of a millisecond here, an error that would grow with the number of messages.
"""

from __future__ import annotations

import queue
import socket
import threading
import time

from ..link import wire_s

SPIN_S = 0.0015  # the last 1.5 ms before a due time are spun, not slept


class PacedSender:
    """Sends frames on `sock` paced at `rate_bps` (None: unpaced) and delayed by `delay_s`."""

    def __init__(self, sock: socket.socket, rate_bps: float | None, delay_s: float):
        self.sock, self.rate_bps, self.delay_s = sock, rate_bps, delay_s
        self.free_at = 0.0
        self.bytes = 0
        self.frames = 0
        self.error: BaseException | None = None
        self.queue: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def send(self, frame: bytes, shaped: bool = True) -> None:
        """Queue a frame; `shaped=False` sends it at once and leaves it out of the counts (probes)."""
        if self.error:
            raise self.error
        now = time.perf_counter()
        if not shaped:
            self.queue.put((now, frame))
            return
        start = max(now, self.free_at)
        ser = wire_s(len(frame), self.rate_bps) if self.rate_bps else 0.0  # the frame holds its framing
        self.free_at = start + ser
        self.bytes += len(frame)
        self.frames += 1
        self.queue.put((start + ser + self.delay_s, frame))

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            due, frame = item
            wait = due - time.perf_counter()
            if wait > SPIN_S:
                time.sleep(wait - SPIN_S)
            while time.perf_counter() < due:
                pass
            try:
                self.sock.sendall(frame)
            except OSError as exc:
                self.error = exc
                return

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued, then stop the thread."""
        self.queue.put(None)
        self.thread.join(timeout)
