"""Vectorised estimate over many (model, rank, batch) points at once: numpy arrays, no Python loop per point."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from plmodel import accounting
from plmodel.hardware.feasibility import cloud_capacity_bytes, cloud_fit, cloud_need_bytes
from plmodel.specs import AdapterSpec, Scenario
from plmodel.step import Step


def estimate_grid(models, ranks, batches, cloud, device, link, *, mode="realistic", prompt_tokens=128,
                  adapter: AdapterSpec | None = None) -> dict:
    """Decode and prefill tokens/s on the full grid models x ranks x batches (r_c2d = r_d2c = rank).

    The adapter's ranks become arrays, validated value by value like any AdapterSpec. Returns arrays
    of shape (len(models), len(ranks), len(batches)) keyed by output name. The cloud runs on the GPUs
    a batch of one needs; in realistic mode a point whose KV cache needs more (`cloud_gpus_needed`) is
    NaN, not modelled.
    """
    base = adapter or AdapterSpec(1, 1)
    r, b = np.meshgrid(np.asarray(ranks, dtype=float), np.asarray(batches, dtype=float), indexing="ij")
    vec = replace(base, r_c2d=r, r_d2c=r)
    out = {"decode_tokens_per_s": [], "prefill_tokens_per_s": [], "cloud_gpus_needed": []}
    for m in models:
        scn = Scenario(m, vec, cloud, device, link, 1, prompt_tokens, mode)
        acc, group = accounting.of(scn), cloud_fit(scn).gpus or 1
        needed = np.ceil(cloud_need_bytes(m, vec, b, prompt_tokens) / cloud_capacity_bytes(cloud))
        out["cloud_gpus_needed"].append(needed)
        for phase in ("decode", "prefill"):
            tps = acc.step_time(scn, Step(phase, b, prompt_tokens)).tokens_per_s
            modelled = (needed <= group) | (mode == "paper")  # the paper's accounting ignores memory
            out[f"{phase}_tokens_per_s"].append(np.where(modelled, tps, np.nan))
    return {k: np.stack([np.broadcast_to(a, r.shape) for a in v]) for k, v in out.items()}
