"""Decoder layers on the device: the device runs the first K and the last K decoder layers of the model itself
(public weights, KV cache in its memory) and the cloud the layers between, so the hidden state, not the
embeddings, goes up and the last hidden state the cloud sees is not the model's output (the PrivateLoRA blog's
"activation security").

The design supplies a partition of the layers (layer_sets.LayerSplit) that the scenario's adapter carries; the
counts follow from it in workload.py (the device's layers' FLOPs, weights and KV cache; with layers held last,
every prompt token's hidden state comes down in a prefill) and the torch reference checks them exactly
(`plmodel validate`). What the cloud can recover with public held layers is in designs/exposure.py; with
private (fine-tuned) held layers, in designs/private_layers.py.
"""

from __future__ import annotations

from typing import ClassVar

from plmodel.bounds import LIMITS, require_positive
from plmodel.design import ENGINES, Design, Param
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.layer_sets import LayerSplit

#: (first, last) that `plan` tries, with PrivateLoRA at rank 64 on the cloud's layers.
PLAN_VARIANTS = ((1, 0), (0, 1), (2, 2))


@frozen
class HeldLayers(Design):
    """The first `device_layers_first` and the last `device_layers_last` decoder layers on the device."""

    device_layers_first: int = 0
    device_layers_last: int = 0

    name: ClassVar[str] = "held_layers"
    title: ClassVar[str] = "device-held layers"
    summary: ClassVar[str] = ("the device runs the first and last K decoder layers, their KV cache in its memory; the "
                              "hidden state crosses, not embeddings")
    params: ClassVar[tuple] = (
        Param("device_layers_first", "--device-layers-first", "int", 0, "the first K decoder layers on the device",
              "layers", absent=0, metavar="K"),
        Param("device_layers_last", "--device-layers-last", "int", 0, "the last K decoder layers on the device",
              "layers", absent=0, metavar="K"),
    )
    engines: ClassVar[tuple] = ENGINES
    listed: ClassVar[bool] = True  # every estimate lists the layers on the device, 0 without the design

    @classmethod
    def from_values(cls, values: dict):
        first, last = values.get("device_layers_first", 0), values.get("device_layers_last", 0)
        for key, value in (("device_layers_first", first), ("device_layers_last", last)):
            require_positive(key, value, integer=True, allow_zero=True, maximum=LIMITS["layers"])
        return cls(first, last) if first or last else None

    @classmethod
    def scenario_columns(cls, scn) -> dict:
        """The layers the scenario's device runs, whichever design put them there (a private-layers variant)."""
        split = scn.adapter.split
        return {"device_layers_first": split.first, "device_layers_last": split.last}

    @classmethod
    def variants(cls, scn) -> list:
        """The first layer, the last, the first 2 and last 2 on the device."""
        return [(f"device holds {where(first, last)} layer(s)", cls(first, last)) for first, last in PLAN_VARIANTS]

    def layer_split(self) -> LayerSplit:
        return LayerSplit(self.device_layers_first, self.device_layers_last)

    def check(self, scn) -> None:
        check_split(scn.model, scn.adapter, self.field)


def where(first: int, last: int) -> str:
    """'first 2 + last 2', as plan's labels name the layers on the device."""
    return " + ".join(x for x in (f"first {first}" if first else "", f"last {last}" if last else "") if x)


def check_split(model, adapter, field: str) -> None:
    """The adapter's partition leaves the cloud a layer, and every adapted layer is one the cloud runs (`field`: the
    design parameter that set the partition, named in the error)."""
    first, last = adapter.split.first, adapter.split.last
    if first + last >= model.n_layers:
        raise PlmodelError(f"{first} + {last} device-held layers leave the cloud none of {model.n_layers} "
                           "(that is device-only)", field=field)
    held = [i for i in adapter.layers or () if i < first or i >= model.n_layers - last]
    if held:
        raise PlmodelError(f"layer {held[0]} is held by the device, which applies no PrivateLoRA adapter; adapt "
                           f"layers {first}..{model.n_layers - last - 1}", field="layers")
