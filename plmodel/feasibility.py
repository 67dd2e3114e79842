"""Does it fit? The split part and each device-only precision against the device's usable memory, and
the cloud's weights, A and B and KV cache against its GPU memory.

plmodel models one cloud GPU: a scenario that needs more is marked (cloud_fits false, the GPUs it
needs) in every output; tensor parallelism and its all-reduces are not modelled yet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import PlmodelError
from .workload import residency

#: Share of a GPU's memory a serving runtime gives to weights and KV cache; the rest is the CUDA
#: context, activations and fragmentation (vLLM's default gpu_memory_utilization is 0.9).
CLOUD_MEMORY_FRACTION = 0.9


@dataclass(frozen=True)
class CloudFit:
    required_bytes: float  # weights, A and B, KV cache of batch x context
    capacity_bytes: float  # what one GPU gives them
    gpus_needed: int

    @property
    def fits(self) -> bool:
        return self.gpus_needed <= 1


def device_limit_bytes(hw) -> float:
    """What one app may use on a device: its usable memory if the profile says, else all of it."""
    return hw.usable_memory_bytes or hw.memory_bytes


def split_fits_device(scn) -> bool:
    """The device's part of split inference (embedding, LM head, M) within the device's usable memory."""
    return bool(residency(scn.model, scn.adapter, scn.batch, scn.prompt_tokens).device_bytes
                <= device_limit_bytes(scn.device))


def cloud_fit(scn) -> CloudFit:
    """The cloud's memory need against one GPU (split and cloud-only hold the same decoder and KV)."""
    r = residency(scn.model, scn.adapter, scn.batch, scn.prompt_tokens)
    need = r.cloud_weight_bytes + r.cloud_adapter_bytes + r.cloud_kv_bytes
    capacity = scn.cloud.memory_bytes * CLOUD_MEMORY_FRACTION
    return CloudFit(float(need), float(capacity), max(1, math.ceil(need / capacity)))
