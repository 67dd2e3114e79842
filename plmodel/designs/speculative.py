"""Speculative decoding with a draft model on the device (Leviathan et al. 2023, "Fast Inference from
Transformers via Speculative Decoding"): the device drafts k tokens with a small model, then one pass
through the split stack verifies all k + 1 positions at once - one chain of round trips for several
tokens. With each drafted token accepted independently with probability alpha, a pass yields
(1 - alpha^(k+1)) / (1 - alpha) tokens on average (the paper's equation 1).

The draft runs on the device at its own weight bits (`--draft-bits`, 4 by default: a 1B draft is served
quantised) and the device's runtime; its k decode steps a pass, its weights and KV cache are counted on the
device. It must share the target's tokenizer (same vocabulary). The acceptance is assumed: 0.7 is the
optimistic end for an undistilled pair (Llama-3.2-1B for Llama-3.1-8B measured 71-72 %, llama.cpp #5877
and a tt-metal demo; a 7B draft for LLaMA-2-70B 36 %, llama.cpp #2926; vLLM logs 64 %); `plan` tries 0.5
and 0.7 (docs/designs/speculative.md). The same draft verified by the whole model on the device is
device-only's yardstick (analysis/baselines.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from plmodel.design import Design, Param
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.hardware.engine import engines, modelled_stack_s
from plmodel.models import PRESETS, parameter_count
from plmodel.step import Step
from plmodel.vectors import as_float
from plmodel.workload import bytes_per_weight

#: Drafted tokens a pass plmodel takes (beyond ~16 the acceptance of the last is negligible).
MAX_DRAFT_TOKENS = 16
#: Draft presets `plan` tries, where they share the target's vocabulary.
DRAFTS = ("tinyllama-1.1b", "llama-3.2-1b")
#: Acceptances `plan` tries: the published range's middle and its optimistic end for an undistilled draft.
ACCEPTANCES = (0.5, 0.7)
#: The acceptance's plausible range (`--uncertainty` samples it): a 7B draft for LLaMA-2-70B 36 % (llama.cpp #2926)
#: to Llama-3.2-1B for Llama-3.1-8B 72 % (llama.cpp #5877, tt-metal 71.3 %).
ACCEPTANCE_RANGE = (0.36, 0.72)


@frozen
class Speculative(Design):
    """A draft model on the device proposes `tokens` tokens a pass; the split stack verifies them at once."""

    model: object  # ModelSpec of the draft model
    tokens: int = 4  # k: tokens drafted a pass
    acceptance: float = 0.7  # alpha: each drafted token's chance to be accepted (assumed unless measured)
    bits: int = 4  # the draft's weight bits

    name: ClassVar[str] = "speculative"
    title: ClassVar[str] = "speculative decoding (a draft model on the device)"
    summary: ClassVar[str] = "the device drafts k tokens with a small model; one split pass verifies them"
    params: ClassVar[tuple] = (
        Param("draft_model", "--draft-model", "model", None, "draft model preset (e.g. tinyllama-1.1b for LLaMA-2, "
              "llama-3.2-1b for LLaMA-3) or config.json; it must share the target's tokenizer", metavar="MODEL"),
        Param("draft_tokens", "--draft-tokens", "int", 4, "k: tokens drafted a verification pass", "tokens"),
        Param("acceptance", "--acceptance", "float", 0.7, "alpha: each drafted token's chance to be accepted "
              "(0.7 assumed, the optimistic end for an undistilled draft; 0.36-0.72 published; measure it for your "
              "pair)", "probability"),
        Param("draft_bits", "--draft-bits", "int", 4, "the draft model's weight bits on the device", "bits"),
    )

    def __post_init__(self):
        if isinstance(self.tokens, bool) or not isinstance(self.tokens, int) or not 1 <= self.tokens <= MAX_DRAFT_TOKENS:
            raise PlmodelError(f"expected an integer from 1 to {MAX_DRAFT_TOKENS}, got {self.tokens!r}",
                               field="draft_tokens")
        if not 0 <= self.acceptance <= 1:
            raise PlmodelError(f"expected a probability from 0 to 1, got {self.acceptance!r}", field="acceptance")
        if isinstance(self.bits, bool) or not isinstance(self.bits, int) or not 1 <= self.bits <= 16:
            raise PlmodelError(f"expected an integer from 1 to 16, got {self.bits!r}", field="draft_bits")

    @classmethod
    def from_values(cls, values: dict):
        if values.get("draft_model") is None:
            return None
        return cls(values["draft_model"], values.get("draft_tokens", 4), values.get("acceptance", 0.7),
                   values.get("draft_bits", 4))

    @classmethod
    def variants(cls, scn) -> list:
        """A 4-bit draft of 4 tokens from each draft preset that shares the target's vocabulary, at the two ends
        of the acceptance's range (0.5 and 0.7, assumed)."""
        return [(f"{name} drafts 4 (a={a:g})", cls(PRESETS[name], 4, a)) for name in DRAFTS for a in ACCEPTANCES
                if PRESETS[name].vocab_size == scn.model.vocab_size]

    def columns(self) -> dict:
        return {"draft_model": self.model.name, "draft_tokens": self.tokens, "acceptance": self.acceptance,
                "draft_bits": self.bits}

    def inputs(self) -> dict:
        return {**self.columns(), "tokens_per_pass": self.tokens_per_pass()}

    def check(self, scn) -> None:
        """The draft shares the target's tokenizer."""
        target = scn.model
        if self.model.vocab_size != target.vocab_size:
            raise PlmodelError(f"{self.model.name} has a vocabulary of {self.model.vocab_size:,}, {target.name} one "
                               f"of {target.vocab_size:,}: a draft must share the target's tokenizer",
                               field="draft_model")

    def tokens_per_pass(self) -> float:
        """Expected tokens a verification pass yields: (1 - a^(k+1)) / (1 - a); k + 1 at a = 1."""
        a, k = self.acceptance, self.tokens
        return float(k + 1) if a == 1 else (1 - a ** (k + 1)) / (1 - a)

    def decode_step(self, scn, step: Step) -> Step:
        """The decode step that verifies a draft: k + 1 positions a sequence, logits at each."""
        k = self.tokens
        return Step("decode", step.batch, step.context_tokens, step.batch * (k + 1), step.transport, k + 1)

    def pieces(self, scn, step, base):
        """A decode step is a verification pass: k + 1 positions, the draft's k steps on the device, and the
        expected tokens it yields."""
        if step.phase != "decode" or step.positions != 1:
            return base(step)
        p = base(self.decode_step(scn, step))
        return replace(p, tokens=step.tokens * self.tokens_per_pass(),
                       device_ends_s=p.device_ends_s + self.draft_s(scn, step))

    def draft_s(self, scn, step: Step):
        """Device seconds of drafting k tokens for the step's sequences (the draft's decode steps at its bits)."""
        device = engines(scn)[1]
        one = modelled_stack_s(device, self.model, Step("decode", step.batch, step.context_tokens),
                               (self.bits, scn.adapter.act_bits), True)
        return self.tokens * one

    def device_s(self, scn, step):
        """The draft's k steps, added to a decode step (device-only's yardstick with the same draft)."""
        return self.draft_s(scn, step) if step.phase == "decode" and step.positions == 1 else 0.0

    def device_bytes(self, scn):
        """Device memory of the draft: its weights at the draft's bits and its KV cache for the context."""
        m, a = self.model, scn.adapter
        kv = scn.batch * scn.prompt_tokens * 2 * m.n_kv_heads * m.head_dim * m.n_layers * a.act_bits / 8
        return as_float(parameter_count(m) * bytes_per_weight(self.bits) + kv)  # an array if vectorised
