"""A forward step: what one pass through the model processes, the unit every count and time is of.

Prefill processes `batch` sequences of `context_tokens` prompt tokens; decode generates one token for
each of `batch` sequences whose KV cache holds `context_tokens` tokens (or, verifying a speculative
draft, runs `positions` positions of each at once, reading the KV cache once). Logits are computed for
`logit_tokens` tokens: by default one a sequence (its last), which is what generation needs; the
paper's accounting asks for every token of a prefill. Numeric fields may be numpy arrays (a grid).
"""

from __future__ import annotations

from dataclasses import replace

from plmodel.errors import PlmodelError
from plmodel.frozen import frozen

PHASES = ("prefill", "decode")
#: privatelora: ranks on the wire (A and B on the cloud, M on the device); lora: the split-LoRA
#: baseline that ships each adapted projection's full input down and its full output up.
TRANSPORTS = ("privatelora", "lora")


@frozen
class Step:
    """One forward step (counts in tokens; `batch` and `context_tokens` may be arrays)."""

    phase: str
    batch: object = 1
    context_tokens: object = 128
    logit_tokens: object = None  # None: one a sequence (in decode, one a position)
    transport: str = "privatelora"
    positions: int = 1  # decode: positions a sequence runs at once (speculative verification: k drafted + 1)
    past_tokens: object = 0  # prefill: prompt tokens before this chunk, whose KV cache it reads (pipelined.py)

    def __post_init__(self):
        if self.phase not in PHASES:
            raise PlmodelError(f"must be prefill or decode, got {self.phase!r}", field="phase")
        if self.transport not in TRANSPORTS:
            raise PlmodelError(f"must be privatelora or lora, got {self.transport!r}", field="transport")
        if self.positions != 1 and self.phase != "decode":
            raise PlmodelError("a prefill runs its prompt; positions are for decode", field="positions")
        if self.phase != "prefill" and self.past_tokens != 0:
            raise PlmodelError("past tokens are a prefill chunk's; decode reads its context", field="past_tokens")
        if self.logit_tokens is None:
            object.__setattr__(self, "logit_tokens", self.batch * self.positions)

    @property
    def tokens(self):
        """T: tokens the step processes (batch x prompt in prefill, batch x positions in decode)."""
        return self.batch * self.context_tokens if self.phase == "prefill" else self.batch * self.positions

    def all_logits(self) -> "Step":
        """The same step with logits for every token it processes (the paper's prefill)."""
        return replace(self, logit_tokens=self.tokens)

    def lora(self) -> "Step":
        """The same step shipping full hidden states (the split-LoRA baseline)."""
        return replace(self, transport="lora")
