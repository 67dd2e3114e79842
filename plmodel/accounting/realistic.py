"""The realistic accounting (plmodel's default): causality, every round trip waited for.

A forward step runs in order - embedding (and any decoder layers the device holds first) and hidden
state up, then every layer on the cloud, each adapted layer stopping for its round trips (x.A down,
M on the device, back up, B) - then the last hidden state down, any layers the device holds last,
and the LM head on the device. A round trip costs both transfers, the device's M and one RTT (plus
the expected jitter of its two messages); the two ends of the stack cost one more. Cloud and device
run at their runtime's achieved speed, or a measured one for the stack.
"""

from __future__ import annotations

from dataclasses import replace

from .. import decode_rows, resume
from ..engine import engines, stack_s
from ..link import hold_s, mean_extra_delay_s, mean_slowdown
from ..speculative import draft_s, verification
from ..step import Step
from ..workload import adapted_layer_indices, cloud_layers, cloud_view, stage_works, step_work
from .base import Accounting, Pieces, StepTime, zeros_like


def hops_s(scn, step):
    """A chain of N servers: N - 1 hops a step, each the step's hidden states over the servers' link
    (payload and framing, a message's software time) and half its RTT (s). Counted with the latency:
    the device's radio waits through them."""
    if scn.servers == 1:
        return 0.0
    ln = scn.server_link
    nbytes = step.tokens * scn.model.d_model * scn.adapter.act_bits / 8
    return (scn.servers - 1) * (hold_s(nbytes, 1, ln.c2d_bps, ln, mean_slowdown(ln)) + ln.rtt_s / 2
                                + mean_extra_delay_s(ln))


class RealisticAccounting(Accounting):
    name = "realistic"

    def pieces(self, scn, step) -> Pieces:
        """Pieces of a step timed by the scenario's engines (or a measured speed for the stack). With a
        draft model a decode step is a verification pass: k + 1 positions, the draft's k steps on the
        device, and the expected tokens it yields (speculative.py)."""
        if scn.draft is not None and step.phase == "decode" and step.positions == 1:
            p = self.pieces(scn, verification(scn, step))
            return replace(p, tokens=step.tokens * scn.draft.tokens_per_pass,
                           device_ends_s=p.device_ends_s + draft_s(scn, step))
        cloud, device = engines(scn)
        p = self._pieces(scn, step, cloud, device)
        if decode_rows.applies(scn.cloud, step):  # a CPU's batched decode
            one = self._pieces(scn, Step("decode", 1, step.context_tokens, transport=step.transport), cloud, device)
            p = decode_rows.apply(p, one, scn.cloud.decode_rows, step.batch)
        return resume.apply(p, scn.cloud, scn.device, self.link(scn.link).rtt_s)

    def _pieces(self, scn, step, cloud, device) -> Pieces:
        """The pieces as each side runs them back to back."""
        a, model = scn.adapter, scn.model
        works = stage_works(model, a, step)
        sw = step_work(model, a, step, works)
        ends, held = sw.ends, sw.held
        n_cloud, adapted, bits = cloud_layers(model, a), adapted_layer_indices(model, a), (a.cloud_weight_bits, a.act_bits)
        if scn.placement is None:
            stack, source = stack_s(cloud, cloud_view(model, a), step, bits, with_ends=False)
            stage_cloud = [cloud.cloud_s(w, calls=1) for w in works]
        else:  # each server's own layers on its own hardware (placement.py)
            from ..placement import chain_stack_s, chain_stage_s
            from ..placement import engines as chain_engines

            chain = chain_engines(scn)  # each server's engine, once a step
            (stack, source), stage_cloud = chain_stack_s(chain, model, step, bits), chain_stage_s(chain, works, adapted)
        return Pieces(
            tokens=step.tokens, n_layers=n_cloud, adapted=adapted,
            cloud_layer_s=stack / n_cloud,
            stage_cloud_s=stage_cloud,
            stage_device_s=[device.device_s(w, calls=1) for w in works],
            stage_c2d_bytes=[w.c2d_bytes for w in works], stage_d2c_bytes=[w.d2c_bytes for w in works],
            up_bytes=ends.d2c_bytes, down_bytes=ends.c2d_bytes + held.c2d_bytes,
            device_ends_s=device.device_s(ends, calls=1) + (device.device_s(held, layers=a.held) if a.held else 0.0),
            cloud_source=source, hops_s=hops_s(scn, step))

    def step_time(self, scn, step) -> StepTime:
        if step.phase == "prefill" and scn.prefill_chunks > 1 and step.past_tokens == 0:
            from ..pipelined import step_time

            return step_time(self, scn, step)
        p, link = self.pieces(scn, step), self.link(scn.link)
        c2d, d2c = p.link_s(link)
        latency = p.n_messages * (link.rtt_s + 2 * mean_extra_delay_s(link)) + p.hops_s + zeros_like(p.tokens)
        return StepTime(p.tokens, p.cloud_s, p.device_adapter_s + p.device_ends_s, c2d + d2c, latency, p.cloud_source)
