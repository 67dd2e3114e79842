"""Pure workload counts of PrivateLoRA split inference: FLOPs, bytes read, bytes on the wire, memory.

Conventions (stated once, used everywhere, checked by the torch reference):
- FLOPs are actual FLOPs of matrix products, 2*m*n*k per matmul (not MACs). Norms, rotary, softmax,
  SiLU and sampling are not counted. Attention scores and the weighted sum of values count the
  full square of a prefill (the causal mask is ignored, as torch's FlopCounterMode does); a decode
  step at context n attends to n cached tokens plus itself.
- A step (plmodel.step.Step) processes T = batch x context tokens in prefill and T = batch tokens in
  decode. Logits, and so the last hidden state sent down, are for one token a sequence (its last):
  what generation needs, what `estimate`, `simulate` and `validate` count. The paper's accounting
  alone asks for every prompt token's logits (Step.all_logits).
- Bytes read: weights once per step (shared by the step's tokens), the KV cache read in decode,
  activations in and out of every projection at `act_bits`. The KV cache is stored at `act_bits`.
- On the wire: every adapted projection sends r_c2d values a token to the device and gets r_d2c
  back; the embedding output goes up (device to cloud) once per step and the last hidden state
  comes down for the tokens that need logits. `transport="lora"` is the baseline that ships the
  projection's full input down and its full output up instead.

Every function takes specs whose numeric fields may be numpy arrays, so a grid evaluates at once.
"""

from __future__ import annotations

from dataclasses import fields, replace

from plmodel.frozen import frozen
from plmodel.layer_sets import LayerSplit
from plmodel.models import layer_matmul_params
from plmodel.shapes import projection_shape
from plmodel.specs import PROJECTIONS, STAGE_OF
from plmodel.step import Step


@frozen
class Work:
    """Work of one piece of a forward step, per side and per direction (FLOP and bytes)."""

    cloud_flop: float = 0.0
    cloud_weight_bytes: float = 0.0
    cloud_kv_bytes: float = 0.0
    cloud_act_bytes: float = 0.0
    device_flop: float = 0.0
    device_weight_bytes: float = 0.0
    device_act_bytes: float = 0.0
    c2d_bytes: float = 0.0
    d2c_bytes: float = 0.0

    def __add__(self, other: "Work") -> "Work":
        return Work(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def scaled(self, k) -> "Work":
        """Every count multiplied by k (e.g. a number of layers)."""
        return Work(*(getattr(self, f.name) * k for f in fields(self)))

    @property
    def cloud_bytes(self):
        return self.cloud_weight_bytes + self.cloud_kv_bytes + self.cloud_act_bytes

    @property
    def device_bytes(self):
        return self.device_weight_bytes + self.device_act_bytes


#: Group-wise quantisation: one 16-bit scale for every QUANT_GROUP weights (q4f16_1-style), so a 4-bit
#: weight is stored in 4.5 bits. 16 bits and more are stored as they are.
QUANT_GROUP = 32


def bytes_per_weight(bits):
    """Bytes one weight takes at `bits`, its share of the quantisation scale included."""
    return (bits + (16 / QUANT_GROUP if bits < 16 else 0)) / 8


def adapted_layer_indices(model, adapter) -> tuple:
    """Indices of the layers that carry adapters: the cloud's layers unless `layers` says (none
    without targets)."""
    return tuple(adapter.adapted_layers(int(model.n_layers)))


def cloud_layers(model, adapter):
    """Decoder layers the cloud runs (all but those the device runs: adapter.split)."""
    return model.n_layers - adapter.split.on_device


def cloud_layer_indices(model, adapter) -> range:
    return adapter.split.cloud_range(model.n_layers)


def whole(adapter):
    """The adapter with every decoder layer on the cloud (what cloud-only and device-only run)."""
    return adapter if not adapter.split.on_device else replace(adapter, split=LayerSplit(), layers=None)


def cloud_view(model, adapter):
    """The model as the cloud's stack sees it: its own layers only (and no measured whole-model speed,
    which is for every layer)."""
    return model if not adapter.split.on_device else replace(model, n_layers=cloud_layers(model, adapter), key=None)


def n_adapted_layers(model, adapter):
    """How many layers carry adapters."""
    if not adapter.targets:
        return 0
    return cloud_layers(model, adapter) if adapter.layers is None else len(adapter.layers)


def stages(targets) -> list:
    """Targets grouped by the input they share, in execution order: [[q, k, v], [o], [gate, up], [down]]."""
    groups = {}
    for t in targets:
        groups.setdefault(STAGE_OF[t], []).append(t)
    return [groups[k] for k in sorted(groups)]


def layer_work(model, step: Step, weight_bits=16, act_bits=16) -> Work:
    """The work of one decoder layer without adapters (counted on the cloud side)."""
    t, batch, n = step.tokens, step.batch, step.context_tokens  # n: prompt (prefill) or cached (decode) tokens
    wb, ab = bytes_per_weight(weight_bits), act_bits / 8
    shapes = [projection_shape(model, p) for p in PROJECTIONS]
    params = sum(i * o for i, o in shapes)
    q_dim, kv_dim = model.n_heads * model.head_dim, model.n_kv_heads * model.head_dim
    if step.phase == "prefill":  # a chunk of a pipelined prefill also attends to the `past` prompt tokens before it
        past = step.past_tokens
        attn_flop = 2 * 2 * batch * n * (n + past) * q_dim  # QK^T and AV over the full square (and the past)
        kv_read = batch * past * 2 * kv_dim * ab
    else:  # each of p positions attends to the n cached keys, the positions before it and itself
        p = step.positions
        attn_flop = 2 * 2 * batch * (p * (n + 1) + p * (p - 1) // 2) * q_dim
        kv_read = batch * n * 2 * kv_dim * ab  # the cache is read once a sequence, whatever p
    kv_write = t * 2 * kv_dim * ab
    return Work(
        cloud_flop=2 * t * params + attn_flop,
        cloud_weight_bytes=params * wb + 2 * model.d_model * wb,  # projections + two RMSNorm weights
        cloud_kv_bytes=kv_read + kv_write,
        cloud_act_bytes=t * sum(i + o for i, o in shapes) * ab,
    )


def stage_work(model, adapter, group, step: Step) -> Work:
    """Adapter work of one round trip (targets sharing an input) in one adapted layer."""
    t = step.tokens
    cw, dw = bytes_per_weight(adapter.cloud_weight_bits), bytes_per_weight(adapter.device_weight_bits)
    ab = adapter.act_bits / 8
    rc, rd, n = adapter.r_c2d, adapter.r_d2c, len(group)
    shapes = [projection_shape(model, p) for p in group]
    d_in, d_out = sum(i for i, _ in shapes), sum(o for _, o in shapes)  # every count is linear in them
    if step.transport == "privatelora":  # A and B on the cloud, M on the device, ranks on the wire
        ab_weights = d_in * rc + rd * d_out
        return Work(cloud_flop=2 * t * ab_weights, cloud_weight_bytes=ab_weights * cw,
                    cloud_act_bytes=n * t * (rc + rd) * ab, device_flop=n * 2 * t * rc * rd,
                    device_weight_bytes=n * rc * rd * dw, device_act_bytes=n * t * (rc + rd) * ab,
                    c2d_bytes=n * t * rc * ab, d2c_bytes=n * t * rd * ab)
    # LoRA on the device (A: d_in x r_c2d, B: r_c2d x d_out): the shared input down once, every output up
    return Work(device_flop=2 * t * rc * (d_in + d_out), device_weight_bytes=rc * (d_in + d_out) * dw,
                device_act_bytes=t * (d_in + d_out) * ab, d2c_bytes=t * d_out * ab, c2d_bytes=t * shapes[0][0] * ab)


def stage_works(model, adapter, step: Step) -> list:
    """Adapter work of each round trip of one adapted layer, in execution order."""
    return [stage_work(model, adapter, g, step) for g in stages(adapter.targets)]


def adapter_work(model, adapter, step: Step) -> Work:
    """Adapter work of one adapted layer (every stage)."""
    return sum(stage_works(model, adapter, step), Work())


def ends_work(model, step: Step, weight_bits=16, act_bits=16) -> Work:
    """Device work at the two ends of the stack: embedding (hidden state up), final norm and LM head
    for the step's logit tokens (hidden state down)."""
    t, logit_tokens = step.tokens, step.logit_tokens
    dw, ab = bytes_per_weight(weight_bits), act_bits / 8
    d, v = model.d_model, model.vocab_size
    return Work(
        device_flop=2 * logit_tokens * d * v,
        device_weight_bytes=(d * v + d) * dw * (logit_tokens > 0) + t * d * dw,  # LM head + final norm (where
        # logits are asked for: a pipelined prefill's early chunks ask for none), plus the embedding rows looked up
        device_act_bytes=(t * d + logit_tokens * (d + v)) * ab,
        d2c_bytes=t * d * ab,
        c2d_bytes=logit_tokens * d * ab,
    )


def device_layer_work(model, adapter, step: Step) -> Work:
    """Work of the decoder layers the device runs (adapter.split; at its weight bits, KV cache in its memory);
    with layers on the device at the end, a prefill sends every prompt token's hidden state down, not only
    the logit tokens' (those layers must build their KV cache)."""
    n = adapter.split.on_device
    if not n:
        return Work()
    w = layer_work(model, step, adapter.device_weight_bits, adapter.act_bits).scaled(n)
    extra_down = (step.tokens - step.logit_tokens) * model.d_model * adapter.act_bits / 8 if adapter.split.last else 0
    return Work(device_flop=w.cloud_flop, device_weight_bytes=w.cloud_weight_bytes,
                device_act_bytes=w.cloud_kv_bytes + w.cloud_act_bytes, c2d_bytes=extra_down)


@frozen
class StepWork:
    """A whole forward step: the cloud's layers, the adapters, the two ends and the decoder layers the
    device runs, each summed."""

    layers: Work
    adapters: Work
    ends: Work
    n_adapted: object
    n_round_trips: object  # adapter round trips in the step (adapted layers x stages)
    device_layers: Work = Work()

    @property
    def total(self) -> Work:
        return self.layers + self.adapters + self.ends + self.device_layers


def step_work(model, adapter, step: Step, works=None) -> StepWork:
    """Totals of one forward step; `works` (the stage works, if the caller has them) saves
    recomputing each stage's adapter work."""
    n_ad = n_adapted_layers(model, adapter)
    if works is None:
        works = stage_works(model, adapter, step)
    return StepWork(
        layers=layer_work(model, step, adapter.cloud_weight_bits, adapter.act_bits).scaled(cloud_layers(model, adapter)),
        adapters=sum(works, Work()).scaled(n_ad),
        ends=ends_work(model, step, adapter.device_weight_bits, adapter.act_bits),
        n_adapted=n_ad,
        n_round_trips=n_ad * len(stages(adapter.targets)),
        device_layers=device_layer_work(model, adapter, step),
    )


def per_layer_wire_bytes(model, adapter, step: Step) -> list:
    """[(layer, c2d_bytes, d2c_bytes)] for every layer: what crosses the link inside the stack."""
    adapted = set(adapted_layer_indices(model, adapter))
    w = adapter_work(model, adapter, step)  # layers the device runs carry no adapter
    return [(i, w.c2d_bytes if i in adapted else 0, w.d2c_bytes if i in adapted else 0) for i in range(model.n_layers)]


@frozen
class Residency:
    """Bytes resident on each side during serving."""

    cloud_weight_bytes: float
    cloud_adapter_bytes: float  # A and B
    cloud_kv_bytes: float
    device_weight_bytes: float  # embedding, LM head (unless tied), final norm
    device_adapter_bytes: float  # M
    device_matmul_weight_bytes: float  # LM head + M: the paper's resource-table convention
    device_kv_bytes: float = 0.0  # KV cache of the decoder layers the device runs

    @property
    def device_bytes(self):
        return self.device_weight_bytes + self.device_adapter_bytes + self.device_kv_bytes


def residency(model, adapter, batch, context_tokens) -> Residency:
    """Memory each side holds for `batch` sequences of `context_tokens` tokens."""
    cw, dw = bytes_per_weight(adapter.cloud_weight_bits), bytes_per_weight(adapter.device_weight_bits)
    ab = adapter.act_bits / 8
    n_ad = n_adapted_layers(model, adapter)
    layer_params = layer_matmul_params(model) + 2 * model.d_model  # projections and two RMSNorm weights
    ab_params = sum(i * adapter.r_c2d + adapter.r_d2c * o for i, o in (projection_shape(model, p) for p in adapter.targets))
    m_params = len(adapter.targets) * adapter.r_c2d * adapter.r_d2c * n_ad
    table = model.vocab_size * model.d_model
    head = 0 if model.tie_embeddings else table
    kv_layer = batch * context_tokens * 2 * model.n_kv_heads * model.head_dim * ab
    return Residency(
        cloud_weight_bytes=cloud_layers(model, adapter) * layer_params * cw,
        cloud_adapter_bytes=n_ad * ab_params * cw,
        cloud_kv_bytes=kv_layer * cloud_layers(model, adapter),
        device_weight_bytes=(table + head + model.d_model + adapter.split.on_device * layer_params) * dw,
        device_adapter_bytes=m_params * dw,
        device_matmul_weight_bytes=(table + m_params) * dw,
        device_kv_bytes=kv_layer * adapter.split.on_device,
    )
