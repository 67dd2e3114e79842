"""Does it fit? The split part and each device-only precision against the device's usable memory, and
the cloud's weights, A and B and KV cache against its GPUs' memory.

A cloud that needs more than one GPU runs tensor parallel (engine.Engine.gpus): the smallest group of
1, 2, 4 or 8 GPUs whose memory holds it and whose size divides the attention and KV heads, over the
profile's interconnect. Beyond 8 GPUs, or without an interconnect, it does not fit: the realistic
accounting refuses it; the paper's, which ignores memory (its figure runs 7B at batch 2048), reports it.
"""

from __future__ import annotations

import math

import numpy as np

from plmodel import design
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.vectors import as_bool
from plmodel.workload import residency

#: Share of a GPU's memory a serving runtime gives to weights and KV cache; the rest is the CUDA
#: context, activations and fragmentation (vLLM's default gpu_memory_utilization is 0.9).
CLOUD_MEMORY_FRACTION = 0.9
#: Tensor-parallel group sizes considered (one node).
GROUPS = (1, 2, 4, 8)


@frozen
class CloudFit:
    """Whether the cloud's share fits its GPUs: the bytes it needs, a GPU's capacity, and the group that runs it."""

    required_bytes: float  # weights, A and B, KV cache of batch x context
    capacity_bytes: float  # what one GPU gives them
    gpus_needed: int  # ceil(required / capacity)
    gpus: int  # the tensor-parallel group that runs it; 0 when none can

    @property
    def fits(self) -> bool:
        return self.gpus > 0


def device_limit_bytes(hw) -> float:
    """What one app may use on a device: its usable memory if the profile says, else all of it."""
    return hw.usable_memory_bytes or hw.memory_bytes


def split_fits_device(scn) -> bool:
    """The device's part of split inference (embedding, LM head, M) within the device's usable memory."""
    return as_bool(residency(scn.model, scn.adapter, scn.batch, scn.prompt_tokens).device_bytes + design.device_bytes(scn)
                   <= device_limit_bytes(scn.device))  # an array for a vectorised scenario


def cloud_need_bytes(model, adapter, batch, context):
    """Bytes the cloud holds: weights, A and B, the KV cache of batch x context (arrays allowed)."""
    r = residency(model, adapter, batch, context)
    return r.cloud_weight_bytes + r.cloud_adapter_bytes + r.cloud_kv_bytes


def cloud_capacity_bytes(hw) -> float:
    """What one GPU gives weights and KV cache."""
    return hw.memory_bytes * CLOUD_MEMORY_FRACTION


def group_fit(need: float, hw, model) -> CloudFit:
    """`need` bytes against a tensor-parallel group of `hw` GPUs: the smallest that holds it and divides the
    model's heads (more than one needs an interconnect)."""
    capacity = cloud_capacity_bytes(hw)
    needed = max(1, math.ceil(need / capacity))
    groups = [n for n in GROUPS if n >= needed and model.n_heads % n == 0 and model.n_kv_heads % n == 0
              and (n == 1 or hw.interconnect_bytes_per_s)]
    return CloudFit(need, float(capacity), needed, groups[0] if groups else 0)


def cloud_fit(scn) -> CloudFit:
    """The cloud's memory need against its GPUs (split and cloud-only hold the same decoder and KV); for
    a chain of servers, what one server holds against its own group (or the fit its design gives)."""
    own = design.first(scn, "cloud_fit", scn)
    return own if own is not None else group_fit(float(np.max(server_need_bytes(scn))), scn.cloud, scn.model)


def server_need_bytes(scn):
    """What one server holds: the cloud's need, or for a chain of servers the largest share of its layers."""
    return cloud_need_bytes(scn.model, scn.adapter, scn.batch, scn.prompt_tokens) * design.cloud_share(scn)


def point_gpus(scn):
    """The GPUs each point of a vectorised scenario runs on, as cloud_fit would give it alone (0: none fits)."""
    need = np.asarray(server_need_bytes(scn), dtype=float)
    values, where = np.unique(need, return_inverse=True)
    return np.array([group_fit(float(v), scn.cloud, scn.model).gpus for v in values])[where.reshape(need.shape)]


def require_cloud_fit(scn) -> CloudFit:
    """The cloud fit; in the realistic accounting a one-line refusal when no GPU group can hold it."""
    fit = cloud_fit(scn)
    if not fit.fits and scn.mode != "paper":
        raise PlmodelError(
            f"{scn.model.name} at {scn.adapter.cloud_weight_bits}-bit weights with a KV cache of {scn.batch} x "
            f"{scn.prompt_tokens} tokens needs {fit.required_bytes / 1e9:,.1f} GB, {fit.gpus_needed} GPUs of "
            f"{scn.cloud.name} ({fit.capacity_bytes / 1e9:,.1f} GB usable each); plmodel runs tensor parallel on "
            f"{', '.join(map(str, GROUPS))} GPUs that divide the model's heads"
            f"{'' if scn.cloud.interconnect_bytes_per_s else ' over the profile interconnect_gbyte_per_s (none given)'}"
            ": use fewer cloud bits, a smaller batch or context, or a larger GPU", field="cloud")
    return fit
