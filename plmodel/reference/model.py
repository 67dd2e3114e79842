"""A compact LLaMA decoder (RMSNorm, rotary, GQA attention, SwiGLU, KV cache) with PrivateLoRA.

Each adapted projection computes y = x W^T + ((x A) M) B: A (d_in x r_c2d) and B (r_d2c x d_out)
are frozen random matrices on the cloud, M (r_c2d x r_d2c) is trained on the device. The cloud
layer never holds M: it sends x A through a channel and gets (x A) M back. Attention uses explicit
matmuls so that torch's FlopCounterMode counts 2*m*n*k for the scores and the weighted values over
the full square (the causal mask is ignored), as plmodel.workload does.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from plmodel.shapes import projection_shape
from plmodel.specs import PROJECTIONS
from plmodel.workload import stages


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-6, device=None, dtype=torch.float32):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d, device=device, dtype=dtype))

    def forward(self, x):  # (B, T, d)
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate(x, positions, theta: float = 10000.0):
    """Rotary embedding of (B, H, T, hd) at integer positions (T,), Hugging Face's rotate-half layout."""
    hd = x.shape[-1]
    inv = 1.0 / theta ** (torch.arange(0, hd, 2, device=x.device, dtype=torch.float32) / hd)
    ang = positions.to(torch.float32)[:, None] * inv[None, :]  # (T, hd/2)
    cos, sin = torch.cat([ang, ang], -1).cos().to(x.dtype), torch.cat([ang, ang], -1).sin().to(x.dtype)
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class DecoderLayer(nn.Module):
    """One LLaMA layer; `adapter` (if any) holds this layer's frozen A and B for its targets."""

    def __init__(self, model, index: int, targets=(), r_c2d=0, r_d2c=0, *, device=None, dtype=torch.float32):
        super().__init__()
        self.index, self.n_heads, self.n_kv, self.hd = index, model.n_heads, model.n_kv_heads, model.head_dim
        self.attn_norm = RMSNorm(model.d_model, device=device, dtype=dtype)
        self.mlp_norm = RMSNorm(model.d_model, device=device, dtype=dtype)
        self.proj = nn.ModuleDict({p: nn.Linear(*projection_shape(model, p), bias=False, device=device, dtype=dtype)
                                   for p in PROJECTIONS})
        self.stages = stages(targets)
        self.A = nn.ParameterDict({p: nn.Parameter(torch.randn(projection_shape(model, p)[0], r_c2d, device=device,
                                                               dtype=dtype) / math.sqrt(r_c2d or 1), requires_grad=False)
                                   for p in targets})
        self.B = nn.ParameterDict({p: nn.Parameter(torch.randn(r_d2c, projection_shape(model, p)[1], device=device,
                                                               dtype=dtype) / math.sqrt(r_d2c or 1), requires_grad=False)
                                   for p in targets})

    def project(self, names, x, channel):
        """Outputs of the projections sharing input x; adapted ones add ((x A) M) B via the channel."""
        out = {p: self.proj[p](x) for p in names}
        adapted = [p for p in names if p in self.A]
        if adapted:
            back = channel.round_trip(self.index, {p: x @ self.A[p] for p in adapted})  # (B, T, r_c2d) down
            for p in adapted:
                out[p] = out[p] + back[p] @ self.B[p]  # (B, T, r_d2c) up, then B
        return out

    def forward(self, x, positions, cache, channel):  # x: (B, T, d)
        b, t, _ = x.shape
        qkv = self.project(("q", "k", "v"), self.attn_norm(x), channel)
        q = qkv["q"].view(b, t, self.n_heads, self.hd).transpose(1, 2)  # (B, H, T, hd)
        k = qkv["k"].view(b, t, self.n_kv, self.hd).transpose(1, 2)  # (B, Hkv, T, hd)
        v = qkv["v"].view(b, t, self.n_kv, self.hd).transpose(1, 2)
        q, k = rotate(q, positions), rotate(k, positions)
        if cache is not None:
            k, v = cache.extend(self.index, k, v)  # (B, Hkv, ctx + T, hd)
        rep = self.n_heads // self.n_kv
        k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd)  # (B, H, T, ctx + T)
        ctx = k.shape[2]
        mask = torch.ones(t, ctx, dtype=torch.bool, device=x.device).tril(ctx - t)
        att = (scores.masked_fill(~mask, float("-inf")).softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1)
        x = x + self.project(("o",), att, channel)["o"]
        h = self.project(("gate", "up"), self.mlp_norm(x), channel)
        mid = nn.functional.silu(h["gate"]) * h["up"]  # (B, T, ffn)
        return x + self.project(("down",), mid, channel)["down"]


class KVCache:
    """Keys and values of every layer on the cloud: (B, Hkv, ctx, hd) each."""

    def __init__(self):
        self.k, self.v = {}, {}

    def extend(self, layer, k, v):
        if layer in self.k:
            k, v = torch.cat([self.k[layer], k], 2), torch.cat([self.v[layer], v], 2)
        self.k[layer], self.v[layer] = k, v
        return k, v

    def length(self) -> int:
        return next(iter(self.k.values())).shape[2] if self.k else 0
