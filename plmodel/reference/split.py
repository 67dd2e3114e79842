"""The split PrivateLoRA model: a device part and a cloud part that talk only through a Channel.

The channel records every tensor that crosses (direction, layer, name, shape, dtype, bytes) and
casts it to the wire's dtype, as a real link would carry it.
"""

from __future__ import annotations

import torch
from torch import nn

from plmodel.frozen import frozen
from plmodel.reference.model import DecoderLayer, KVCache, RMSNorm


@frozen
class Crossing:
    direction: str  # "c2d" or "d2c"
    layer: object  # layer index, or "embed" / "head" at the ends of the stack
    name: str
    shape: tuple
    dtype: str
    bytes: int


class Channel:
    """The only path between the parts: records each crossing; the device answers round trips."""

    def __init__(self, device_part: "DevicePart", wire_dtype=torch.float32):
        self.device_part, self.wire_dtype = device_part, wire_dtype
        self.log: list[Crossing] = []

    def send(self, direction: str, layer, name: str, x: torch.Tensor) -> torch.Tensor:
        wire = x.to(self.wire_dtype)
        self.log.append(Crossing(direction, layer, name, tuple(wire.shape), str(wire.dtype).replace("torch.", ""),
                                 wire.numel() * wire.element_size()))
        return wire.to(x.dtype)

    def round_trip(self, layer: int, xa: dict) -> dict:
        """x A of each projection down, (x A) M back up."""
        down = {p: self.send("c2d", layer, f"{p}.xA", t) for p, t in xa.items()}
        up = self.device_part(down, layer=layer)
        return {p: self.send("d2c", layer, f"{p}.xAM", t) for p, t in up.items()}


class DevicePart(nn.Module):
    """Embedding, the trainable M matrices, final norm and LM head (everything private), and the decoder
    layers the device holds (`held`: the indices of the first and of the last ones), frozen."""

    def __init__(self, model, adapted_layers, targets, r_c2d, r_d2c, *, held=((), ()), device=None,
                 dtype=torch.float32):
        super().__init__()
        self.first, self.last = (nn.ModuleList(DecoderLayer(model, i, device=device, dtype=dtype) for i in ids)
                                 for ids in held)
        self.embed = nn.Embedding(model.vocab_size, model.d_model, device=device, dtype=dtype)
        self.norm = RMSNorm(model.d_model, device=device, dtype=dtype)
        self.head = nn.Linear(model.d_model, model.vocab_size, bias=False, device=device, dtype=dtype)
        if model.tie_embeddings:
            self.head.weight = self.embed.weight
        for p in (self.embed.weight, self.norm.weight, self.head.weight, *self.first.parameters(),
                  *self.last.parameters()):
            p.requires_grad_(False)
        # M starts at small random values (zero would make the adapter's gradient vanish through B)
        self.M = nn.ParameterDict({f"{i}_{p}": nn.Parameter(torch.randn(r_c2d, r_d2c, device=device, dtype=dtype) * 0.02)
                                   for i in adapted_layers for p in targets})

    def forward(self, x, layer=None, part="adapt", positions=None, cache=None):
        if part == "embed":
            return self.embed(x)  # (B, T) tokens -> (B, T, d)
        if part in ("first", "last"):  # held decoder layers: (B, T, d) -> (B, T, d), their KV cache on the device
            for held in self.first if part == "first" else self.last:
                x = held(x, positions, cache, None)
            return x
        if part == "head":
            return self.head(self.norm(x))  # (B, T, d) -> (B, T, vocab)
        return {p: t @ self.M[f"{layer}_{p}"] for p, t in x.items()}  # (B, T, r_c2d) -> (B, T, r_d2c)


class CloudPart(nn.Module):
    """The shared decoder stack (the layers in `ids`) with frozen A and B on the adapted projections: nothing
    private."""

    def __init__(self, model, adapted_layers, targets, r_c2d, r_d2c, *, ids, device=None, dtype=torch.float32):
        super().__init__()
        self.layers = nn.ModuleList(
            DecoderLayer(model, i, targets if i in adapted_layers else (), r_c2d, r_d2c, device=device, dtype=dtype)
            for i in ids)
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, h, positions, cache, channel):  # h: (B, T, d)
        for layer in self.layers:
            h = layer(h, positions, cache, channel)
        return h


class SplitModel:
    """Device and cloud parts joined by a channel; `forward` runs one prefill or decode step."""

    def __init__(self, model, adapter, device=None, dtype=torch.float32, wire_dtype=None, seed=0):
        torch.manual_seed(seed)
        adapted = set(adapter.adapted_layers(model.n_layers))
        args, kw = (model, adapted, adapter.targets, adapter.r_c2d, adapter.r_d2c), {"device": device, "dtype": dtype}
        split = adapter.split
        self.spec, self.adapter = model, adapter
        self.device_part = DevicePart(*args, held=split.device_ranges(model.n_layers), **kw)
        self.cloud_part = CloudPart(*args, ids=split.cloud_range(model.n_layers), **kw)
        self.channel = Channel(self.device_part, wire_dtype or dtype)

    def forward(self, tokens, cache: KVCache | None = None, logits: str = "all"):
        """Logits (B, T or 1, vocab) for tokens (B, T); the cache holds every layer's keys and values (the
        cloud's layers' on the cloud, the held layers' on the device). With layers held last, every
        token's hidden state comes down (those layers build their KV cache), else only the logit tokens'."""
        start = cache.length() if cache is not None else 0
        positions = torch.arange(start, start + tokens.shape[1], device=tokens.device)
        h = self.device_part(self.device_part(tokens, part="embed"), part="first", positions=positions, cache=cache)
        h = self.cloud_part(self.channel.send("d2c", "embed", "hidden", h), positions, cache, self.channel)
        if self.adapter.split.last:
            h = self.device_part(self.channel.send("c2d", "head", "hidden", h), part="last", positions=positions,
                                 cache=cache)
            return self.device_part(h if logits == "all" else h[:, -1:], part="head")
        h = h if logits == "all" else h[:, -1:]
        return self.device_part(self.channel.send("c2d", "head", "hidden", h), part="head")


def merged_layers(split: SplitModel) -> nn.ModuleList:
    """The cloud's layers with W + A M B folded into each adapted weight and no adapters left."""
    import copy

    layers = copy.deepcopy(split.cloud_part.layers)
    with torch.no_grad():
        for layer in layers:
            for p in list(layer.A.keys()):
                delta = layer.A[p] @ split.device_part.M[f"{layer.index}_{p}"] @ layer.B[p]  # (d_in, d_out)
                layer.proj[p].weight += delta.T
            layer.A, layer.B = nn.ParameterDict(), nn.ParameterDict()
    return layers


def unsplit_logits(split: SplitModel, tokens):
    """Logits of the whole model run in one place with merged weights (no channel)."""
    dp = split.device_part
    positions = torch.arange(tokens.shape[1], device=tokens.device)
    h = dp(tokens, part="embed")
    for layer in [*dp.first, *merged_layers(split), *dp.last]:
        h = layer(h, positions, None, None)
    return dp(h, part="head")
