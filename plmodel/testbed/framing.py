"""Binary framing of tensors on the wire (no pickle): a 12-byte header, a due time, the shape, raw float32.

Header (network byte order): magic b"PL", kind (u8), stage (u8), layer (i16), ndim (u8), pad (u8),
payload length (u32); then the frame's due time (f64, seconds of the shared monotonic clock: when a
link of the session's bandwidth and latency would deliver it, 0 for at once); then ndim u32
dimensions; then the payload. Every frame here carries a 3-d tensor (batch, tokens, width), so its
overhead is 12 + 8 + 3 x 4 = 32 bytes. The receiver holds a frame until its due time (pacing.py): the
delay line runs in the thread that waits for the frame anyway, not in a second thread that would
have to win the core and the GIL back from it.
"""

from __future__ import annotations

import socket
import struct
import time

import numpy as np

from plmodel.errors import PlmodelError

HEADER = struct.Struct("!2sBBhBxI")
DUE = struct.Struct("!d")
MAGIC = b"PL"
HIDDEN, STAGE, CLOSE, PING = 1, 2, 3, 4  # a hidden state at an end of the stack, an adapter stage, the end, a probe
NDIM = 3
FRAME_OVERHEAD_BYTES = HEADER.size + DUE.size + 4 * NDIM


def encode(kind: int, layer: int, stage: int, array: np.ndarray) -> bytes:
    """One frame; `array` is sent as float32 (batch, tokens, width)."""
    a = np.ascontiguousarray(array, dtype=np.float32)
    if a.ndim != NDIM:
        raise ValueError(f"frames carry {NDIM}-d tensors, got shape {a.shape}")
    payload = a.tobytes()
    return (HEADER.pack(MAGIC, kind, stage, layer, NDIM, len(payload)) + DUE.pack(0.0) + struct.pack("!3I", *a.shape)
            + payload)


def with_due(frame: bytes, due: float) -> bytes:
    """The frame with its due time set."""
    out = bytearray(frame)
    DUE.pack_into(out, HEADER.size, due)
    return bytes(out)


def close_frame() -> bytes:
    return encode(CLOSE, -1, 0, np.zeros((1, 1, 0), np.float32))


def recv_exact(sock: socket.socket, n: int, peer: str) -> bytes:
    """n bytes from the socket, or the tool's error if the peer is gone or silent.

    On a non-blocking socket this polls (a busy wait that keeps the core awake, as low-latency
    servers do: an idle virtual CPU is slow to wake); the socket's timeout still bounds the wait.
    """
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    timeout = sock.gettimeout()
    deadline = time.perf_counter() + timeout if timeout else None
    while got < n:
        try:
            k = sock.recv_into(view[got:], n - got)
        except BlockingIOError:
            if deadline is not None and time.perf_counter() > deadline:
                raise PlmodelError(f"testbed: no data from the {peer} process within the timeout") from None
            continue
        except socket.timeout:
            raise PlmodelError(f"testbed: no data from the {peer} process within the timeout") from None
        except OSError as exc:
            raise PlmodelError(f"testbed: connection to the {peer} process failed ({exc.strerror or exc})") from None
        if k == 0:
            raise PlmodelError(f"testbed: the {peer} process closed the connection") from None
        got += k
    return bytes(buf)


class PollingSocket:
    """A socket whose reads poll (see recv_exact) and whose writes block, each bounded by timeout_s;
    `late_s` sums how long after their due times the frames it read arrived."""

    def __init__(self, sock: socket.socket, timeout_s: float, poll: bool = True):
        self.sock, self.timeout_s, self.poll = sock, timeout_s, poll
        self.late_s = 0.0
        if poll:
            sock.setblocking(False)
        else:  # several processes share a core (--devices): block and sleep, so that none starves the others
            sock.settimeout(timeout_s)

    def recv_into(self, view, n):
        return self.sock.recv_into(view, n)

    def gettimeout(self):
        return self.timeout_s

    def sendall(self, data: bytes) -> None:
        deadline = time.perf_counter() + self.timeout_s
        view = memoryview(data)
        while view:
            try:
                view = view[self.sock.send(view):]
            except BlockingIOError:
                if time.perf_counter() > deadline:
                    raise OSError("send timed out") from None


def read_frame(sock: socket.socket, peer: str):
    """(kind, layer, stage, array, frame bytes) of the next frame, returned at its due time (the link's
    delivery; at once if it came later, which `late_s` counts)."""
    head = recv_exact(sock, HEADER.size + DUE.size, peer)
    magic, kind, stage, layer, ndim, size = HEADER.unpack_from(head)
    if magic != MAGIC or ndim != NDIM:
        raise PlmodelError(f"testbed: malformed frame from the {peer} process")
    (due,) = DUE.unpack_from(head, HEADER.size)
    dims = struct.unpack("!3I", recv_exact(sock, 4 * ndim, peer))
    payload = recv_exact(sock, size, peer) if size else b""
    array = np.frombuffer(payload, dtype=np.float32).reshape(dims)
    now = time.perf_counter()
    if due and now > due:
        if hasattr(sock, "late_s"):
            sock.late_s += now - due
    elif due:
        wait_until(due, getattr(sock, "poll", True))
    return kind, layer, stage, array, HEADER.size + DUE.size + 4 * ndim + size


def wait_until(due: float, spin: bool = True) -> None:
    """Hold until the monotonic clock reaches `due`, spinning: as the sockets poll, the core never idles
    (an idle virtual CPU wakes late, and slow: a sleeping receiver made the compute after a 20 ms wait
    twice as slow as calibrated, measured). Without `spin` (processes sharing a core), sleep."""
    if not spin:
        left = due - time.perf_counter()
        if left > 0:
            time.sleep(left)
        return
    while time.perf_counter() < due:
        pass
