"""Binary framing of tensors on the wire (no pickle): a 12-byte header, the shape, raw float32.

Header (network byte order): magic b"PL", kind (u8), stage (u8), layer (i16), ndim (u8), pad (u8),
payload length (u32); then ndim u32 dimensions; then the payload. Every frame here carries a
3-d tensor (batch, tokens, width), so its overhead is 12 + 3 x 4 = 24 bytes.
"""

from __future__ import annotations

import socket
import struct
import time

import numpy as np

from ..errors import PlmodelError

HEADER = struct.Struct("!2sBBhBxI")
MAGIC = b"PL"
HIDDEN, STAGE, CLOSE, PING = 1, 2, 3, 4  # a hidden state at an end of the stack, an adapter stage, the end, a probe
NDIM = 3
FRAME_OVERHEAD_BYTES = HEADER.size + 4 * NDIM


def encode(kind: int, layer: int, stage: int, array: np.ndarray) -> bytes:
    """One frame; `array` is sent as float32 (batch, tokens, width)."""
    a = np.ascontiguousarray(array, dtype=np.float32)
    if a.ndim != NDIM:
        raise ValueError(f"frames carry {NDIM}-d tensors, got shape {a.shape}")
    payload = a.tobytes()
    return HEADER.pack(MAGIC, kind, stage, layer, NDIM, len(payload)) + struct.pack("!3I", *a.shape) + payload


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
    """A socket whose reads poll (see recv_exact) and whose writes block, each bounded by timeout_s."""

    def __init__(self, sock: socket.socket, timeout_s: float):
        self.sock, self.timeout_s = sock, timeout_s
        sock.setblocking(False)

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
    """(kind, layer, stage, array, frame bytes) of the next frame."""
    head = recv_exact(sock, HEADER.size, peer)
    magic, kind, stage, layer, ndim, size = HEADER.unpack(head)
    if magic != MAGIC or ndim != NDIM:
        raise PlmodelError(f"testbed: malformed frame from the {peer} process")
    dims = struct.unpack("!3I", recv_exact(sock, 4 * ndim, peer))
    payload = recv_exact(sock, size, peer) if size else b""
    array = np.frombuffer(payload, dtype=np.float32).reshape(dims)
    return kind, layer, stage, array, HEADER.size + 4 * ndim + size
