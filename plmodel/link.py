"""The link formula, once: the time a message holds a link direction and the delay it travels.

A message of `nbytes` payload holds its direction for (payload + framing) x 8 / bandwidth, times a
slowdown factor where the link's bandwidth jitters, plus the software time to send and receive it;
then it travels for the one-way latency (RTT / 2) plus a jitter, without holding the link. The
closed form, the simulation and the testbed's pacer all time messages with these functions.
"""

from __future__ import annotations

import math

from plmodel.units import BITS_PER_BYTE

#: z of the 99th percentile of a standard normal: a lognormal's sigma from its median and p99.
Z99 = 2.3263478740408408


def wire_s(nbytes, bandwidth_bps):
    """Seconds `nbytes` bytes (framing included) occupy a link of `bandwidth_bps` bit/s."""
    return nbytes * BITS_PER_BYTE / bandwidth_bps


def hold_s(nbytes, messages, bandwidth_bps, link, slowdown=1.0):
    """Seconds `messages` messages carrying `nbytes` payload in all hold a direction of `link`:
    payload and framing on the wire (times `slowdown`) plus each message's software time."""
    return wire_s(nbytes + messages * link.frame_bytes, bandwidth_bps) * slowdown + messages * link.message_s


def lognormal_sigma(median: float, p99: float) -> float:
    """sigma of a lognormal given its median and 99th percentile."""
    return math.log(p99 / median) / Z99


def lognormal_mean(median: float, p99: float) -> float:
    """Mean of a lognormal given its median and 99th percentile: median x exp(sigma^2 / 2)."""
    return median * math.exp(lognormal_sigma(median, p99) ** 2 / 2)


def mean_extra_delay_s(link) -> float:
    """Expected extra one-way delay of a message (s): the jitter's mean, 0 without jitter."""
    j = link.jitter
    return lognormal_mean(j.median_s, j.p99_s) if j else 0.0


def mean_slowdown(link) -> float:
    """Expected serialisation slowdown factor of a message: the bandwidth jitter's mean, 1 without."""
    b = link.bandwidth_jitter
    return lognormal_mean(b.median_factor, b.p99_factor) if b else 1.0
