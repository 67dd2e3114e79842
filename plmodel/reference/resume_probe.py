"""Measure compute after a wait (resume.py): a decode layer's time right after a round trip to a peer
process on another core that held its answer for w, against the same layers back to back.

The two processes ping-pong a few bytes over TCP on loopback, each polling as the testbed's ends do; the
peer spins for w before it answers. Needs two CPUs and fork (Linux, macOS); elsewhere there is no
curve and the profile says so.
"""

from __future__ import annotations

import os
import socket
import statistics
import time

import torch

from plmodel.errors import PlmodelError
from plmodel.hardware.resume import ResumeSpec
from plmodel.reference.model import KVCache
from plmodel.reference.stacks import keep_context, run_layers, stack_over_cache

#: The waits the curve is measured at (s): back to back over a socket, then up to a slow link's RTT.
WAITS_S = (0.0, 0.001, 0.003, 0.005, 0.01, 0.02, 0.05)
WIDTH = 512  # the layer timed: the middle of calibrate's bandwidth fit, the testbed model's width


def _poll(sock: socket.socket, buf: bytearray) -> int:
    while True:
        try:
            return sock.recv_into(buf, len(buf))
        except BlockingIOError:
            pass


def _peer(sock: socket.socket, cpu: int) -> None:
    """The child: answer each message after spinning the microseconds it names; exit when the parent closes."""
    try:
        os.sched_setaffinity(0, {cpu})
        sock.setblocking(False)
        buf = bytearray(4)
        while _poll(sock, buf) == 4:
            due = time.perf_counter() + int.from_bytes(buf, "little") * 1e-6
            while time.perf_counter() < due:
                pass
            sock.send(buf)
    finally:
        os._exit(0)


def _stepper(cache_bytes: int):
    """A function running the next layer of a stack twice `cache_bytes` (one token, 32 in the KV cache)."""
    layers, cache = stack_over_cache(WIDTH, cache_bytes), KVCache()
    run_layers(layers, torch.randn(1, 32, WIDTH), cache)
    x, positions, state = torch.randn(1, 1, WIDTH), torch.arange(32, 33), {"i": 0}

    def step() -> None:
        with torch.no_grad():
            layers[state["i"]](x, positions, cache, None)
        state["i"] = (state["i"] + 1) % len(layers)
        if state["i"] == 0:
            keep_context(cache)
    return step


def measure(cache_bytes: int, repeats: int = 5) -> tuple:
    """(((wait s, slowdown), ...) of a d = 512 layer after a round trip, or None; why not, or "")."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) < 2 or not hasattr(os, "fork"):
        return None, "it needs two CPUs and fork"
    curve = _curve(cache_bytes, repeats, cpus)
    try:  # the bounds a profile's curve must keep
        ResumeSpec(*zip(*curve))
    except PlmodelError:
        return None, f"the machine was too noisy: slowdowns {', '.join(f'{f:.2f}' for _, f in curve)}"
    return curve, ""


def _curve(cache_bytes: int, repeats: int, cpus: list) -> tuple:
    step, (ours, theirs) = _stepper(cache_bytes), _tcp_pair()
    before = os.sched_getaffinity(0)
    pid = os.fork()
    if pid == 0:
        ours.close()
        _peer(theirs, cpus[1])
    theirs.close()
    try:
        os.sched_setaffinity(0, {cpus[0]})
        ours.setblocking(False)
        return tuple((w, _slowdown(step, ours, w, repeats)) for w in WAITS_S)
    finally:
        ours.close()
        os.waitpid(pid, 0)
        os.sched_setaffinity(0, before)


def _tcp_pair() -> tuple:
    """Two ends of a TCP connection on loopback, no Nagle delay: the transport of the testbed and of a real split."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        a = socket.create_connection(server.getsockname())
        b, _ = server.accept()
    for s in (a, b):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return a, b


def _slowdown(step, sock, wait_s: float, repeats: int) -> float:
    """Median time of `step` right after a round trip to the peer that held `wait_s`, over its median back
    to back (a stack's worth of steps, the first two left out); the two alternate, so drift cancels."""
    buf, after, steady = bytearray(4), [], []
    rounds = max(4 + 2 * repeats, int(0.05 * repeats / (wait_s + 0.002)))
    for _ in range(rounds):
        for _ in range(4):
            sock.send(int(wait_s * 1e6).to_bytes(4, "little"))
            _poll(sock, buf)
            t0 = time.perf_counter()
            step()
            after.append(time.perf_counter() - t0)
        for k in range(8):
            t0 = time.perf_counter()
            step()
            if k >= 2:
                steady.append(time.perf_counter() - t0)
    return statistics.median(after[4:]) / statistics.median(steady)
