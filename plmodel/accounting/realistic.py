"""The realistic accounting (plmodel's default): causality, every round trip waited for.

A forward step runs in order - embedding (and any decoder layers the device holds first) and hidden
state up, then every layer on the cloud, each adapted layer stopping for its round trips (x.A down,
M on the device, back up, B) - then the last hidden state down, any layers the device holds last,
and the LM head on the device. A round trip costs both transfers, the device's M and one RTT (plus
the expected jitter of its two messages); the two ends of the stack cost one more. Cloud and device
run at their runtime's achieved speed, or a measured one for the stack. The scenario's designs
(design.py) change the pieces, the cloud's timing, the waits or the whole fold through their hooks.
"""

from __future__ import annotations

from plmodel import design
from plmodel.accounting.base import Accounting, Pieces, StepTime, zeros_like
from plmodel.hardware import decode_rows, resume
from plmodel.hardware.engine import engines, stack_s
from plmodel.route import travel_s
from plmodel.step import Step
from plmodel.workload import adapted_layer_indices, cloud_layers, cloud_view, stage_works, step_work


class RealisticAccounting(Accounting):
    name = "realistic"

    def pieces(self, scn, step) -> Pieces:
        """Pieces of a step timed by the scenario's engines (or a measured speed for the stack), as the
        scenario's designs change them (a draft model: a verification pass, design.py)."""
        return design.wrap_pieces(scn, lambda s: self._machine_pieces(scn, s))(step)

    def _machine_pieces(self, scn, step) -> Pieces:
        """The pieces as the machines run them: back to back, then a CPU's batched decode and the slowdown of
        work after a wait (the engines' measured curves)."""
        cloud, device = engines(scn)
        p = self._pieces(scn, step, cloud, device)
        if decode_rows.applies(cloud, step):  # a CPU's batched decode
            one = self._pieces(scn, Step("decode", 1, step.context_tokens, transport=step.transport), cloud, device)
            p = decode_rows.apply(p, one, cloud.batched_decode, step.batch)
        return resume.apply(p, cloud, device, self.link(scn.link).rtt_s)

    def _pieces(self, scn, step, cloud, device) -> Pieces:
        """The pieces as each side runs them back to back."""
        a, model = scn.adapter, scn.model
        works = stage_works(model, a, step)
        sw = step_work(model, a, step, works)
        ends, on_device = sw.ends, sw.device_layers
        n_cloud, adapted, bits = cloud_layers(model, a), adapted_layer_indices(model, a), (a.cloud_weight_bits, a.act_bits)
        timed = design.first(scn, "cloud_pieces", scn, step, works, bits)
        if timed is None:
            stack, source = stack_s(cloud, cloud_view(model, a), step, bits, with_ends=False)
            timed = stack, source, [cloud.cloud_s(w, calls=1) for w in works]
        stack, source, stage_cloud = timed
        return Pieces(
            tokens=step.tokens, n_layers=n_cloud, adapted=adapted,
            cloud_layer_s=stack / n_cloud,
            stage_cloud_s=stage_cloud,
            stage_device_s=[device.device_s(w, calls=1) for w in works],
            stage_c2d_bytes=[w.c2d_bytes for w in works], stage_d2c_bytes=[w.d2c_bytes for w in works],
            up_bytes=ends.d2c_bytes, down_bytes=ends.c2d_bytes + on_device.c2d_bytes,
            device_ends_s=device.device_s(ends, calls=1) + (device.device_s(on_device, layers=a.split.on_device)
                                                             if a.split.on_device else 0.0),
            cloud_source=source, hops_s=design.hops_s(scn, step))

    def step_time(self, scn, step) -> StepTime:
        own = design.first(scn, "step_time", self, scn, step)
        if own is not None:  # a design's own fold (a pipelined prefill)
            return own
        p, link = self.pieces(scn, step), self.link(scn.link)
        c2d, d2c = p.link_s(link)
        latency = p.n_messages * 2 * travel_s(link) + p.hops_s + zeros_like(p.tokens)  # each way, every message
        return StepTime(p.tokens, p.cloud_s, p.device_adapter_s + p.device_ends_s, c2d + d2c, latency, p.cloud_source)
