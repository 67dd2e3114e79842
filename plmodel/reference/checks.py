"""Measure a split forward (bytes on the channel, FLOPs per side, memory) and set it beside the workload.

FLOPs come from torch.utils.flop_counter.FlopCounterMode: one counter around the whole step and a
fresh one around each call of the device part; the cloud's FLOPs are the difference.
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch.utils.flop_counter import FlopCounterMode

from plmodel.frozen import frozen
from plmodel.reference.model import KVCache
from plmodel.reference.split import SplitModel, unsplit_logits
from plmodel.specs import AdapterSpec, ModelSpec
from plmodel.step import Step
from plmodel.workload import cloud_layer_indices, per_layer_wire_bytes, residency, step_work


@frozen
class Check:
    section: str
    name: str
    expected: float
    measured: float

    @property
    def ok(self) -> bool:
        return self.expected == self.measured


def _count_step(split: SplitModel, tokens, cache, logits):
    """(channel crossings, total FLOPs, device FLOPs) of one step."""
    device_flops = []
    counters = []

    def pre(_module, _args, _kwargs):
        counters.append(FlopCounterMode(display=False))
        counters[-1].__enter__()

    def post(_module, _args, _kwargs, _out):
        c = counters.pop()
        c.__exit__(None, None, None)
        device_flops.append(c.get_total_flops())

    hooks = [split.device_part.register_forward_pre_hook(pre, with_kwargs=True),
             split.device_part.register_forward_hook(post, with_kwargs=True)]
    start = len(split.channel.log)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as total:
            out = split.forward(tokens, cache, logits)
    finally:
        for h in hooks:
            h.remove()
    return out, split.channel.log[start:], total.get_total_flops(), sum(device_flops)


def step_checks(split: SplitModel, spec: ModelSpec, adapter: AdapterSpec, phase: str, batch: int, n: int, *,
                section: str) -> list:
    """Run prefill of n tokens (and, for decode, one more token) and compare with the workload's counts
    of the same Step `estimate` and `simulate` use: logits (and the hidden state down) for each
    sequence's last token only."""
    dev = next(split.device_part.parameters()).device
    cache = KVCache()
    prompt = torch.randint(0, spec.vocab_size, (batch, n), device=dev) if dev.type != "meta" else \
        torch.empty(batch, n, dtype=torch.long, device=dev)
    if phase == "decode":
        _count_step(split, prompt, cache, "last")
        prompt = prompt[:, -1:]
    _, log, total, device = _count_step(split, prompt, cache, "last")
    w = step_work(spec, adapter, Step(phase, batch, n))
    checks = [
        Check(section, "bytes cloud->device", w.total.c2d_bytes, sum(c.bytes for c in log if c.direction == "c2d")),
        Check(section, "bytes device->cloud", w.total.d2c_bytes, sum(c.bytes for c in log if c.direction == "d2c")),
        Check(section, "cloud FLOP", w.layers.cloud_flop + w.adapters.cloud_flop, total - device),
        Check(section, "device FLOP", w.adapters.device_flop + w.ends.device_flop + w.device_layers.device_flop, device),
    ]
    per_layer = per_layer_wire_bytes(spec, adapter, Step(phase, batch, n))
    bad = [i for i, c2d, d2c in per_layer
           if (c2d, d2c) != tuple(sum(c.bytes for c in log if c.layer == i and c.direction == d) for d in ("c2d", "d2c"))]
    checks.append(Check(section, "layers whose bytes differ", 0, len(bad)))
    if phase == "prefill":
        r, ids = residency(spec, adapter, batch, n), set(cloud_layer_indices(spec, adapter))
        kv = [sum(t.numel() * t.element_size() for d in (cache.k, cache.v) for i, t in d.items() if (i in ids) == side)
              for side in (True, False)]
        checks.append(Check(section, "KV cache bytes on the cloud", r.cloud_kv_bytes, kv[0]))
        if adapter.split.on_device:
            checks.append(Check(section, "KV cache bytes on the device", r.device_kv_bytes, kv[1]))
    return checks


def memory_checks(split: SplitModel, spec: ModelSpec, adapter: AdapterSpec, batch: int, n: int) -> list:
    """Parameters held by each part, and the KV cache after a prefill, against the workload's residency."""
    def nbytes(params):
        return sum(p.numel() * p.element_size() for p in params)

    r = residency(spec, adapter, batch, n)
    dp, cp = split.device_part, split.cloud_part
    cloud_ab = nbytes(p for layer in cp.layers for p in list(layer.A.values()) + list(layer.B.values()))
    ends = (dp.embed.weight, dp.norm.weight, dp.head.weight, *dp.first.parameters(), *dp.last.parameters())
    return [
        Check("memory", "device weights (embedding, norm, LM head, held layers)", r.device_weight_bytes,
              nbytes({id(p): p for p in ends}.values())),
        Check("memory", "device M", r.device_adapter_bytes, nbytes(dp.M.values())),
        Check("memory", "cloud weights", r.cloud_weight_bytes, nbytes(cp.parameters()) - cloud_ab),
        Check("memory", "cloud A and B", r.cloud_adapter_bytes, cloud_ab),
        Check("memory", "M held by the cloud", 0, sum(1 for name, _ in cp.named_parameters() if "M" in name.split("."))),
    ]


def count_checks(spec: ModelSpec, adapter: AdapterSpec, batch: int = 1, n: int = 8, *, device="meta",
                 dtype=torch.float16, build_layers: int | None = None) -> list:
    """Every count check of one configuration; full-size shapes belong on the meta device."""
    if build_layers is not None and build_layers < spec.n_layers:
        kept = None if adapter.layers is None else \
            tuple(i for i in adapter.layers if i < build_layers - adapter.split.last)
        spec = replace(spec, n_layers=build_layers)
        if kept == ():
            raise ValueError("no adapted layer among the layers built")
        adapter = replace(adapter, layers=kept)
    bits = torch.finfo(dtype).bits
    adapter = replace(adapter, act_bits=bits, cloud_weight_bits=bits, device_weight_bits=bits)
    split = SplitModel(spec, adapter, device=device, dtype=dtype)
    out = step_checks(split, spec, adapter, "prefill", batch, n, section=f"prefill (batch {batch}, {n} tokens)")
    out += step_checks(split, spec, adapter, "decode", batch, n, section=f"decode (batch {batch}, context {n})")
    return out + memory_checks(split, spec, adapter, batch, n)


def faithfulness(spec: ModelSpec, adapter: AdapterSpec, batch: int = 2, n: int = 6, seed: int = 0) -> dict:
    """Real float32 run: split logits against the merged unsplit model; one optimiser step on M."""
    split = SplitModel(spec, adapter, dtype=torch.float32, seed=seed)
    tokens = torch.randint(0, spec.vocab_size, (batch, n))
    with torch.no_grad():
        got, want = split.forward(tokens), unsplit_logits(split, tokens)
    rel = ((got - want).abs().max() / want.abs().max()).item()
    cloud_before = {k: v.clone() for k, v in split.cloud_part.state_dict().items()}
    device_before = {k: v.clone() for k, v in split.device_part.state_dict().items()}
    trainable = [p for p in split.device_part.parameters() if p.requires_grad]
    if trainable:  # no adapters (--targets none): no M to train
        opt = torch.optim.SGD(trainable, lr=0.1)
        loss = torch.nn.functional.cross_entropy(split.forward(tokens).flatten(0, 1), tokens.roll(-1, 1).flatten())
        loss.backward()
        opt.step()
    changed = {k for k, v in split.device_part.state_dict().items() if not torch.equal(v, device_before[k])}
    cloud_changed = [k for k, v in split.cloud_part.state_dict().items() if not torch.equal(v, cloud_before[k])]
    return {"max_rel_logit_diff": rel, "device_changed": changed, "cloud_changed": cloud_changed,
            "m_names": {f"M.{k}" for k in split.device_part.M.keys()}}


def scaled_down(spec: ModelSpec, layers: int = 2) -> ModelSpec:
    """A model of a few layers with the same GQA ratio and tying that runs in milliseconds."""
    ratio = spec.n_heads // spec.n_kv_heads
    heads = max(4, ratio)
    return ModelSpec(f"{spec.name}-small", layers, 16 * heads, heads, heads // ratio, 40 * heads, 256,
                     spec.tie_embeddings)
