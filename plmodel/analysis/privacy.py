"""What the cloud could reconstruct from what it sees, a design at a time: stated plainly, not proved.

Levels, from most to least exposed: the cloud can recover the prompt and the output, or the output
alone, or neither. PrivateLoRA as published keeps the adapter M (the user's personalisation) on the
device, but the embedding output it sends up is a row of a public table (the base model is public),
so the cloud reads the prompt exactly; and it computes the last hidden state itself, which the public
LM head turns into the output distribution (M's contributions come up the link too)."""

from __future__ import annotations

from dataclasses import dataclass

#: Exposure levels, least private first; a user's requirement (`--privacy`) names what must stay hidden.
LEVELS = ("prompt and output", "output", "neither")


@dataclass(frozen=True)
class Exposure:
    cloud_can_recover: str  # one of LEVELS
    reason: str

    def hides(self, what: str) -> bool:
        """Whether the cloud cannot recover `what` (prompt, output, or none: no requirement)."""
        if what == "none":
            return True
        if what == "prompt":
            return self.cloud_can_recover in ("output", "neither")
        return self.cloud_can_recover == "neither"


CLOUD_ONLY = Exposure("prompt and output", "the cloud runs the whole model on the prompt's tokens")
DEVICE_ONLY = Exposure("neither", "nothing leaves the device")
PRIVATELORA = Exposure("prompt and output", "the embedding sent up is a lookup in the public table (the prompt, "
                       "exactly); the cloud computes the last hidden state, and the public LM head gives the output; "
                       "only the adapter M (the personalisation) stays private")


def of_split(adapter) -> Exposure:
    """What the cloud could recover from a split design. Layers the device holds run public base
    weights: the cloud can run them too, so they raise the effort, not the level - the prompt must be
    inverted from the hidden state after the first K layers (not a table lookup), and the output is
    the cloud's own computation of the last K layers on the hidden state it sends."""
    if not adapter.held:
        return PRIVATELORA
    parts = []
    if adapter.device_first:
        parts.append(f"the prompt only by inverting {adapter.device_first} public layer(s) from the hidden state "
                     "it receives (no longer a table lookup)")
    if adapter.device_last:
        parts.append(f"the output by running the last {adapter.device_last} public layer(s) itself")
    else:
        parts.append("the output from the last hidden state and the public LM head")
    return Exposure("prompt and output", "; ".join(parts) + "; the layers the device holds hide the content only if "
                    "their weights are private too")
