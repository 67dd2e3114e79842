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

from plmodel import accounting
from plmodel.link import hold_s, lognormal_sigma, mean_slowdown
from plmodel.route import layer_plan, route, trips
from plmodel.step import Step
from plmodel.workload import cloud_layer_indices, stages

#: Draws of a jitter lognormal taken from the generator at a time.
DRAW_BLOCK = 8192


class Draws:
    """A lognormal's draws, taken from the generator a block at a time (one numpy call a block, not
    one a batch) and handed out in order as plain floats; or a constant where the link has no such jitter."""

    def __init__(self, rng, params, constant: float):
        self.rng, self.params, self.constant = rng, params, constant
        self.block, self.used = [], 0

    def next(self) -> float:
        if self.params is None:
            return self.constant
        if self.used == len(self.block):
            self.block, self.used = self.rng.lognormal(*self.params, size=DRAW_BLOCK).tolist(), 0
        self.used += 1
        return self.block[self.used - 1]


class Trips:
    """Trip times (s) of sequences: `stage(k, tokens, n)` and `token(n)` return a list of n draws
    (identical without jitter) for sequences carrying `tokens` tokens through this trip."""

    def __init__(self, scn, rng):
        acc = accounting.realistic()
        self.scn, self.rng = scn, rng
        self.link = acc.link(scn.link)
        self._pieces = lru_cache(maxsize=4096)(lambda phase, t: acc.pieces(scn, Step(phase, 1, t)).as_floats())
        j, b = self.link.jitter, self.link.bandwidth_jitter
        self.delay = Draws(rng, (math.log(j.median_s), lognormal_sigma(j.median_s, j.p99_s)) if j else None, 0.0)
        self.slow = Draws(rng, (math.log(b.median_factor), lognormal_sigma(b.median_factor, b.p99_factor))
                          if b else None, 1.0)
        self.jittered = bool(j or b)
        self._terms = {}  # (stage or -1 for the token trip, tokens) -> (down wire s, up wire s, fixed s)

    def pieces(self, tokens: int, context: int = 1):
        """The pieces of one sequence carrying `tokens` tokens (1: a decode token at `context` cached
        tokens; more: a prefill)."""
        return self._pieces("decode", context) if tokens == 1 else self._pieces("prefill", tokens)

    def legs(self, k: int, tokens: int, context: int = 1) -> tuple:
        """(bytes down, bytes up, device s) of a trip, cut from the route of one sequence's step (route.trips):
        stage k's round trip, or (k = -1) the token trip, the end of one pass (the last hidden state down,
        the device's ends) and the start of the next (its embeddings up)."""
        p = self.pieces(tokens, context)
        runs = trips(route(p, self._plan(p)))
        if k >= 0:
            down, dev, up = runs[1 + k]
            return down.value, up.value, dev.value
        (_, up), (_, down, dev) = runs[0], runs[-1]
        return down.value, up.value, dev.value

    def _plan(self, p) -> list:
        """The cloud's layers with the round trips of each (route.layer_plan)."""
        a, model = self.scn.adapter, self.scn.model
        return layer_plan(cloud_layer_indices(model, a), p.adapted, len(stages(a.targets)))

    def _trip_terms(self, k: int, tokens: int, context: int = 1) -> tuple:
        """(down wire s, up wire s, the rest s) of a trip: link.hold_s split so a draw of each message's
        slowdown multiplies its wire time; the rest is the RTT, both messages' software time and the device."""
        key = (k, tokens, context)
        if key not in self._terms:
            ln = self.link
            down, up, dev = self.legs(k, tokens, context)
            wire_down = hold_s(down, 1, ln.c2d_bps, ln) - ln.message_s
            wire_up = hold_s(up, 1, ln.d2c_bps, ln) - ln.message_s
            self._terms[key] = (wire_down, wire_up, ln.rtt_s + 2 * ln.message_s + dev)
        return self._terms[key]

    def expected_s(self, k: int, tokens: int = 1, context: int = 1) -> float:
        """A trip (stage k, or -1 the token trip) with each message's slowdown at its mean and no extra
        delay (s): what the closed forms count."""
        down, up, rest = self._trip_terms(k, tokens, context)
        return (down + up) * mean_slowdown(self.link) + rest

    def _trips(self, k: int, tokens: int, n: int, context: int = 1) -> list:
        down, up, rest = self._trip_terms(k, tokens, context)
        if not self.jittered:
            return [down + up + rest] * n
        d, s = self.delay.next, self.slow.next
        return [down * s() + up * s() + rest + d() + d() for _ in range(n)]

    def stage(self, k: int, tokens: int, n: int = 1) -> list:
        """Round trips of stage k for n sequences of `tokens` tokens each (s)."""
        return self._trips(k, tokens, n)

    def token(self, contexts: list) -> list:
        """Token trips of decoding sequences at these contexts (s): down, LM head and next embedding,
        up. The device's work depends on the context only where it holds decoder layers (their KV)."""
        if not self.scn.adapter.split.on_device:
            return self._trips(-1, 1, len(contexts))
        return [t for c in contexts for t in self._trips(-1, 1, 1, c)]

    def arrival(self, prompt_tokens: int) -> float:
        """From a request's send to its embeddings at the cloud (s): the device's two ends of
        the prefill step (embedding the prompt; the LM head of its first token is counted here too) and
        the prompt's embeddings up, half an RTT."""
        p, ln = self.pieces(prompt_tokens), self.link
        return p.device_ends_s + hold_s(p.up_bytes, 1, ln.d2c_bps, ln) + ln.rtt_s / 2 + self._one_way_extra()

    def first_token(self, prompt_tokens: int) -> float:
        """From the prefill's last batch to the first token on the device (s): its hidden state down (one
        token's, or every prompt token's where the device holds the last layers)."""
        p, ln = self.pieces(prompt_tokens), self.link
        return hold_s(p.down_bytes, 1, ln.c2d_bps, ln) + ln.rtt_s / 2 + self._one_way_extra()

    def prefill_down_extra_s(self, prompt_tokens: int) -> float:
        """How much longer a prefill's hidden state takes to come down than a decode token's (s): 0 unless
        the device holds the last layers (then every prompt token's comes down)."""
        ln = self.link
        return (hold_s(self.pieces(prompt_tokens).down_bytes, 1, ln.c2d_bps, ln)
                - hold_s(self.pieces(1).down_bytes, 1, ln.c2d_bps, ln))

    def down_s(self) -> float:
        """A decoded token's hidden state down to the device, without jitter (s): where a token is
        stamped as delivered within its token trip."""
        p, ln = self.pieces(1), self.link
        return hold_s(p.down_bytes, 1, ln.c2d_bps, ln) + ln.rtt_s / 2

    def _one_way_extra(self) -> float:
        """One message's extra delay (s): a draw where the link jitters, else 0."""
        return self.delay.next()
