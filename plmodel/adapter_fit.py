"""Does an adapter fit a model: ranks within the hidden size, adapted layers inside the model. Whether a
partition of the layers (LayerSplit) fits is checked by the design that supplies it."""

from __future__ import annotations

import numpy as np

from plmodel.errors import PlmodelError


def check_adapter_fits(model, adapter) -> None:
    """Ranks no larger than the hidden size and adapted layers inside the model."""
    for key, rank in (("rank_c2d", adapter.r_c2d), ("rank_d2c", adapter.r_d2c)):
        if np.any(np.asarray(rank) > model.d_model):
            raise PlmodelError(f"must be at most the hidden size {model.d_model}, got {np.max(rank)}", field=key)
    if "gate" in adapter.targets and getattr(model, "mlp", "swiglu") != "swiglu":
        raise PlmodelError(f"{model.name} has a GELU MLP with no gate projection to adapt", field="targets")
    layers = adapter.layers or ()
    if layers and max(layers) >= model.n_layers:
        raise PlmodelError(f"index {max(layers)} is outside 0..{model.n_layers - 1}", field="layers")
