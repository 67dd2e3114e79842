"""Cloud-only with each user's own LoRA, many adapters batched on one server (S-LoRA, Sheng et al. 2023, arXiv
2311.03285; Punica, Chen et al. 2023, arXiv 2310.18547): personalisation without a split.

The cloud runs the whole model and, for every adapted projection, each sequence's own A and B (rank r_c2d and
r_d2c, --rank, on --targets): 2 x tokens x r x (d_in + d_out) FLOP, and each sequence's adapter weights read
once a step (batched kernels gather them; they do not share one read as the base weights do), the per-user
weights plmodel's split fleet also charges (fleet/costs.py, per_user_adapters). The cloud holds each user's
adapter (its memory for one user is reported) and sees everything: the prompt, the output and the adapter.
The split in the same scenario is unchanged. Its cost at load scales the cloud-only cost by the step time
with the adapters over that without at the replica's batch (the fleet does not model it).
"""

from __future__ import annotations

from typing import ClassVar

from plmodel.design import Flag, Param
from plmodel.designs.exposure import Recovery
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.hardware.engine import engines, stack_s
from plmodel.step import Step
from plmodel.workload import Work, n_adapted_layers, residency, whole


def adapter_work(scn, step: Step) -> Work:
    """The users' LoRA work of a whole-model step on the cloud: FLOP of A and B, each sequence's own weights."""
    a = whole(scn.adapter)
    r = residency(scn.model, a, 1, 1)
    params = r.cloud_adapter_bytes / (a.cloud_weight_bits / 8)
    return Work(cloud_flop=2 * step.tokens * params, cloud_weight_bytes=step.batch * r.cloud_adapter_bytes)


@frozen
class CloudLora(Flag):
    """Cloud-only serving each user's own LoRA, many adapters batched (S-LoRA / Punica)."""

    name: ClassVar[str] = "cloud_lora"
    title: ClassVar[str] = "cloud-only with per-user LoRA (many adapters batched)"
    summary: ClassVar[str] = "personalisation without a split: each user's LoRA on the cloud, S-LoRA / Punica style"
    params: ClassVar[tuple] = (
        Param("cloud_lora", "--cloud-lora", "int", 0, "1: cloud-only serves each user's own LoRA (--rank on "
              "--targets), many adapters batched S-LoRA / Punica style; the split is unchanged", "flag", absent=0,
              metavar="0|1"),
    )
    serves: ClassVar[str] = "cloud-only"

    @classmethod
    def variants(cls, scn) -> list:
        return [("cloud-only, per-user LoRA (S-LoRA style)", cls())]

    def check(self, scn) -> None:
        if not scn.adapter.targets or not n_adapted_layers(scn.model, whole(scn.adapter)):
            raise PlmodelError("per-user LoRA needs adapted projections; give --targets", field="cloud_lora")
        if any(d.cloud_hardware() is not None for d in scn.designs):
            raise PlmodelError("per-user LoRA on a placement's servers is not modelled; leave one out",
                               field="cloud_lora")

    def whole_model_s(self, scn, step, bits):
        """The whole model and every sequence's own adapter on the cloud: one batched call a projection and layer
        (Punica's SGMV; its abstract reports about 2 ms a token added, which this gives for 7B on q, k, v)."""
        cloud = engines(scn)[0]
        t, source = stack_s(cloud, scn.model, step, bits, with_ends=True)
        calls = len(scn.adapter.targets) * scn.model.n_layers
        return t + cloud.cloud_s(adapter_work(scn, step), calls=calls), f"{source} + per-user LoRA"

    def usd_scale(self, scn, batch) -> float:
        """The decode step at `batch` sequences with the adapters, over the step without."""
        cloud, bits = engines(scn)[0], (scn.adapter.cloud_weight_bits, scn.adapter.act_bits)
        step = Step("decode", max(1, round(batch)), scn.prompt_tokens)
        base, _ = stack_s(cloud, scn.model, step, bits, with_ends=True)
        return float(self.whole_model_s(scn, step, bits)[0] / base)

    def cloud_sees(self, scn, exposure, path: str):
        if path != "cloud-only":
            return exposure
        return exposure.with_(Recovery("adapter", "the cloud holds each user's LoRA weights", 0))
