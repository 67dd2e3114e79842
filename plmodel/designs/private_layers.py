"""Private device layers: the decoder layers the device holds (`--device-layers-first/-last`) fine-tuned and
kept on the device, so the personalisation lives there and the cloud lacks their weights.

Their memory, compute, traffic and round trips are what held layers already cost (AdapterSpec.device_first,
device_last; the torch reference checks them); this design changes only what the cloud can recover. With the
first K layers private the hidden state sent up is neither a table lookup nor an inversion of public layers;
with the last K private the cloud cannot finish the model on the hidden state it sends down. Adapters left on
the cloud's layers still cross, so M stays recoverable by least squares (plan also tries none there). Whether
a learned inversion from many (hidden state, text) pairs recovers the prompt anyway is not modelled
(docs/privacy.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from plmodel.design import Flag, Param
from plmodel.errors import PlmodelError

#: (first, last, adapters on the cloud's layers) that `plan` tries.
PLAN_VARIANTS = ((1, 0, True), (2, 2, True), (2, 2, False))


@dataclass(frozen=True)
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
            where = " + ".join(x for x in (f"first {first}" if first else "", f"last {last}" if last else "") if x)
            out.append((f"private layers ({where}){'' if kept else ', no cloud adapters'}",
                        cls(first, last, kept)))
        return out

    def variant_adapter(self, adapter):
        """The adapter with this variant's layers held (and no adapters on the cloud's layers if so asked)."""
        a = replace(adapter, device_first=self.first, device_last=self.last, layers=None)
        return a if self.cloud_adapters else replace(a, targets=())

    def check(self, scn) -> None:
        if not scn.adapter.held:
            raise PlmodelError("private device layers need layers held on the device; give --device-layers-first "
                               "or --device-layers-last", field="private_layers")

    def cloud_sees(self, scn, exposure, path: str):
        """Private first layers hide the prompt, private last layers the output; M on the cloud's layers stays."""
        if path != "split":
            return exposure
        a = scn.adapter
        if a.device_first:
            exposure = exposure.without("prompt", f"the first {a.device_first} layer(s) are private: the hidden state "
                                        "sent up is no table lookup and no inversion of public layers")
        if a.device_last:
            exposure = exposure.without("output", f"the last {a.device_last} layer(s) are private: the cloud cannot "
                                        "finish the model on the hidden state it sends down")
        if exposure.of("adapter") is None:
            hidden = dict(exposure.hidden)
            hidden["adapter"] = ("the personalisation lives in the private layers; the cloud sees their input or "
                                 "their output, never both, and no M crosses")
            exposure = replace(exposure, hidden=tuple(hidden.items()))
        return exposure
