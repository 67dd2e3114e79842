"""Vectorised estimate over many (model, rank, batch) points at once: numpy arrays, no Python loop per point."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .analytical import split_step
from .models import canonical_model_name
from .specs import AdapterSpec


def estimate_grid(models, ranks, batches, cloud, device, link, *, mode="realistic", prompt_tokens=128,
                  adapter: AdapterSpec | None = None) -> dict:
    """Decode and prefill tokens/s on the full grid models x ranks x batches (r_c2d = r_d2c = rank).

    Returns arrays of shape (len(models), len(ranks), len(batches)) keyed by output name.
    """
    base = adapter or AdapterSpec(1, 1)
    r, b = np.meshgrid(np.asarray(ranks, dtype=float), np.asarray(batches, dtype=float), indexing="ij")
    vec = SimpleNamespace(**{**base.__dict__, "r_c2d": r, "r_d2c": r})
    out = {"decode_tokens_per_s": [], "prefill_tokens_per_s": []}
    for m in models:
        args = (m, canonical_model_name(m.name), vec, cloud, device, link)
        out["decode_tokens_per_s"].append(split_step(mode, *args, "decode", b, prompt_tokens).tokens_per_s)
        out["prefill_tokens_per_s"].append(split_step(mode, *args, "prefill", b, prompt_tokens).tokens_per_s)
    return {k: np.stack([np.broadcast_to(a, r.shape) for a in v]) for k, v in out.items()}
