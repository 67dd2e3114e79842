"""Speculative decoding with a draft model on the device (Leviathan et al. 2023, "Fast Inference from
Transformers via Speculative Decoding"): the device drafts k tokens with a small model, then one pass
through the split stack verifies all k + 1 positions at once - one chain of round trips for several
tokens. With each drafted token accepted independently with probability alpha, a pass yields
(1 - alpha^(k+1)) / (1 - alpha) tokens on average (the paper's equation 1).

The draft runs on the device at the device's weight bits and runtime; its k decode steps a pass, its
weights and KV cache are counted on the device. It must share the target's tokenizer (same vocabulary).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PlmodelError
from .step import Step
from .vectors import as_float

#: Drafted tokens a pass plmodel takes (beyond ~16 the acceptance of the last is negligible).
MAX_DRAFT_TOKENS = 16


@dataclass(frozen=True)
class DraftSpec:
    model: object  # ModelSpec of the draft model
    tokens: int = 4  # k: tokens drafted a pass
    acceptance: float = 0.7  # alpha: each drafted token's chance to be accepted (assumed unless measured)

    def __post_init__(self):
        if isinstance(self.tokens, bool) or not isinstance(self.tokens, int) or not 1 <= self.tokens <= MAX_DRAFT_TOKENS:
            raise PlmodelError(f"expected an integer from 1 to {MAX_DRAFT_TOKENS}, got {self.tokens!r}",
                               field="draft_tokens")
        if not 0 <= self.acceptance <= 1:
            raise PlmodelError(f"expected a probability from 0 to 1, got {self.acceptance!r}", field="acceptance")

    def check(self, target) -> None:
        """The draft shares the target's tokenizer."""
        if self.model.vocab_size != target.vocab_size:
            raise PlmodelError(f"{self.model.name} has a vocabulary of {self.model.vocab_size:,}, {target.name} one "
                               f"of {target.vocab_size:,}: a draft must share the target's tokenizer",
                               field="draft_model")

    @property
    def tokens_per_pass(self) -> float:
        """Expected tokens a verification pass yields: (1 - a^(k+1)) / (1 - a); k + 1 at a = 1."""
        a, k = self.acceptance, self.tokens
        return float(k + 1) if a == 1 else (1 - a ** (k + 1)) / (1 - a)


def verification(scn, step: Step) -> Step:
    """The decode step that verifies a draft: k + 1 positions a sequence, logits at each."""
    k = scn.draft.tokens
    return Step("decode", step.batch, step.context_tokens, step.batch * (k + 1), step.transport, k + 1)


def draft_s(scn, step: Step):
    """Device seconds of drafting k tokens for the step's sequences (the draft's decode steps)."""
    from .engine import engines, modelled_stack_s

    device = engines(scn)[1]
    bits = (scn.adapter.device_weight_bits, scn.adapter.act_bits)
    one = modelled_stack_s(device, scn.draft.model, Step("decode", step.batch, step.context_tokens), bits, True)
    return scn.draft.tokens * one


def draft_bytes(scn) -> float:
    """Device memory of the draft: its weights at the device's bits and its KV cache for the context."""
    from .models import parameter_count
    from .workload import bytes_per_weight

    m, a = scn.draft.model, scn.adapter
    kv = scn.batch * scn.prompt_tokens * 2 * m.n_kv_heads * m.head_dim * m.n_layers * a.act_bits / 8
    return as_float(parameter_count(m) * bytes_per_weight(a.device_weight_bits) + kv)  # an array if vectorised
