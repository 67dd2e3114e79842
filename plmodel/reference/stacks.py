"""Stacks of reference decoder layers for timing this machine: built over the caches, run, their KV cache kept
at one context, and a channel that answers every round trip at once (calibrate.py, resume_probe.py, the
testbed's anchor)."""

from __future__ import annotations

import torch

from plmodel.reference.model import DecoderLayer, KVCache
from plmodel.specs import ModelSpec


def layers_of(spec: ModelSpec):
    torch.manual_seed(0)
    return [DecoderLayer(spec, i).eval() for i in range(spec.n_layers)]

def run_layers(layers, x, cache=None, channel=None):
    start = cache.length() if cache is not None else 0
    positions = torch.arange(start, start + x.shape[1])
    with torch.no_grad():
        for layer in layers:
            x = layer(x, positions, cache, channel)
    return x

class StubChannel:
    """Answers every round trip with zeros at once: the cloud's side of a stage, alone."""

    def __init__(self, r_d2c: int):
        self.r_d2c = r_d2c

    def round_trip(self, layer, xa):
        return {p: torch.zeros(*t.shape[:-1], self.r_d2c) for p, t in xa.items()}

def keep_context(cache: KVCache, tokens: int = 32) -> None:
    """Cut every layer's KV cache back to `tokens`, so that repeated decode steps keep one context."""
    for k in cache.k:
        cache.k[k], cache.v[k] = cache.k[k][:, :, :tokens], cache.v[k][:, :, :tokens]

def stack_spec(d: int, n: int) -> ModelSpec:
    return ModelSpec(f"calibrate-{d}", n, d, max(1, d // 64), max(1, d // 64), int(d * 2.6875), 256)

def layer_bytes(d: int) -> int:
    """Float32 weight bytes of one reference layer of width `d` (as _stack builds it)."""
    return 4 * (4 * d * d + 3 * d * int(d * 2.6875) + 2 * d)

def stack_over_cache(d: int, cache_bytes: int) -> list:
    """Reference layers of width `d`, at least two and at least twice `cache_bytes` of weights, so that a
    decode step streams every weight from memory, as a model larger than the cache does."""
    return layers_of(stack_spec(d, max(2, -(-2 * cache_bytes // layer_bytes(d)))))
