"""The shape of each projection of a decoder layer (pure; works on specs whose fields are numpy arrays)."""

from __future__ import annotations


def projection_shape(model, proj: str) -> tuple:
    """(in_features, out_features) of one projection; a GELU MLP has no gate (0 outputs)."""
    d, f = model.d_model, model.d_ffn
    q_dim, kv_dim = model.n_heads * model.head_dim, model.n_kv_heads * model.head_dim
    return {
        "q": (d, q_dim), "k": (d, kv_dim), "v": (d, kv_dim), "o": (q_dim, d),
        "gate": (d, f if getattr(model, "mlp", "swiglu") == "swiglu" else 0), "up": (d, f), "down": (f, d),
    }[proj]
