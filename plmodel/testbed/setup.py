"""The testbed's configuration: one JSON-able dict shared by both processes, and the model it builds."""

from __future__ import annotations

from dataclasses import asdict

from plmodel.layer_sets import LayerSplit
from plmodel.reference.model import KVCache
from plmodel.reference.split import SplitModel
from plmodel.specs import AdapterSpec, ModelSpec

#: Both ends poll their socket while the sender thread waits for due times: with Python's default
#: 5 ms switch interval one thread could hold the other (and its message) back for milliseconds.
SWITCH_INTERVAL_S = 5e-5

#: A scaled-down LLaMA that this 2-core CPU runs in milliseconds a layer.
TESTBED_MODEL = ModelSpec("testbed-llama", 8, 512, 8, 8, 1376, 4096)


def config(model: ModelSpec, adapter: AdapterSpec, **settings) -> dict:
    return {"model": asdict(model), "adapter": {**asdict(adapter), "targets": list(adapter.targets)}, **settings}


class _LocalChannel:
    """Round trips answered in-process: only for warming up a part before the session."""

    def __init__(self, split: SplitModel):
        self.split = split

    def round_trip(self, layer, xa):
        return self.split.device_part(xa, layer=layer)


def warm_up(split: SplitModel, tokens: int) -> None:
    """One prefill and one decode in-process, so that one-time initialisation (kernel selection,
    allocator growth) is not timed, as a server warms up before it serves."""
    import torch

    cache = KVCache()
    with torch.no_grad():
        for t, start in ((tokens, 0), (1, tokens)):
            h = torch.zeros(1, t, split.spec.d_model)
            split.cloud_part(h, torch.arange(start, start + t), cache, _LocalChannel(split))
            split.device_part(h[:, -1:], part="head")
            split.device_part(torch.zeros(1, t, dtype=torch.long), part="embed")


def build(cfg: dict) -> SplitModel:
    """The same split model (same seed, same weights) in either process."""
    a = dict(cfg["adapter"])
    a["targets"] = tuple(a["targets"])
    a["layers"] = None if a["layers"] is None else tuple(a["layers"])
    a["split"] = LayerSplit(**a.get("split", {}))  # the layers on the device, a mapping in the JSON config
    return SplitModel(ModelSpec(**cfg["model"]), AdapterSpec(**a), seed=cfg["seed"])
