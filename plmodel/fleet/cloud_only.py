"""Cloud-only serving on the same engine: continuous batching (Orca, vLLM). Each iteration runs the
whole model once for every running sequence (one decode token each) and for admitted prompts, whole
or in chunks of at most `chunk_tokens` (chunked prefill, Sarathi); new requests join and finished
ones leave between iterations. The device only sends its prompt and receives tokens, half an RTT
each way. One event an iteration."""

from __future__ import annotations

from dataclasses import dataclass

from plmodel.fleet.costs import ends_part, layer_part, mix_of, parts_cost, rates
from plmodel.link import hold_s

#: Bytes a token id takes on the wire (a 32-bit integer).
TOKEN_ID_BYTES = 4


@dataclass(frozen=True)
class BatchingSpec:
    max_batch: int = 256  # most sequences an iteration (vLLM's max_num_seqs)
    chunk_tokens: int | None = None  # most prompt tokens an iteration; None: whole prompts


class CloudOnlyServer:
    def __init__(self, loop, front, gpu, engine, link, spec: BatchingSpec, *, scn):
        self.loop, self.front, self.gpu, self.link, self.spec = loop, front, gpu, link, spec
        self.parts = [(layer_part(scn), float(scn.model.n_layers)), (ends_part(scn), 1.0)]
        self.hidden_bytes = scn.model.d_model * scn.adapter.act_bits / 8
        self.rates = rates(engine)
        self.running, self.waiting = [], []  # decoding; admitted prompts not yet (fully) run
        self.idle = True

    def lead_s(self, prompt: int) -> float:
        """From send to the cloud: the prompt's token ids up and half an RTT (s)."""
        return hold_s(prompt * TOKEN_ID_BYTES, 1, self.link.d2c_bps, self.link) + self.link.rtt_s / 2

    def enter(self, req) -> None:
        self.waiting.append(req)
        if self.idle:
            self.dispatch()

    def compose(self) -> tuple:
        """(mix, [(request, prompt tokens run)], tokens) of the next iteration."""
        mix, tokens = mix_of(), 0
        run = self.running[:self.spec.max_batch]
        for m in run:
            mix[0] += 1
            mix[1] += m.context
        tokens += len(run)
        budget = self.spec.chunk_tokens or float("inf")
        chunks = []
        for req in self.waiting:
            if len(run) + len(chunks) >= self.spec.max_batch or budget <= 0:
                break
            c = int(min(req.prompt - req.prefilled, budget))
            mix[2] += c
            mix[3] += c * (req.prefilled + c)  # the chunk's queries against every key so far (the full square)
            mix[4] += c == req.prompt - req.prefilled
            chunks.append((req, c))
            budget -= c
            tokens += c
        return mix, run, chunks, tokens

    def dispatch(self) -> None:
        if not self.idle or not (self.running or self.waiting):
            return
        mix, run, chunks, tokens = self.compose()
        total, accel, host = parts_cost(self.parts, self.rates, mix, self.hidden_bytes)
        self.idle = False
        self.gpu.record(self.loop.now, total, accel, host, len(run) + len(chunks), tokens)
        self.loop.at(self.loop.now + total, self.finished, run, chunks)

    def finished(self, run: list, chunks: list) -> None:
        at = self.loop.now + self.link.rtt_s / 2
        front, done = self.front, set()
        for m in run:
            m.context += 1
            if front.delivered(m, at):
                done.add(m.id)
        for req, c in chunks:
            req.prefilled += c
            if req.prefilled == req.prompt:
                self.waiting.remove(req)
                req.context = req.prompt
                if not front.delivered(req, at):
                    self.running.append(req)
        if done:
            self.running = [m for m in self.running if m.id not in done]
        front.on_tokens(len(run) + sum(1 for req, _ in chunks if req.prefilled == req.prompt))
        self.idle = True  # only now: requests admitted above wait for this iteration's end to be composed
        self.dispatch()
