"""What happens off the GPU for one sequence between two of its batches: the round trip of a stage
(x.A down, M on the device, the result up) or the token trip at the end of a pass (the last hidden
state down, the LM head and the next token's embedding on the device, its embedding up).

Each device has its own link and waits for its own messages, so a trip is the realistic closed form's
round trip for that sequence: both messages' hold time (payload, framing, software time), the
device's work, the RTT and, where the link jitters, a draw of each message's extra delay and
serialisation slowdown (the simulation's lognormals). Times come from the realistic accounting's
pieces of a one-sequence step, so a trip is exactly what `estimate` counts for it.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .. import accounting
from ..link import hold_s, lognormal_sigma
from ..step import Step


class Trips:
    """Trip times (s) of sequences: `stage(k, tokens, n)` and `token(n)` return an array of n draws
    (identical without jitter) for sequences carrying `tokens` tokens through this trip."""

    def __init__(self, scn, rng):
        acc = accounting.realistic()
        self.scn, self.rng = scn, rng
        self.link = acc.link(scn.link)
        self._pieces = lru_cache(maxsize=4096)(lambda phase, t: acc.pieces(scn, Step(phase, 1, t)).as_floats())
        j, b = self.link.jitter, self.link.bandwidth_jitter
        self.delay = (math.log(j.median_s), lognormal_sigma(j.median_s, j.p99_s)) if j else None
        self.slow = (math.log(b.median_factor), lognormal_sigma(b.median_factor, b.p99_factor)) if b else None
        self.jittered = bool(j or b)

    def pieces(self, tokens: int):
        """The pieces of one sequence carrying `tokens` tokens (1: a decode token; more: a prefill)."""
        return self._pieces("decode", 1) if tokens == 1 else self._pieces("prefill", tokens)

    def _draws(self, n: int):
        """(extra delay of each of 2 messages, slowdown of each) for n sequences, or zeros and ones."""
        delay = self.rng.lognormal(*self.delay, size=(n, 2)) if self.delay else np.zeros((n, 2))
        slow = self.rng.lognormal(*self.slow, size=(n, 2)) if self.slow else np.ones((n, 2))
        return delay, slow

    def _messages(self, down_bytes, up_bytes, n):
        """Seconds of one message down and one up for n sequences: hold times, RTT and extra delays."""
        ln = self.link
        if not self.jittered:
            t = hold_s(down_bytes, 1, ln.c2d_bps, ln) + hold_s(up_bytes, 1, ln.d2c_bps, ln) + ln.rtt_s
            return np.full(n, t)
        delay, slow = self._draws(n)
        return (hold_s(down_bytes, 1, ln.c2d_bps, ln, slow[:, 0]) + hold_s(up_bytes, 1, ln.d2c_bps, ln, slow[:, 1])
                + ln.rtt_s + delay.sum(axis=1))

    def stage(self, k: int, tokens: int, n: int = 1):
        """Round trips of stage k for n sequences of `tokens` tokens each (s)."""
        p = self.pieces(tokens)
        return self._messages(p.stage_c2d_bytes[k], p.stage_d2c_bytes[k], n) + p.stage_device_s[k]

    def token(self, n: int = 1):
        """Token trips for n decoding sequences (s): down, LM head and next embedding, up."""
        p = self.pieces(1)
        return self._messages(p.down_bytes, p.up_bytes, n) + p.device_ends_s

    def arrival(self, prompt_tokens: int) -> float:
        """From a request's send to its embeddings at the cloud (s): the device's two ends of
        the prefill step (embedding the prompt; the LM head of its first token is counted here too) and
        the prompt's embeddings up, half an RTT."""
        p, ln = self.pieces(prompt_tokens), self.link
        return p.device_ends_s + hold_s(p.up_bytes, 1, ln.d2c_bps, ln) + ln.rtt_s / 2 + self._one_way_extra()

    def first_token(self) -> float:
        """From the prefill's last batch to the first token on the device (s): its hidden state down."""
        p, ln = self.pieces(2), self.link  # a prefill sends one token's hidden state down, whatever its length
        return hold_s(p.down_bytes, 1, ln.c2d_bps, ln) + ln.rtt_s / 2 + self._one_way_extra()

    def down_s(self) -> float:
        """A decoded token's hidden state down to the device, without jitter (s): where a token is
        stamped as delivered within its token trip."""
        p, ln = self.pieces(1), self.link
        return hold_s(p.down_bytes, 1, ln.c2d_bps, ln) + ln.rtt_s / 2

    def _one_way_extra(self) -> float:
        """One message's extra delay (s): a draw where the link jitters, else 0."""
        return float(self.rng.lognormal(*self.delay)) if self.delay else 0.0
