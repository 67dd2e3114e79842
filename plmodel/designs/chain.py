"""A chain of cloud servers (Petals-style): the cloud's decoder layers split over N servers, the hidden state
forwarded server to server once a step. Evenly over N groups of the scenario's cloud (`--servers N`), or as
a placement file gives each server its own layers and hardware (`--placement FILE`, placement.py)."""

from __future__ import annotations

import math
from typing import ClassVar

from plmodel.bounds import require_positive
from plmodel.design import Design, Param
from plmodel.designs import placement as chain
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.link import hold_s, mean_slowdown
from plmodel.route import travel_s
from plmodel.workload import adapted_layer_indices


@frozen
class ServerChain(Design):
    """`servers` servers in a chain over `server_link`; `placement` (placement.Placement) gives each its layers
    and hardware, None: the cloud's layers evenly on groups of the scenario's cloud."""

    servers: int
    server_link: object  # specs.LinkSpec between consecutive servers
    placement: object = None

    name: ClassVar[str] = "server_chain"
    title: ClassVar[str] = "a chain of cloud servers"
    summary: ClassVar[str] = "the cloud's layers split over several servers that forward the hidden state"
    params: ClassVar[tuple] = (
        Param("servers", "--servers", "int", 1, "a chain of cloud servers splitting the cloud's layers evenly (each a "
              "group of --cloud GPUs), forwarding the hidden state over --server-network", "servers", absent=1),
        Param("server_network", "--server-network", "network", "datacenter",
              "network profile between consecutive servers", record=False),
        Param("placement", "--placement", "placement", None, "a placement YAML: each server's decoder layers and "
              "hardware (and the network between them); replaces --servers, --server-network and --cloud",
              metavar="FILE", record=False),
    )

    @classmethod
    def from_values(cls, values: dict):
        """`placement` is (Placement, its server link) as io.placements reads it, or None."""
        servers, placed = values.get("servers", 1), values.get("placement")
        if placed is not None:
            if servers != 1:
                raise PlmodelError("a placement file lists the servers; give one or the other", field="servers")
            return cls(len(placed[0].servers), placed[1], placed[0])
        return None if servers == 1 else cls(servers, values["server_network"])

    def columns(self) -> dict:
        return {"servers": self.servers}

    def inputs(self) -> dict:
        out = {"servers": self.servers, "server_network": self.server_link.name}
        if self.placement is not None:
            out.update({"placement": self.placement.source, "server_layers": ";".join(
                f"{s.start}-{s.stop - 1}@{s.hardware.name}" for s in self.placement.servers)})
        return out

    def cloud_hardware(self):
        return None if self.placement is None else self.placement.servers[0].hardware

    def check(self, scn) -> None:
        require_positive("servers", self.servers, integer=True, maximum=scn.model.n_layers - scn.adapter.split.on_device)
        if self.placement is not None:
            self.placement.check(scn.model, scn.adapter)
            if len(self.placement.servers) != self.servers:
                raise PlmodelError("a placement gives the servers (as many as it lists)", field="placement")

    def hops_s(self, scn, step):
        """N - 1 hops a step, each the step's hidden states over the servers' link (payload and framing, a
        message's software time) and half its RTT (s). Counted with the latency: the device's radio waits
        through them."""
        ln = self.server_link
        nbytes = step.tokens * scn.model.d_model * scn.adapter.act_bits / 8
        return (self.servers - 1) * (hold_s(nbytes, 1, ln.c2d_bps, ln, mean_slowdown(ln)) + travel_s(ln))

    def cloud_share(self, scn) -> float:
        """What one server holds of the cloud's memory need: the largest share of the layers."""
        n = scn.model.n_layers - scn.adapter.split.on_device
        return math.ceil(n / self.servers) / n

    def cloud_fit(self, scn):
        """A placement: the tightest server against its own group."""
        if self.placement is None:
            return None
        return max(chain.server_fits(scn, self.placement), key=lambda f: (not f.fits, f.required_bytes / f.capacity_bytes))

    def cloud_pieces(self, scn, step, works, bits):
        """A placement: each server's own layers and adapter stages on its own hardware."""
        if self.placement is None:
            return None
        engines = chain.engines(scn, self.placement)  # each server's engine, once a step
        adapted = adapted_layer_indices(scn.model, scn.adapter)
        stack, source = chain.chain_stack_s(engines, scn.model, step, bits)
        return stack, source, chain.chain_stage_s(engines, works, adapted)

    def whole_model_s(self, scn, step, bits):
        return None if self.placement is None else chain.whole_model_s(scn, self.placement, step, bits)
