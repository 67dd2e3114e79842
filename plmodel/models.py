"""Model presets with exact shapes, parameter counts, and import of Hugging Face LLaMA-style configs."""

from __future__ import annotations

from plmodel.errors import PlmodelError
from plmodel.shapes import projection_shape
from plmodel.specs import LIMITS, PROJECTIONS, ModelSpec

# Shapes from each model's published config.json (meta-llama on Hugging Face; LLaMA 33B from the
# LLaMA paper, Touvron et al. 2023, Table 2, which the PrivateLoRA paper calls 30B).
_SHAPES = {  # n_layers, d_model, n_heads, n_kv_heads, d_ffn, vocab_size; max_position_embeddings
    "llama-2-7b": ((32, 4096, 32, 32, 11008, 32000), 4096),
    "llama-2-13b": ((40, 5120, 40, 40, 13824, 32000), 4096),
    "llama-33b": ((60, 6656, 52, 52, 17920, 32000), 2048),
    "llama-2-70b": ((80, 8192, 64, 8, 28672, 32000), 4096),
    "llama-3-8b": ((32, 4096, 32, 8, 14336, 128256), 8192),
    # Draft models for speculative decoding (config.json of TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T,
    # which shares LLaMA-2's tokenizer, and of meta-llama/Llama-3.2-1B, which shares LLaMA-3's)
    "tinyllama-1.1b": ((22, 2048, 32, 4, 5632, 32000), 2048),
    "llama-3.2-1b": ((16, 2048, 32, 8, 8192, 128256), 131072),
    # bigscience/bloom config.json: 70 layers, hidden 14336, 112 heads, a 4 x hidden GELU MLP, ALiBi, tied
    "bloom-176b": ((70, 14336, 112, 112, 57344, 250880), 2048),
}
#: Presets with a two-matrix GELU MLP (the rest: SwiGLU).
GELU = ("bloom-176b",)
#: Presets whose LM head is the embedding table (tie_word_embeddings in their config.json).
TIED = ("llama-3.2-1b", "bloom-176b")
PRESETS = {key: ModelSpec(key, *shape, key in TIED, key=key, max_context_tokens=ctx, mlp="gelu" if key in GELU else "swiglu")
           for key, (shape, ctx) in _SHAPES.items()}
ALIASES = {
    "7b": "llama-2-7b", "llama2-7b": "llama-2-7b",
    "13b": "llama-2-13b", "llama2-13b": "llama-2-13b",
    "30b": "llama-33b", "33b": "llama-33b", "llama-30b": "llama-33b",
    "70b": "llama-2-70b", "llama2-70b": "llama-2-70b",
    "llama3-8b": "llama-3-8b", "8b": "llama-3-8b", "meta-llama-3-8b": "llama-3-8b",
    "tinyllama": "tinyllama-1.1b", "llama3.2-1b": "llama-3.2-1b", "bloom": "bloom-176b", "176b": "bloom-176b",
}
#: Fields of a config.json that mean a mixture of experts: plmodel models dense decoders only.
MOE_FIELDS = ("num_local_experts", "num_experts", "n_routed_experts", "num_experts_per_tok", "moe_intermediate_size",
              "n_shared_experts", "router_aux_loss_coef")
#: model_type values of dense LLaMA-style decoders (RMSNorm, rotary, GQA, SwiGLU) that plmodel counts exactly.
DENSE_TYPES = ("llama", "mistral")
HF_REQUIRED = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size")
#: The integer fields of a config.json plmodel reads, each with the bound (bounds.LIMITS) of what it sets.
HF_INTEGERS = {"num_hidden_layers": "layers", "hidden_size": "width", "num_attention_heads": "width",
               "num_key_value_heads": "width", "intermediate_size": "width", "vocab_size": "width", "head_dim": "width",
               "max_position_embeddings": "tokens"}


def canonical_model_name(name: str) -> str | None:
    """The preset key for a short or long model name, or None if it is not a preset."""
    key = name.strip().lower()
    return key if key in PRESETS else ALIASES.get(key)


def model_choices(short: bool = False) -> str:
    """The accepted preset names, short and long, for error messages; `short`: the shortest name of each, for --help."""
    if short:
        names = [min([k, *(a for a, v in ALIASES.items() if v == k)], key=lambda n: (len(n), n)) for k in PRESETS]
        return ", ".join(names) + " or a full name"
    return ", ".join(sorted(ALIASES) + sorted(PRESETS))


def resolve_model(name_or_path: str) -> ModelSpec:
    """A preset by name, or a ModelSpec read from a Hugging Face config.json path."""
    key = canonical_model_name(name_or_path)
    if key:
        return PRESETS[key]
    from pathlib import Path  # a config.json only: the presets need neither pathlib nor json at start-up

    path = Path(name_or_path)
    if path.suffix == ".json" or path.exists():
        return load_hf_config(path)
    raise PlmodelError(f"unknown model {name_or_path!r}; expected one of {model_choices()} or a config.json path",
                       field="model")


def check_covered(cfg: dict, src: str) -> None:
    """Refuse, in one line, a config.json plmodel does not model: a mixture of experts, or a model type
    other than a dense LLaMA-style decoder (never silently counted as one)."""
    moe = [k for k in MOE_FIELDS if cfg.get(k)]
    if moe:
        raise PlmodelError("a mixture-of-experts model is not modelled (plmodel counts dense LLaMA-style "
                           "decoders; every expert's weights and the router would be missing)", src, moe[0])
    kind = cfg.get("model_type")
    if kind is not None and kind not in DENSE_TYPES:
        raise PlmodelError(f"{kind!r} is not modelled; expected a dense LLaMA-style decoder: "
                           f"{', '.join(DENSE_TYPES)}", src, "model_type")


def check_integer(value, limit: int, src: str, key: str) -> None:
    """A config.json field that must be an integer from 1 to `limit` (None and 0: absent, for optional fields);
    refused in one line before any arithmetic (a 400-digit integer would overflow a float)."""
    if value is None or (value == 0 and key not in HF_REQUIRED and not isinstance(value, bool)):
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlmodelError(f"expected an integer, got {value!r:.40}", src, key)
    if not 1 <= value <= limit:
        shown = f"{value:,}" if abs(value) < 10**15 else f"a number of {len(str(abs(value)))} digits"
        raise PlmodelError(f"expected an integer from 1 to {limit:,}, got {shown}", src, key)


def load_hf_config(path) -> ModelSpec:
    """Read a LLaMA-style Hugging Face config.json (a pathlib.Path) into a ModelSpec."""
    import json  # see resolve_model

    src = str(path)
    if not path.is_file():
        raise PlmodelError("no such file" if not path.exists() else "is not a file", src)
    try:
        cfg = json.loads(path.read_text())
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer past Python's digit limit
        raise PlmodelError(f"not valid JSON ({exc})", src) from None
    if not isinstance(cfg, dict):
        raise PlmodelError("expected a JSON object with hidden_size, num_hidden_layers, ...", src)
    check_covered(cfg, src)
    missing = [k for k in HF_REQUIRED if k not in cfg]
    if missing:
        raise PlmodelError(f'missing field "{missing[0]}" (a LLaMA-style config needs {", ".join(HF_REQUIRED)})', src)
    for key, bound in HF_INTEGERS.items():
        check_integer(cfg.get(key), LIMITS[bound], src, key)
    try:
        return ModelSpec(
            name=cfg.get("_name_or_path") or path.stem,
            n_layers=cfg["num_hidden_layers"],
            d_model=cfg["hidden_size"],
            n_heads=cfg["num_attention_heads"],
            n_kv_heads=cfg.get("num_key_value_heads") or cfg["num_attention_heads"],
            d_ffn=cfg["intermediate_size"],
            vocab_size=cfg["vocab_size"],
            tie_embeddings=bool(cfg.get("tie_word_embeddings", False)),
            head_dim=cfg.get("head_dim") or 0,
            max_context_tokens=cfg.get("max_position_embeddings") or 0,
        )
    except PlmodelError as exc:
        raise PlmodelError(str(exc), src) from None


def layer_matmul_params(model) -> int:
    """Weights of one decoder layer's seven projections (no norms)."""
    return sum(i * o for i, o in (projection_shape(model, p) for p in PROJECTIONS))


def matmul_param_count(model) -> int:
    """Weights that are multiplied per token: every decoder projection plus the LM head.

    The paper's resource table counts these (the embedding is a table lookup, norms are tiny).
    """
    return model.n_layers * layer_matmul_params(model) + model.d_model * model.vocab_size


def parameter_count(model) -> int:
    """All parameters: embedding, LM head (unless tied), projections and RMSNorm weights."""
    embed = model.vocab_size * model.d_model
    head = 0 if model.tie_embeddings else embed
    norms = (2 * model.n_layers + 1) * model.d_model
    return embed + head + model.n_layers * layer_matmul_params(model) + norms
