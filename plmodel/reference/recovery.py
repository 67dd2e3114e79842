"""What the cloud learns of M: each adapter's M recovered by least squares from one prompt's channel traffic.

PrivateLoRA (Wang et al. 2023, arXiv:2311.14030, section 3) sends u = x A (r_c2d values a token) down for
each adapted projection and gets v = u M (r_d2c values a token) back. The cloud sees both on the wire, so
once T >= r_c2d tokens with linearly independent u have crossed, M = argmin ||u M - v||_F is unique and the
cloud solves it (torch.linalg.lstsq, float64). With T < r_c2d the system is underdetermined (u has rank at
most T): only M's part in the row space of u is recovered, the rest is not. M here is the reference's own
M, random and non-zero (DevicePart draws it N(0, 0.02^2); a trained M is non-zero too), so the relative
error ||M_hat - M||_F / ||M||_F is well defined.
"""

from __future__ import annotations

import statistics

import torch

from plmodel.frozen import frozen
from plmodel.reference.split import Channel, SplitModel
from plmodel.specs import AdapterSpec, ModelSpec

#: The longest prompt the scaled model is run on for the recovery (tokens); more adds nothing once T >= r_c2d.
MAX_TOKENS = 2048


class RecordingChannel(Channel):
    """A channel that also keeps the adapter tensors as they crossed (wire dtype): u = x A going down and
    v = u M coming back, a list of (B, T, r) tensors per (layer, projection)."""

    def __init__(self, device_part, wire_dtype=torch.float32):
        super().__init__(device_part, wire_dtype)
        self.down: dict = {}  # (layer, projection) -> [(B, T, r_c2d)]
        self.up: dict = {}  # (layer, projection) -> [(B, T, r_d2c)]

    def send(self, direction: str, layer, name: str, x: torch.Tensor) -> torch.Tensor:
        out = super().send(direction, layer, name, x)
        projection, _, kind = name.partition(".")
        if kind in ("xA", "xAM"):
            (self.down if kind == "xA" else self.up).setdefault((layer, projection), []).append(
                x.detach().to(self.wire_dtype))
        return out


@frozen
class Recovery:
    """M recovered from the traffic of one prompt of `tokens` tokens; errors are relative, in Frobenius norm."""

    tokens: int  # T: tokens whose u and v crossed, for each adapted projection
    r_c2d: int
    r_d2c: int
    errors: dict  # (layer, projection) -> ||M_hat - M||_F / ||M||_F
    ranks: dict  # (layer, projection) -> rank of the recorded u (T x r_c2d)

    @property
    def projections(self) -> int:
        return len(self.errors)

    @property
    def max_error(self) -> float | None:
        return max(self.errors.values()) if self.errors else None

    @property
    def median_error(self) -> float | None:
        return statistics.median(self.errors.values()) if self.errors else None

    @property
    def determined(self) -> bool:
        """Every u had full column rank r_c2d: M is the unique least-squares solution."""
        return bool(self.ranks) and min(self.ranks.values()) == self.r_c2d


def record(split: SplitModel, tokens: torch.Tensor) -> RecordingChannel:
    """Run one prefill of `tokens` (B, T) through `split` with a recording channel; the split's own channel
    is put back afterwards."""
    saved = split.channel
    split.channel = RecordingChannel(split.device_part, saved.wire_dtype)
    try:
        with torch.no_grad():
            split.forward(tokens)
        return split.channel
    finally:
        split.channel = saved


def recover(split: SplitModel, tokens: torch.Tensor) -> Recovery:
    """Solve u M_hat = v by least squares for every adapted projection from one prompt's traffic and set
    M_hat beside the device's M."""
    channel = record(split, tokens)
    errors, ranks = {}, {}
    for key, down in channel.down.items():
        u = torch.cat(down, 1).flatten(0, 1).double()  # (B*T, r_c2d): what the cloud sent
        v = torch.cat(channel.up[key], 1).flatten(0, 1).double()  # (B*T, r_d2c): what came back
        m_hat = torch.linalg.lstsq(u, v, driver="gelsd").solution  # (r_c2d, r_d2c), minimum norm if rank < r_c2d
        m = split.device_part.M[f"{key[0]}_{key[1]}"].detach().double()
        errors[key] = (torch.linalg.matrix_norm(m_hat - m) / torch.linalg.matrix_norm(m)).item()
        ranks[key] = int(torch.linalg.matrix_rank(u))
    return Recovery(tokens.numel(), split.adapter.r_c2d, split.adapter.r_d2c, errors, ranks)


def adapter_recovery(spec: ModelSpec, adapter: AdapterSpec, tokens: int, seed: int = 0) -> Recovery:
    """Build the float32 split model (its M random, non-zero) and recover every M from one prompt of
    min(tokens, MAX_TOKENS) random tokens."""
    split = SplitModel(spec, adapter, dtype=torch.float32, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    prompt = torch.randint(0, spec.vocab_size, (1, min(tokens, MAX_TOKENS)), generator=gen)  # (1, T)
    return recover(split, prompt)


def underdetermined(spec: ModelSpec, adapter: AdapterSpec, seed: int = 0) -> Recovery | None:
    """The same recovery from a prompt of r_c2d // 2 tokens, fewer than the r_c2d unknowns a column of M has:
    what one short prompt does not give away (None when r_c2d < 2)."""
    return adapter_recovery(spec, adapter, adapter.r_c2d // 2, seed) if adapter.r_c2d >= 2 else None
