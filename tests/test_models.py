"""Model presets, names and Hugging Face config import."""

import json

import pytest

from plmodel.errors import PlmodelError
from plmodel.models import PRESETS, canonical_model_name, parameter_count, resolve_model

# Published parameter counts (Hugging Face model cards / safetensors metadata of each checkpoint).
PUBLISHED = {"llama-2-7b": 6_738_415_616, "llama-2-13b": 13_015_864_320, "llama-2-70b": 68_976_648_192,
             "llama-3-8b": 8_030_261_248, "llama-33b": 32_528_943_616}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_parameter_count_exact(name):
    """Every preset's parameter count equals the published one exactly."""
    assert parameter_count(PRESETS[name]) == PUBLISHED[name]


@pytest.mark.parametrize("alias,key", [("7b", "llama-2-7b"), ("13B", "llama-2-13b"), ("30b", "llama-33b"),
                                       ("33b", "llama-33b"), ("70b", "llama-2-70b"), ("llama3-8b", "llama-3-8b"),
                                       ("llama-2-7b", "llama-2-7b")])
def test_aliases(alias, key):
    """Short and long names reach the same preset."""
    assert canonical_model_name(alias) == key


def test_33b_shape():
    """LLaMA 33B (the paper's 30B): 60 layers, hidden 6656, 52 heads, FFN 17920."""
    m = PRESETS["llama-33b"]
    assert (m.n_layers, m.d_model, m.n_heads, m.d_ffn, m.vocab_size) == (60, 6656, 52, 17920, 32000)


def test_70b_uses_gqa():
    """LLaMA-2 70B has 8 KV heads: K and V are 1024 wide."""
    assert PRESETS["llama-2-70b"].kv_dim == 1024


def write(tmp_path, data, name="config.json"):
    p = tmp_path / name
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(p)


def test_hf_config_roundtrip(tmp_path):
    """A Hugging Face config of LLaMA-2 7B gives the preset's shape and count."""
    cfg = {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
           "intermediate_size": 11008, "vocab_size": 32000, "tie_word_embeddings": False}
    spec = resolve_model(write(tmp_path, cfg))
    assert parameter_count(spec) == PUBLISHED["llama-2-7b"]


def test_hf_config_tied_embeddings(tmp_path):
    """Tied embeddings count the table once."""
    cfg = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128,
           "vocab_size": 100, "tie_word_embeddings": True}
    untied = dict(cfg, tie_word_embeddings=False)
    diff = parameter_count(resolve_model(write(tmp_path, untied, "a.json"))) - parameter_count(
        resolve_model(write(tmp_path, cfg, "b.json")))
    assert diff == 64 * 100


@pytest.mark.parametrize("content,fragment", [
    ({"hidden_size": 64}, 'missing field "num_hidden_layers"'),
    ("{not json", "not valid JSON"),
    ([1, 2], "expected a JSON object"),
    ({"hidden_size": -1, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 8,
      "vocab_size": 10}, "hidden_size"),
    ({"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 5, "intermediate_size": 8,
      "vocab_size": 10}, "n_heads"),
])
def test_hf_config_errors(tmp_path, content, fragment):
    """A bad config.json names the file and what was expected."""
    path = write(tmp_path, content)
    with pytest.raises(PlmodelError) as err:
        resolve_model(path)
    assert fragment in str(err.value) and path in str(err.value)


def test_unknown_model_lists_choices():
    """An unknown name lists the presets."""
    with pytest.raises(PlmodelError, match="13b"):
        resolve_model("gpt-5")


@pytest.mark.parametrize("extra,field", [
    ({"model_type": "mixtral", "num_local_experts": 8, "num_experts_per_tok": 2}, "num_local_experts"),
    ({"model_type": "qwen2_moe", "num_experts": 60, "moe_intermediate_size": 1408}, "num_experts"),
    ({"model_type": "deepseek_v2", "n_routed_experts": 64}, "n_routed_experts"),
    ({"model_type": "gpt2"}, "model_type"),
])
def test_uncovered_configs_are_refused(tmp_path, extra, field):
    """A mixture of experts or a non-LLaMA model type is refused naming the file and the field, never read
    as a dense LLaMA (a Mixtral used to come out as a 14 GB 7B)."""
    cfg = {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32, "intermediate_size": 14336,
           "vocab_size": 32000, **extra}
    with pytest.raises(PlmodelError) as info:
        resolve_model(str(write(tmp_path, cfg)))
    assert info.value.field == field and "config.json" in str(info.value)


def test_dense_mistral_and_context_read(tmp_path):
    """A dense Mistral config loads, with its max_position_embeddings as the context limit."""
    cfg = {"model_type": "mistral", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
           "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 32000, "max_position_embeddings": 32768}
    assert resolve_model(str(write(tmp_path, cfg))).max_context_tokens == 32768


def test_presets_carry_their_published_context():
    """max_position_embeddings of the presets (their config.json; LLaMA 33B from the LLaMA paper)."""
    assert {k: m.max_context_tokens for k, m in PRESETS.items()} == {
        "llama-2-7b": 4096, "llama-2-13b": 4096, "llama-33b": 2048, "llama-2-70b": 4096, "llama-3-8b": 8192,
        "tinyllama-1.1b": 2048, "llama-3.2-1b": 131072, "bloom-176b": 2048}
