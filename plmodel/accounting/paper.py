"""The paper's accounting (PrivateLoRA, arXiv 2311.14030, and the blog's formula
TPS = 1/(1/TPS_C + 1/TPS_PL + 1/TPS_LMHead + t)), terms identified from its 7B figure (paperdata):

- no latency: the link is its bandwidths alone (`link` drops RTT and jitter).
- prefill: no cloud decoder term; both link directions add (1.28 us per rank per layer per token for
  q, k, v at 16 bit: 48 bit / 100 Mbit/s + 48 bit / 60 Mbit/s); the hidden state at both ends; logits
  for every token; LM head and M (one roofline over both) and A, B at their peak rooflines, weights
  read once per mini-batch of T tokens.
- decode: the cloud decoder at its measured tokens/s (constant per token, whatever the batch); only
  the slower direction counts (0.80 us = 48 bit / 60 Mbit/s), the faster one and the device's M
  hidden behind it; LM head, A and B at their peak rooflines with weights shared by the batch.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from plmodel.accounting.base import Accounting, Pieces, StepTime, zeros_like
from plmodel.hardware.engine import Engine, stack_s
from plmodel.hardware.runtimes import PEAK, paper_cloud_runtime
from plmodel.step import Step
from plmodel.workload import adapted_layer_indices, stage_works, step_work


def _fractions(parts: list) -> list:
    """Each part's share of the sum (zeros where the sum is zero)."""
    total = sum(parts)
    safe = np.where(total > 0, total, 1.0)
    return [np.where(total > 0, x / safe, 0.0) for x in parts]


class PaperAccounting(Accounting):
    name = "paper"

    def link(self, link):
        return replace(link, rtt_s=0.0, jitter=None, bandwidth_jitter=None)

    def decoder_s(self, scn, step: Step):
        """(seconds, source) of the cloud decoder in the paper's terms: absent in prefill, the measured
        batch-1 time a token in decode."""
        if step.phase == "prefill":
            return zeros_like(step.tokens), "none (paper prefill)"
        a = scn.adapter
        per_token, source = stack_s(Engine(scn.cloud, paper_cloud_runtime()), scn.model, Step("decode", 1, step.context_tokens),
                                    (a.cloud_weight_bits, a.act_bits), with_ends=False)
        return step.tokens * per_token, source

    def pieces(self, scn, step) -> Pieces:
        """Logits for every token, the decoder as `decoder_s`, and peak rooflines over the whole step's
        adapter and device work (weights read once per mini-batch), shared out to the stages."""
        step, model, a = step.all_logits(), scn.model, scn.adapter
        cloud, device = Engine(scn.cloud, PEAK), Engine(scn.device, PEAK)
        works = stage_works(model, a, step)
        sw = step_work(model, a, step, works)
        ab_s, m_s, ends_s = cloud.cloud_s(sw.adapters), device.device_s(sw.adapters), device.device_s(sw.ends)
        if step.phase == "prefill":  # one roofline over LM head and M together
            both = device.device_s(sw.adapters + sw.ends)
            m_s, ends_s = (both * f for f in _fractions([m_s, ends_s]))
        stack, source = self.decoder_s(scn, step)
        n_ad = sw.n_adapted
        return Pieces(
            tokens=step.tokens, n_layers=model.n_layers, adapted=adapted_layer_indices(model, a),
            cloud_layer_s=stack / model.n_layers,
            stage_cloud_s=[ab_s / n_ad * f for f in _fractions([cloud.cloud_s(w) for w in works])],
            stage_device_s=[m_s / n_ad * f for f in _fractions([device.device_s(w) for w in works])],
            stage_c2d_bytes=[w.c2d_bytes for w in works], stage_d2c_bytes=[w.d2c_bytes for w in works],
            up_bytes=sw.ends.d2c_bytes, down_bytes=sw.ends.c2d_bytes, device_ends_s=ends_s, cloud_source=source)

    def step_time(self, scn, step) -> StepTime:
        p = self.pieces(scn, step)
        c2d, d2c = p.link_s(self.link(scn.link))
        zero = zeros_like(p.tokens)
        if step.phase == "prefill":  # both directions add
            return StepTime(p.tokens, p.cloud_s, p.device_adapter_s + p.device_ends_s, c2d + d2c, zero, p.cloud_source)
        m = p.device_adapter_s  # decode: the faster direction and M hide behind the slower one
        m_visible = np.clip(c2d + m - d2c, 0.0, m)
        return StepTime(p.tokens, p.cloud_s, p.device_ends_s + m_visible, np.maximum(c2d + m, d2c) - m_visible, zero,
                        p.cloud_source)
