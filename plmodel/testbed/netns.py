"""Where the cloud process runs: on loopback (shaping in the senders), or in a network namespace the
testbed creates for itself, behind a veth pair whose two ends carry a tbf qdisc (kernel shaping of
bandwidth; the delay stays in the senders, since this kernel has no netem)."""

from __future__ import annotations

import contextlib
import os
import subprocess

from plmodel.errors import PlmodelError
from plmodel.frozen import frozen


@frozen
class Network:
    cloud_host: str
    cloud_prefix: list  # command prefix that runs a process on the cloud's side


def _ip(*args: str) -> None:
    res = subprocess.run(args, capture_output=True, text=True)
    if res.returncode:
        raise PlmodelError(f"testbed: --shaping tbf needs root and network namespaces here; "
                           f"`{' '.join(args)}` failed: {res.stderr.strip() or res.returncode}")


def tbf_burst_bytes(rate_bps: float) -> int:
    """The bucket: at least 10 ms of traffic at the rate (a kernel tick), and never below 16 KiB."""
    return max(16384, int(rate_bps / 8 / 100))


@contextlib.contextmanager
def shaped_network(shaping: str, c2d_bps: float, d2c_bps: float):
    """Yield where to run the cloud; with tbf, build and always remove the namespace and veth pair."""
    if shaping == "app":
        yield Network("127.0.0.1", [])
        return
    if shaping != "tbf":
        raise PlmodelError(f"--shaping: expected app or tbf, got {shaping!r}")
    tag = f"{os.getpid() % 100000}"
    ns, host_if, ns_if = f"plmodel{tag}", f"plh{tag}", f"pln{tag}"
    octet = os.getpid() % 250 + 1
    host_ip, ns_ip = f"10.203.{octet}.1", f"10.203.{octet}.2"
    created = []
    try:
        _ip("ip", "netns", "add", ns)
        created.append(("ip", "netns", "del", ns))
        _ip("ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        created.append(("ip", "link", "del", host_if))
        _ip("ip", "link", "set", ns_if, "netns", ns)
        _ip("ip", "addr", "add", f"{host_ip}/30", "dev", host_if)
        _ip("ip", "link", "set", host_if, "up")
        for cmd in (("ip", "addr", "add", f"{ns_ip}/30", "dev", ns_if), ("ip", "link", "set", ns_if, "up"),
                    ("ip", "link", "set", "lo", "up")):
            _ip("ip", "netns", "exec", ns, *cmd)
        # device -> cloud leaves the host end; cloud -> device leaves the namespace end
        _ip("tc", "qdisc", "add", "dev", host_if, "root", "tbf", "rate", f"{int(d2c_bps)}bit",
            "burst", str(tbf_burst_bytes(d2c_bps)), "latency", "2s")
        _ip("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", ns_if, "root", "tbf", "rate", f"{int(c2d_bps)}bit",
            "burst", str(tbf_burst_bytes(c2d_bps)), "latency", "2s")
        yield Network(ns_ip, ["ip", "netns", "exec", ns])
    finally:
        for cmd in reversed(created):
            subprocess.run(cmd, capture_output=True)
