"""The torch reference: a real split forward confirms the workload counts and the split's faithfulness."""

import pytest

torch = pytest.importorskip("torch")

from plmodel.layer_sets import LayerSplit  # noqa: E402
from plmodel.models import PRESETS  # noqa: E402
from plmodel.reference.checks import count_checks, faithfulness, scaled_down  # noqa: E402
from plmodel.reference.model import KVCache  # noqa: E402
from plmodel.reference.split import SplitModel  # noqa: E402
from plmodel.specs import PROJECTIONS, AdapterSpec, ModelSpec  # noqa: E402

SMALL = ModelSpec("small", 3, 64, 4, 2, 160, 256)  # GQA: 2 KV heads for 4 query heads

SMALL_CASES = {
    "qkv": AdapterSpec(8, 8),
    "rc2d!=rd2c": AdapterSpec(12, 5),
    "q,v only": AdapterSpec(8, 8, ("q", "v")),
    "all seven": AdapterSpec(6, 10, PROJECTIONS),
    "layer subset": AdapterSpec(8, 8, ("q", "k", "v", "down"), layers=(0, 2)),
    "device holds the first layer": AdapterSpec(8, 8, split=LayerSplit(1, 0)),
    "device holds the last layer": AdapterSpec(8, 8, ("q", "k", "v", "o"), split=LayerSplit(0, 1)),
    "device holds both ends": AdapterSpec(6, 10, PROJECTIONS, split=LayerSplit(1, 1)),
    "no adapters, last layer held": AdapterSpec(8, 8, (), split=LayerSplit(0, 1)),
}


def mismatches(checks):
    return [(c.section, c.name, c.expected, c.measured) for c in checks if not c.ok]


@pytest.mark.parametrize("case", sorted(SMALL_CASES))
@pytest.mark.parametrize("batch,n", [(1, 7), (3, 4)])
def test_small_real_run_counts_match_exactly(case, batch, n):
    """Real float32 run: bytes each way (total and per layer), FLOPs per side and memory equal the workload."""
    assert mismatches(count_checks(SMALL, SMALL_CASES[case], batch, n, device="cpu", dtype=torch.float32)) == []


@pytest.mark.parametrize("name", ["llama-2-7b", "llama-2-13b", "llama-33b", "llama-2-70b"])
def test_full_size_shapes_on_meta(name):
    """Full-size shapes, two layers built on the meta device (no weights allocated), 16-bit: exact match."""
    adapter = AdapterSpec(64, 32, ("q", "k", "v", "o", "gate", "up", "down"))
    assert mismatches(count_checks(PRESETS[name], adapter, 2, 8, build_layers=2)) == []


def test_held_layers_full_size_on_meta():
    """LLaMA-2-7B with its first two and last layer on the device: every token's hidden state comes down
    in a prefill, the held layers' weights and KV cache are the device's, exactly as counted."""
    adapter = AdapterSpec(64, 64, split=LayerSplit(2, 1))
    checks = count_checks(PRESETS["llama-2-7b"], adapter, 1, 8, build_layers=5)
    assert mismatches(checks) == []
    assert any(c.name == "KV cache bytes on the device" and c.measured > 0 for c in checks)


def test_wire_dtype_sets_bytes():
    """A bfloat16 wire halves the bytes of a float32 model: the channel counts what crosses."""
    split = SplitModel(SMALL, AdapterSpec(8, 8), wire_dtype=torch.bfloat16)
    with torch.no_grad():
        split.forward(torch.randint(0, 256, (1, 5)))
    assert {c.dtype for c in split.channel.log} == {"bfloat16"}
    assert all(c.bytes == 2 * torch.Size(c.shape).numel() for c in split.channel.log)


@pytest.mark.parametrize("case", sorted(SMALL_CASES))
def test_split_equals_merged_and_training_touches_only_m(case):
    """Split logits equal W + A M B merged (float32, rel 1e-5); one optimiser step changes only M."""
    result = faithfulness(SMALL, SMALL_CASES[case])
    assert result["max_rel_logit_diff"] < 1e-5
    assert result["device_changed"] == result["m_names"] and result["cloud_changed"] == []


@pytest.mark.parametrize("adapter", [AdapterSpec(8, 8), AdapterSpec(8, 8, split=LayerSplit(1, 1))])
def test_decode_with_cache_equals_full_forward(adapter):
    """Decoding the last token with the KV cache (the held layers' on the device) gives the same logits as a
    full forward."""
    split = SplitModel(SMALL, adapter)
    tokens = torch.randint(0, 256, (2, 6))
    with torch.no_grad():
        full = split.forward(tokens)[:, -1]
        cache = KVCache()
        split.forward(tokens[:, :-1], cache)
        step = split.forward(tokens[:, -1:], cache, logits="last")[:, -1]
    assert torch.allclose(full, step, rtol=1e-5, atol=1e-5)


def test_compact_model_matches_transformers():
    """The compact LLaMA (no adapters) equals transformers' LlamaForCausalLM on the same weights."""
    transformers = pytest.importorskip("transformers")
    cfg = transformers.LlamaConfig(hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=2, vocab_size=256, rms_norm_eps=1e-6)
    torch.manual_seed(0)
    hf = transformers.LlamaForCausalLM(cfg).eval()
    spec = ModelSpec("hf", 2, 64, 4, 2, 160, 256)
    split = SplitModel(spec, AdapterSpec(4, 4, layers=(0,)))
    split.cloud_part.layers[0].A.clear()
    split.cloud_part.layers[0].B.clear()
    sd = hf.state_dict()
    with torch.no_grad():
        split.device_part.embed.weight.copy_(sd["model.embed_tokens.weight"])
        split.device_part.norm.weight.copy_(sd["model.norm.weight"])
        split.device_part.head.weight.copy_(sd["lm_head.weight"])
        names = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj",
                 "gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj"}
        for i, layer in enumerate(split.cloud_part.layers):
            for p, hf_name in names.items():
                layer.proj[p].weight.copy_(sd[f"model.layers.{i}.{hf_name}.weight"])
            layer.attn_norm.weight.copy_(sd[f"model.layers.{i}.input_layernorm.weight"])
            layer.mlp_norm.weight.copy_(sd[f"model.layers.{i}.post_attention_layernorm.weight"])
        tokens = torch.randint(0, 256, (2, 7))
        ours, theirs = split.forward(tokens), hf(tokens).logits
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["llama-2-7b", "llama-2-70b", "llama-3-8b"])
def test_scaled_down_keeps_gqa_ratio(name):
    """The scaled-down model keeps the GQA ratio of the full one."""
    full, small = PRESETS[name], scaled_down(PRESETS[name])
    assert small.n_heads // small.n_kv_heads == full.n_heads // full.n_kv_heads and small.n_layers == 2
