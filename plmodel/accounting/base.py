"""What every accounting returns: a step's timed pieces and its time, split by where it is spent."""

from __future__ import annotations

import numpy as np

from plmodel.frozen import frozen
from plmodel.link import hold_s, mean_slowdown


def zeros_like(x):
    """0 in the shape of `x` (a scalar or an array), for terms an accounting leaves out."""
    return np.zeros_like(np.asarray(x, dtype=float))


@frozen
class StepTime:
    """Time of one forward step (s), split by where it is spent, and the tokens it yields."""

    tokens: object
    cloud_s: object
    device_s: object
    transfer_s: object
    latency_s: object
    cloud_source: str
    overlap_s: object = None  # a pipelined prefill: the time its chunks hide by running at once (pipelined.py)

    @property
    def total_s(self):
        t = self.cloud_s + self.device_s + self.transfer_s + self.latency_s
        return t if self.overlap_s is None else t - self.overlap_s

    @property
    def tokens_per_s(self):
        return self.tokens / self.total_s


@frozen
class Pieces:
    """The timed pieces of one forward step, in execution order; the closed forms and the simulation
    both build on them. Per-stage lists hold one entry per round trip of an adapted layer."""

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
    hops_s: object = 0.0  # a chain of servers: the hidden state forwarded server to server, a step

    @property
    def n_round_trips(self) -> int:
        return len(self.adapted) * len(self.stage_cloud_s)

    @property
    def n_messages(self) -> int:
        """Messages each way a step: one a round trip and one at the ends of the stack."""
        return self.n_round_trips + 1

    def link_s(self, link):
        """(c2d seconds, d2c seconds) the step's messages hold each direction of `link` (expected
        bandwidth slowdown included)."""
        n, m, slow = len(self.adapted), self.n_messages, mean_slowdown(link)
        c2d = hold_s(self.down_bytes + n * sum(self.stage_c2d_bytes), m, link.c2d_bps, link, slow)
        d2c = hold_s(self.up_bytes + n * sum(self.stage_d2c_bytes), m, link.d2c_bps, link, slow)
        return c2d, d2c

    @property
    def cloud_s(self):
        return self.n_layers * self.cloud_layer_s + len(self.adapted) * sum(self.stage_cloud_s)

    @property
    def device_adapter_s(self):
        return len(self.adapted) * sum(self.stage_device_s)

    def segment_s(self, adapted, layer, k):
        """Cloud time of segment k of `layer` (`adapted`: a set of the adapted layers), the unit of GPU work the
        simulation schedules: stage k's A, the previous stage's B and a share of the layer's own work."""
        if layer not in adapted:
            return self.cloud_layer_s
        n_st = len(self.stage_cloud_s)
        a = self.stage_cloud_s[k] / 2 if k < n_st else 0.0
        b = self.stage_cloud_s[k - 1] / 2 + self.cloud_layer_s / n_st if k > 0 else 0.0
        return a + b

    def as_floats(self) -> "Pieces":
        """The same pieces with plain floats (the simulation's hot loop wants no numpy scalars)."""
        def f(v):
            return [float(x) for x in v] if isinstance(v, list) else v if isinstance(v, (int, str, tuple)) else float(v)
        return Pieces(**{k: f(v) for k, v in self.__dict__.items()})


class Accounting:
    """How a step's time is counted. Subclasses give `pieces` and `step_time`; `link` says how the
    accounting sees a link (the paper's has no latency) and `cloud_only_rtt_s` what a cloud-only
    answer waits before its first token."""

    name = ""

    def link(self, link):
        return link

    def pieces(self, scn, step) -> Pieces:
        raise NotImplementedError

    def step_time(self, scn, step) -> StepTime:
        raise NotImplementedError
