"""A user: one device with its own link, serving one request (prompt, then generated tokens) in
lockstep for its batch of sequences, with every layer waiting for its own round trips."""

from __future__ import annotations

from dataclasses import dataclass

from plmodel.frozen import frozen
from plmodel.sim.pipelined import prefill


@frozen
class Request:
    """What a user asks: `batch` sequences of `prompt_tokens` tokens, then `tokens` generated tokens, each step
    walking `routes(phase, batch, context)`, its route (route.py; shared by the users that take the same step)."""

    routes: object
    batch: int
    prompt_tokens: int
    tokens: int
    on_token: object = None  # called after each generated token (progress), or None
    tpot: object = None  # metrics.Reservoir shared by the users: every decode step's time a token
    per_pass: float = 1.0  # tokens a decode pass yields a sequence (speculative decoding: the expectation)
    prefill_routes: list | None = None  # a pipelined prefill: each chunk's route (pipelined.py); None: one step


@dataclass
class UserStats:
    name: str
    arrival_s: float = 0.0
    ttft_s: float = 0.0
    prefill_s: float = 0.0
    tpot_count: int = 0  # decode steps, and their summed time: running summaries, no per-token list
    tpot_sum_s: float = 0.0
    done_s: float = 0.0
    device_busy_s: float = 0.0


class User:
    """Runs `tokens` generated tokens: the first ends the prefill, the others are decode steps."""

    def __init__(self, env, name, cloud, links: tuple, request: Request, trace):
        self.env, self.cloud, (self.up, self.down), self.trace = env, cloud, links, trace
        self.routes, self.batch = request.routes, request.batch
        self.prompt_tokens, self.tokens, self.on_token = request.prompt_tokens, request.tokens, request.on_token
        self.tpot, self.per_pass, self.prefill_routes = request.tpot, request.per_pass, request.prefill_routes
        self.stats = UserStats(name)
        self.meter = None  # radio.RadioMeter of this device, when the link has a radio

    def device_work(self, seconds: float, label: str):
        start = self.env.now
        yield self.env.timeout(seconds)
        self.stats.device_busy_s += seconds
        self.trace.add(self.stats.name, "device", label, start, seconds)

    def step(self, phase: str, context: int):
        """One forward step: its route (route.py) walked segment by segment, the GPU's segments batched with
        other users' by their (phase, layer, stage)."""
        b = self.batch
        for seg in self.routes(phase, b, context):
            kind = seg.kind
            if kind == "cloud":
                yield self.cloud.submit((phase, *seg.key), b, context, seg.value)
            elif kind == "device" and seg.value:  # (a whole step counts the device's ends at its end: 0 s first)
                yield from self.device_work(seg.value, seg.label)
            elif kind in ("c2d", "d2c"):
                yield from (self.down if kind == "c2d" else self.up).send(seg.value, seg.label, phase)
            elif kind == "wait" and seg.value:  # a chain of servers forwards the hidden state between them
                yield self.env.timeout(seg.value)

    def run(self, arrival_s: float):
        env, s = self.env, self.stats
        if arrival_s > env.now:
            yield env.timeout(arrival_s - env.now)
        s.arrival_s = env.now
        if self.prefill_routes:
            yield from prefill(self, self.prefill_routes)
        else:
            yield from self.step("prefill", self.prompt_tokens)
        s.prefill_s = s.ttft_s = env.now - s.arrival_s
        tick = self.on_token or (lambda: None)
        tick()
        done, per_pass = 1.0, self.per_pass
        while done < self.tokens - 1e-9:  # a pass yields per_pass tokens a sequence (more than one: speculative)
            start = env.now
            yield from self.step("decode", self.prompt_tokens + int(done) - 1)
            step_s = (env.now - start) / per_pass
            s.tpot_count += 1
            s.tpot_sum_s += step_s
            self.tpot.add(step_s)
            for _ in range(int(done + per_pass + 1e-9) - int(done + 1e-9)):
                tick()
            done += per_pass
        s.done_s = env.now
