"""Closed-form times and tokens/s of split inference, in the paper's accounting and a realistic one.

Realistic (the default): a forward step runs in order - embedding and hidden state up, then every
layer on the cloud, each adapted layer stopping for its round trips (x.A down, M on the device,
back up, B) - then the last hidden state down and the LM head on the device. A round trip costs
both transfers, the device's M and one RTT; the two ends of the stack cost one more RTT. The cloud
runs at its roofline at the step's batch, or at a measured speed (see `stack_time`).

Paper (PrivateLoRA, arXiv 2311.14030, the blog's formula TPS = 1/(1/TPS_C + 1/TPS_PL + 1/TPS_LMHead + t)),
terms identified from the paper's 7B figure (plmodel/paperdata):
- prefill: no cloud decoder term; both link directions add (1.28 us per rank per layer per token
  for q, k, v at 16 bit: 48 bit / 100 Mbit/s + 48 bit / 60 Mbit/s); the hidden state at both ends;
  the device's LM head and M and the cloud's A and B at their rooflines, weights read once per
  mini-batch of T tokens.
- decode: the cloud decoder at its measured tokens/s (constant per token, whatever the batch); only
  the slower direction counts (0.80 us = 48 bit / 60 Mbit/s), the faster one and the device's M
  hidden behind it; LM head, A and B at their rooflines with weights shared by the batch.
All functions are pure; numeric inputs may be numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .workload import Work, adapted_layer_indices, layer_work, stage_works, step_work, tokens_in_step

BITS = 8


def roofline_s(flop, nbytes, hw):
    """Time (s) of work bound by compute or memory: max(FLOP / peak FLOP/s, bytes / bytes/s)."""
    return np.maximum(flop / hw.peak_flop_per_s, nbytes / hw.mem_bw_bytes_per_s)


def cloud_roofline_s(w: Work, hw):
    return roofline_s(w.cloud_flop, w.cloud_bytes, hw)


def device_roofline_s(w: Work, hw):
    return roofline_s(w.device_flop, w.device_bytes, hw)


def whole_model_roofline_s(model, phase, batch, prompt_tokens, logit_tokens, hw, weight_bits, act_bits):
    """Roofline time of the whole model on one machine: every layer, then embedding and LM head."""
    from .workload import ends_work

    layer = layer_work(model, phase, batch, prompt_tokens, weight_bits, act_bits)
    ends = ends_work(model, phase, batch, prompt_tokens, logit_tokens, weight_bits, act_bits)
    return model.n_layers * cloud_roofline_s(layer, hw) + device_roofline_s(ends, hw)


def stack_time(hw, model, model_key, phase, batch, prompt_tokens, weight_bits, act_bits, with_ends, logit_tokens=None):
    """(seconds, source) of the decoder stack (with embedding and LM head if `with_ends`) on `hw`.

    A measured whole-model speed for this model, phase and weight precision takes precedence:
    decode at batch b costs the measured step time plus what the roofline adds from the measured
    batch to b; prefill costs T / measured tokens/s. As the paper does, a measured whole-model
    speed stands for the decoder stack alone when the stack is split off.
    """
    t_logits = tokens_in_step(phase, batch, prompt_tokens) if logit_tokens is None else logit_tokens

    def roof(b, logits):
        fixed = model.n_layers * hw.layer_overhead_s
        if with_ends:
            return whole_model_roofline_s(model, phase, b, prompt_tokens, logits, hw, weight_bits, act_bits) + fixed \
                + hw.call_overhead_s
        return model.n_layers * cloud_roofline_s(layer_work(model, phase, b, prompt_tokens, weight_bits, act_bits), hw) \
            + fixed

    measured = hw.measured_speed(model_key, phase, weight_bits) if model_key else None
    if measured is None:
        return roof(batch, t_logits), "roofline"
    if phase == "prefill":
        return tokens_in_step(phase, batch, prompt_tokens) / measured.tokens_per_s, "measured"
    mb = measured.batch
    extra = roof(batch, t_logits) - roof(mb, mb)
    return measured.batch / measured.tokens_per_s + np.maximum(extra, 0.0), "measured"


@dataclass(frozen=True)
class StepTime:
    """Time of one forward step (s), split by where it is spent, and the tokens it yields."""

    tokens: object
    cloud_s: object
    device_s: object
    transfer_s: object
    latency_s: object
    cloud_source: str

    @property
    def total_s(self):
        return self.cloud_s + self.device_s + self.transfer_s + self.latency_s

    @property
    def tokens_per_s(self):
        return self.tokens / self.total_s


@dataclass(frozen=True)
class Pieces:
    """The timed pieces of one forward step, in execution order; the closed forms and the simulation
    both build on them. Per stage lists hold one entry per round trip of an adapted layer."""

    tokens: object
    n_layers: int
    adapted: tuple  # indices of the layers with adapters
    cloud_layer_s: object  # one layer's own cloud work
    stage_cloud_s: list  # A and B of one stage
    stage_device_s: list  # M of one stage
    stage_c2d_bytes: list
    stage_d2c_bytes: list
    up_bytes: object  # embeddings, device to cloud
    down_bytes: object  # last hidden state, cloud to device
    device_ends_s: object  # embedding, final norm, LM head
    cloud_source: str

    def link_s(self, link):
        """(c2d seconds, d2c seconds) of everything the step sends each way: payload and framing on
        the wire, plus the software time of each message. One message each way a round trip and
        one at each end of the stack."""
        n, frames = len(self.adapted), self.n_round_trips + 1
        c2d = self.down_bytes + n * sum(self.stage_c2d_bytes) + frames * link.frame_bytes
        d2c = self.up_bytes + n * sum(self.stage_d2c_bytes) + frames * link.frame_bytes
        return (c2d * BITS / link.c2d_bps + frames * link.message_s, d2c * BITS / link.d2c_bps + frames * link.message_s)

    @property
    def n_round_trips(self) -> int:
        return len(self.adapted) * len(self.stage_cloud_s)

    @property
    def cloud_s(self):
        return self.n_layers * self.cloud_layer_s + len(self.adapted) * sum(self.stage_cloud_s)

    @property
    def device_adapter_s(self):
        return len(self.adapted) * sum(self.stage_device_s)


def realistic_pieces(model, model_key, adapter, cloud, device, phase, batch, prompt_tokens,
                     transport="privatelora") -> Pieces:
    """Pieces of a step timed by the rooflines (or a measured speed for the stack)."""
    works = stage_works(model, adapter, phase, batch, prompt_tokens, transport)
    sw = step_work(model, adapter, phase, batch, prompt_tokens, batch, transport, works)  # logits: last tokens
    stack_s, source = stack_time(cloud, model, model_key, phase, batch, prompt_tokens,
                                 adapter.cloud_weight_bits, adapter.act_bits, with_ends=False)
    return Pieces(
        tokens=tokens_in_step(phase, batch, prompt_tokens), n_layers=model.n_layers,
        adapted=adapted_layer_indices(model, adapter),
        cloud_layer_s=stack_s / model.n_layers,
        stage_cloud_s=[cloud_roofline_s(w, cloud) + cloud.call_overhead_s for w in works],
        stage_device_s=[device_roofline_s(w, device) + device.call_overhead_s for w in works],
        stage_c2d_bytes=[w.c2d_bytes for w in works], stage_d2c_bytes=[w.d2c_bytes for w in works],
        up_bytes=sw.ends.d2c_bytes, down_bytes=sw.ends.c2d_bytes,
        device_ends_s=device_roofline_s(sw.ends, device) + device.call_overhead_s, cloud_source=source)


def _fractions(parts: list) -> list:
    """Each part's share of the sum (zeros where the sum is zero)."""
    total = sum(parts)
    safe = np.where(total > 0, total, 1.0)
    return [np.where(total > 0, x / safe, 0.0) for x in parts]


def paper_pieces(model, model_key, adapter, cloud, device, phase, batch, prompt_tokens,
                 transport="privatelora") -> Pieces:
    """Pieces of a step as the paper times them: logits for every token, the cloud decoder at its
    measured per-token time in decode and absent in prefill, and rooflines over the whole step's
    adapter and device work (weights read once per mini-batch), shared out to the stages."""
    works = stage_works(model, adapter, phase, batch, prompt_tokens, transport)
    sw = step_work(model, adapter, phase, batch, prompt_tokens, None, transport, works)
    t = tokens_in_step(phase, batch, prompt_tokens)
    n_ad = sw.n_adapted
    ab_s, m_s, ends_s = (cloud_roofline_s(sw.adapters, cloud), device_roofline_s(sw.adapters, device),
                         device_roofline_s(sw.ends, device))
    if phase == "prefill":  # one roofline over LM head and M together
        both = roofline_s(sw.adapters.device_flop + sw.ends.device_flop, sw.adapters.device_bytes + sw.ends.device_bytes,
                          device)
        m_s, ends_s = (both * f for f in _fractions([m_s, ends_s]))
        layer_s, source = 0.0 * t, "none (paper prefill)"
    else:
        per_token, source = stack_time(cloud, model, model_key, "decode", 1, prompt_tokens,
                                       adapter.cloud_weight_bits, adapter.act_bits, with_ends=False)
        layer_s = t * per_token / model.n_layers
    share = [cloud_roofline_s(w, cloud) for w in works]
    dshare = [device_roofline_s(w, device) for w in works]
    return Pieces(
        tokens=t, n_layers=model.n_layers,
        adapted=adapted_layer_indices(model, adapter),
        cloud_layer_s=layer_s,
        stage_cloud_s=[ab_s / n_ad * f for f in _fractions(share)],
        stage_device_s=[m_s / n_ad * f for f in _fractions(dshare)],
        stage_c2d_bytes=[w.c2d_bytes for w in works], stage_d2c_bytes=[w.d2c_bytes for w in works],
        up_bytes=sw.ends.d2c_bytes, down_bytes=sw.ends.c2d_bytes, device_ends_s=ends_s, cloud_source=source)


def realistic_step(model, model_key, adapter, cloud, device, link, phase, batch, prompt_tokens,
                   transport="privatelora") -> StepTime:
    """One step of split inference with causality: every round trip is waited for."""
    p = realistic_pieces(model, model_key, adapter, cloud, device, phase, batch, prompt_tokens, transport)
    c2d, d2c = p.link_s(link)
    return StepTime(p.tokens, p.cloud_s, p.device_adapter_s + p.device_ends_s, c2d + d2c,
                    (p.n_round_trips + 1) * link.rtt_s + 0.0 * p.tokens, p.cloud_source)


def paper_step(model, model_key, adapter, cloud, device, link, phase, batch, prompt_tokens,
               transport="privatelora") -> StepTime:
    """One step in the paper's accounting (no latency; see the module docstring)."""
    p = paper_pieces(model, model_key, adapter, cloud, device, phase, batch, prompt_tokens, transport)
    c2d, d2c = p.link_s(link)
    zero = 0.0 * p.tokens
    if phase == "prefill":  # both directions add
        return StepTime(p.tokens, p.cloud_s, p.device_adapter_s + p.device_ends_s, c2d + d2c, zero, p.cloud_source)
    m = p.device_adapter_s  # decode: the faster direction and M hide behind the slower one
    m_visible = np.clip(c2d + m - d2c, 0.0, m)
    return StepTime(p.tokens, p.cloud_s, p.device_ends_s + m_visible, np.maximum(c2d + m, d2c) - m_visible, zero,
                    p.cloud_source)


def step_pieces(mode, *args, **kwargs) -> Pieces:
    """The pieces of a step in the given accounting ('paper' or 'realistic')."""
    return (paper_pieces if mode == "paper" else realistic_pieces)(*args, **kwargs)


def split_step(mode, *args, **kwargs) -> StepTime:
    """The split step in the given accounting ('paper' or 'realistic')."""
    return (paper_step if mode == "paper" else realistic_step)(*args, **kwargs)


def break_even_rtt_s(split_decode: StepTime, n_latencies, device_decode_s):
    """RTT (s) above which a split decode step is slower than the device alone; 0 if it always is."""
    no_latency = split_decode.total_s - split_decode.latency_s
    return np.maximum((device_decode_s - no_latency) / n_latencies, 0.0)
