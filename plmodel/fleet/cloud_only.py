"""Cloud-only serving on the same engine: continuous batching (Orca, vLLM). Each iteration runs the
whole model once for the sequences a scheduler picks; new requests join and finished ones leave between
iterations. The device only sends its prompt and receives tokens, half an RTT each way. One event an
iteration.

Schedulers (`BatchingSpec.scheduler`):
- prefill-first: while admitted prompts wait, an iteration runs them whole and nothing else; decoding
  sequences wait for it (vLLM before chunked prefill, its default scheduler until v0.6);
- chunked: a token budget an iteration, decodes first, then prompt chunks in what is left (Sarathi-Serve,
  vLLM's chunked prefill).
KV memory (`BatchingSpec.kv`, the split server's too): paged (vLLM's PagedAttention: blocks of
`block_tokens`, a request takes blocks as its context grows; when a decoding sequence finds none free, the
latest admitted request is preempted, recomputed or swapped as `preemption` says: paging.py) or reserve
(prompt plus output reserved at admission).
Host time: the runtime's per-iteration and per-sequence scheduling and sampling time, added to the GPU's.
"""

from __future__ import annotations

from plmodel.errors import PlmodelError
from plmodel.fleet.costs import batch_cost, ends_part, layer_part, mix_of, rates
from plmodel.fleet.paging import PREEMPTIONS, with_copies
from plmodel.frozen import frozen
from plmodel.link import hold_s

#: Bytes a token id takes on the wire (a 32-bit integer).
TOKEN_ID_BYTES = 4
SCHEDULERS = ("prefill-first", "chunked")
KV_POLICIES = ("paged", "reserve")
#: The token budget of an iteration with chunked prefill when none is given: vLLM's max_num_batched_tokens
#: with chunked prefill on (512, vLLM 0.4-0.5 EngineArgs), Sarathi-Serve's small budget.
CHUNK_TOKENS = 512


@frozen
class BatchingSpec:
    """How the cloud-only server batches: continuous batching's limits, scheduler and KV memory (vLLM's defaults)."""

    max_batch: int = 256  # most sequences an iteration and requests admitted (vLLM's max_num_seqs)
    chunk_tokens: int | None = None  # chunked: tokens an iteration (decodes and prompt chunks); None: CHUNK_TOKENS
    scheduler: str = "prefill-first"
    kv: str = "paged"
    block_tokens: int = 16  # paged: tokens a KV block (vLLM's default block size)
    watermark: float = 0.01  # paged: share of the KV blocks admission leaves free (vLLM's default)
    preemption: str = "recompute"  # paged: recompute or swap (paging.py)

    def __post_init__(self):
        if self.scheduler not in SCHEDULERS:
            raise PlmodelError(f"expected one of {', '.join(SCHEDULERS)}, got {self.scheduler!r}", field="scheduler")
        if self.kv not in KV_POLICIES:
            raise PlmodelError(f"expected one of {', '.join(KV_POLICIES)}, got {self.kv!r}", field="kv")
        if self.preemption not in PREEMPTIONS:
            raise PlmodelError(f"expected one of {', '.join(PREEMPTIONS)}, got {self.preemption!r}", field="preemption")
        if self.preemption != "recompute" and self.kv != "paged":
            raise PlmodelError(f"swap preempts paged KV only, got --kv {self.kv}", field="preemption")
        if self.chunk_tokens is not None and self.scheduler != "chunked":
            raise PlmodelError(f"a token budget only with the chunked scheduler, got {self.scheduler}", field="chunk_tokens")

    @property
    def budget(self) -> float:
        """Tokens an iteration (inf: prefill-first runs whole prompts)."""
        return (self.chunk_tokens or CHUNK_TOKENS) if self.scheduler == "chunked" else float("inf")


class CloudOnlyServer:
    def __init__(self, loop, front, gpu, engine, link, spec: BatchingSpec, *, scn):
        self.loop, self.front, self.gpu, self.link, self.spec = loop, front, gpu, link, spec
        self.parts = [(layer_part(scn), float(scn.model.n_layers)), (ends_part(scn), 1.0)]
        self.hidden_bytes = scn.model.d_model * scn.adapter.act_bits / 8
        self.rates, self.runtime = rates(engine), engine.runtime
        self.running, self.waiting = [], []  # decoding; admitted prompts not yet (fully) run
        self.idle = True
        self.pager = None  # paged KV: a paging.Pager (set by serve)

    def lead_s(self, prompt: int) -> float:
        """From send to the cloud: the prompt's token ids up and half an RTT (s)."""
        return hold_s(prompt * TOKEN_ID_BYTES, 1, self.link.d2c_bps, self.link) + self.link.rtt_s / 2

    def room(self) -> bool:
        """Whether another request may be admitted (max_batch sequences at once)."""
        return len(self.running) + len(self.waiting) < self.spec.max_batch

    def enter(self, req) -> None:
        if self.pager is not None and self.pager.swap_in(req):  # back from host memory: it decodes on
            self.running.append(req)
        else:
            self.waiting.append(req)
        if self.idle:
            self.dispatch()

    def iteration_s(self, mix: list, sequences: int) -> tuple:
        """(seconds, accelerator seconds, host seconds) of an iteration: the GPU's parts and the host's
        scheduling and sampling."""
        return batch_cost(self.parts, self.rates, mix, self.hidden_bytes, self.runtime, sequences)

    def compose(self) -> tuple:
        """(mix, decoding members, [(request, prompt tokens run)], tokens) of the next iteration."""
        mix, budget, chunks = mix_of(), self.spec.budget, []
        run = [] if self.waiting and self.spec.scheduler == "prefill-first" else self.running[:self.spec.max_batch]
        run = run[:int(min(len(run), budget))]
        for m in run:
            mix[0] += 1
            mix[1] += m.context
        budget -= len(run)
        for req in self.waiting:
            if budget <= 0:
                break
            c = int(min(req.todo - req.prefilled, budget))
            mix[2] += c
            mix[3] += c * (req.prefilled + c)  # the chunk's queries against every key so far (the full square)
            mix[4] += c == req.todo - req.prefilled
            chunks.append((req, c))
            budget -= c
        return mix, run, chunks, len(run) + sum(c for _, c in chunks)

    def latest(self):
        """The latest admitted request, out of this server's lists (waiting prompts first, then decoding; None
        when none is left): the one paged KV preempts; it waits again in the Front's queue."""
        victim = self.waiting.pop() if self.waiting else (self.running.pop() if self.running else None)
        if victim is not None:
            self.front.requeue(victim)
        return victim

    def dispatch(self) -> None:
        if not self.idle:
            return
        if self.pager is not None and self.running:
            self.pager.grow(self.running, self.latest, self.loop.now)
        if not (self.running or self.waiting):
            return
        mix, run, chunks, tokens = self.compose()
        total, accel, host = with_copies(self.pager, *self.iteration_s(mix, len(run) + len(chunks)))
        self.idle = False
        self.gpu.record(self.loop.now, total, accel, host, len(run) + len(chunks), tokens)
        self.loop.at(self.loop.now + total, self.finished, run, chunks)

    def finished(self, run: list, chunks: list) -> None:
        at = self.loop.now + self.link.rtt_s / 2
        front, done, tokens = self.front, set(), len(run)
        for m in run:
            m.context += 1
            if front.delivered(m, at):
                done.add(m.id)
        for req, c in chunks:
            req.prefilled += c
            if req.prefilled == req.todo:
                self.waiting.remove(req)
                req.context = req.todo
                tokens += 1
                if not front.delivered(req, at):
                    self.running.append(req)
        if done:
            self.running = [m for m in self.running if m.id not in done]
        front.on_tokens(tokens)
        self.idle = True  # only now: requests admitted above wait for this iteration's end to be composed
        self.front.admit()
        self.dispatch()
