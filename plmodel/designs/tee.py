"""A confidential-computing cloud: the cloud's work inside a GPU trusted execution environment (NVIDIA H100
confidential computing: a CPU TEE (TDX, SEV-SNP) with the GPU in CC mode; transfers between them encrypted
through bounce buffers; the user's session ends inside the enclave after remote attestation).

The operator sees ciphertext only: with the whole model there, nothing is recoverable by the operator, at
every cloud second times (1 + overhead). The overhead is measured, not modelled:
- Zhu et al., "Confidential Computing on NVIDIA Hopper GPUs: A Performance Benchmark Study", arXiv 2409.03992:
  "for the majority of typical LLM queries, the overhead remains below 7%", larger models and longer
  sequences "nearly zero"; the penalty is the CPU-GPU transfers over PCIe, not the GPU's compute.
- Chrapek et al., "Confidential LLM Inference: Performance and Cost Across CPU and GPU TEEs", arXiv
  2509.18886 (IISWC 2025): H100 CC "throughput penalties of 4-8% that diminish as batch and input sizes grow".
- Phala Cloud's performance report (docs.phala.com, undated): "TEE adds 5-20% overhead" for LLM inference.
plmodel takes 7 % (TEE_OVERHEAD), the upper end of typical queries; the published range is about 0-20 %, the
most at one user with short sequences (where transfers weigh most). What the TEE trusts (the vendors'
hardware and attestation) and its side channels are out of scope (docs/privacy.md).
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from plmodel.bounds import require_positive
from plmodel.design import Flag, Param
from plmodel.designs.exposure import Exposure
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.hardware.engine import engines, stack_s

#: The cloud's slowdown inside an H100 TEE (fraction): 7 %, Zhu et al. 2024 (arXiv 2409.03992); range 0-0.20.
TEE_OVERHEAD = 0.07
TEE_OVERHEAD_RANGE = (0.0, 0.20)
HIDDEN = "the cloud runs inside an attested GPU TEE: the operator sees ciphertext only"


@frozen
class ConfidentialCloud(Flag):
    """The cloud's work in a GPU TEE, `overhead` slower (a fraction)."""

    overhead: float = TEE_OVERHEAD

    name: ClassVar[str] = "confidential_cloud"
    title: ClassVar[str] = "a confidential-computing cloud (GPU TEE)"
    summary: ClassVar[str] = "the cloud in a GPU TEE: the operator sees nothing; every cloud second a few % longer"
    params: ClassVar[tuple] = (
        Param("cloud_tee", "--cloud-tee", "int", 0, "1: the cloud runs inside a GPU TEE (H100 confidential "
              "computing): the operator can recover nothing, the cloud's time is --tee-overhead longer", "flag",
              absent=0, metavar="0|1"),
        Param("tee_overhead", "--tee-overhead", "float", TEE_OVERHEAD, "the cloud's slowdown in the TEE (0.07: "
              "arXiv 2409.03992; 0.04-0.08 in arXiv 2509.18886; up to 0.20 at small batch)", "fraction"),
    )
    serves: ClassVar[str] = "cloud-only"

    def __post_init__(self):
        require_positive("tee_overhead", self.overhead, allow_zero=True, maximum=10.0)

    @classmethod
    def from_values(cls, values: dict):
        return cls(values.get("tee_overhead", TEE_OVERHEAD)) if cls.asked(values) else None

    def columns(self) -> dict:
        return {"cloud_tee": 1, "tee_overhead": self.overhead}

    @classmethod
    def variants(cls, scn) -> list:
        return [(f"cloud-only in a GPU TEE (+{TEE_OVERHEAD:.0%})", cls(TEE_OVERHEAD))]

    def check(self, scn) -> None:
        if any(d.cloud_hardware() is not None for d in scn.designs):
            raise PlmodelError("a TEE on a placement's servers is not modelled; leave one out", field="cloud_tee")

    def pieces(self, scn, step, base):
        """Every cloud second of the split (1 + overhead) longer."""
        p, k = base(step), 1.0 + self.overhead
        return replace(p, cloud_layer_s=p.cloud_layer_s * k, stage_cloud_s=[s * k for s in p.stage_cloud_s])

    def whole_model_s(self, scn, step, bits):
        """Cloud-only in the TEE: the time the other designs (or the engine) give, (1 + overhead) longer."""
        own = next((x for x in (d.whole_model_s(scn, step, bits) for d in scn.designs if d is not self)
                    if x is not None), None)
        t, source = own if own is not None else stack_s(engines(scn)[0], scn.model, step, bits, with_ends=True)
        return t * (1.0 + self.overhead), f"{source}, +{self.overhead:.0%} TEE"

    def usd_scale(self, scn, batch) -> float:
        return 1.0 + self.overhead

    def cloud_sees(self, scn, exposure, path: str):
        return Exposure((), tuple((w, HIDDEN) for w in ("prompt", "output", "adapter")))
