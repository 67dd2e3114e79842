"""Private device layers: the decoder layers the device holds (`--device-layers-first/-last`) fine-tuned and
kept on the device, so the personalisation lives there and the cloud lacks their weights.

Their memory, compute, traffic and round trips are what held layers already cost (designs/held_layers.py: the
partition of the layers the counts read; the torch reference checks them); this design changes only what the
cloud can recover (plan's variants supply their own partition). With the
first K layers private the hidden state sent up is neither a table lookup nor an inversion of public layers;
with the last K private the cloud cannot finish the model on the hidden state it sends down. Adapters left on
the cloud's layers still cross, so M stays recoverable by least squares (plan also tries none there). Whether
a learned inversion from many (hidden state, text) pairs recovers the prompt anyway is not modelled
(docs/privacy.md).
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from plmodel.design import Flag, Param
from plmodel.designs.held_layers import check_split, where
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.layer_sets import LayerSplit

#: (first, last, adapters on the cloud's layers) that `plan` tries.
PLAN_VARIANTS = ((1, 0, True), (2, 2, True), (2, 2, False))


@frozen
class PrivateLayers(Flag):
    """The layers the device holds are private; `first`/`last` (plan's variants) set how many, None: the adapter's."""

    first: int | None = None
    last: int | None = None
    cloud_adapters: bool = True  # plan's variants: keep the adapters on the cloud's layers

    name: ClassVar[str] = "private_layers"
    title: ClassVar[str] = "private device layers"
    summary: ClassVar[str] = "the layers the device holds are fine-tuned and private: the cloud lacks their weights"
    params: ClassVar[tuple] = (
        Param("private_layers", "--private-layers", "int", 0, "1: the decoder layers the device holds "
              "(--device-layers-first, --device-layers-last) are fine-tuned and private; the personalisation lives "
              "there and the cloud lacks their weights (costs as held layers do)", "flag", absent=0, metavar="0|1"),
    )
    engines: ClassVar[tuple] = ("closed-form", "simulation", "fleet")  # it changes no time

    @classmethod
    def variants(cls, scn) -> list:
        """The first layer, the first 2 and last 2 private (adapters on the cloud's layers kept, or none there)."""
        out = []
        for first, last, kept in PLAN_VARIANTS:
            out.append((f"private layers ({where(first, last)}){'' if kept else ', no cloud adapters'}",
                        cls(first, last, kept)))
        return out

    def variant_adapter(self, adapter):
        """The adapter on every cloud layer (or with no adapters there if so asked); the layers held are
        this variant's partition (layer_split)."""
        a = replace(adapter, layers=None)
        return a if self.cloud_adapters else replace(a, targets=())

    def layer_split(self):
        """A plan variant's layers on the device; None (the CLI's design): those --device-layers-* hold."""
        return None if self.first is None else LayerSplit(self.first, self.last)

    def check(self, scn) -> None:
        if self.first is not None:
            check_split(scn.model, scn.adapter, self.field)
        if not scn.adapter.split.on_device:
            raise PlmodelError("private device layers need layers held on the device; give --device-layers-first "
                               "or --device-layers-last", field="private_layers")

    def cloud_sees(self, scn, exposure, path: str):
        """Private first layers hide the prompt, private last layers the output; M on the cloud's layers stays."""
        if path != "split":
            return exposure
        split = scn.adapter.split
        if split.first:
            exposure = exposure.without("prompt", f"the first {split.first} layer(s) are private: the hidden state "
                                        "sent up is no table lookup and no inversion of public layers")
        if split.last:
            exposure = exposure.without("output", f"the last {split.last} layer(s) are private: the cloud cannot "
                                        "finish the model on the hidden state it sends down")
        if exposure.of("adapter") is None:
            hidden = dict(exposure.hidden)
            hidden["adapter"] = ("the personalisation lives in the private layers; the cloud sees their input or "
                                 "their output, never both, and no M crosses")
            exposure = replace(exposure, hidden=tuple(hidden.items()))
        return exposure
