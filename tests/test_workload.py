"""Workload counts: traffic follows the ranks, not the hidden size; FLOPs and memory add up."""

import pytest

from plmodel.models import PRESETS, layer_matmul_params, parameter_count
from plmodel.specs import AdapterSpec
from plmodel.step import Step
from plmodel.workload import per_layer_wire_bytes, residency, stages, step_work


@pytest.mark.parametrize("model", ["llama-2-7b", "llama-2-13b", "llama-33b"])
def test_stack_traffic_independent_of_hidden_size(model):
    """Per adapted layer and token: 3 x r_c2d values down and 3 x r_d2c up, at 2 bytes, whatever the model."""
    sw = step_work(PRESETS[model], AdapterSpec(48, 80), Step("decode", 1, 128))
    assert sw.adapters.c2d_bytes / sw.n_adapted == 3 * 48 * 2
    assert sw.adapters.d2c_bytes / sw.n_adapted == 3 * 80 * 2


def test_ends_carry_hidden_state():
    """Embeddings go up for every token; the last hidden state comes down for the logit tokens."""
    m = PRESETS["llama-2-7b"]
    sw = step_work(m, AdapterSpec(8, 8), Step("prefill", 2, 10, 2))
    assert sw.ends.d2c_bytes == 20 * m.d_model * 2
    assert sw.ends.c2d_bytes == 2 * m.d_model * 2


def test_targets_and_stages():
    """All seven projections make four round trips per layer; q,v one."""
    assert len(stages(("q", "k", "v", "o", "gate", "up", "down"))) == 4
    assert len(stages(AdapterSpec(8, 8, ("v", "q")).targets)) == 1
    assert AdapterSpec(8, 8, ("q", "v")).targets == ("q", "v")


def test_layer_subset_limits_traffic():
    """Adapters on 8 of 32 layers move a quarter of the stack traffic; the rest carry nothing."""
    m = PRESETS["llama-2-7b"]
    full = step_work(m, AdapterSpec(64, 64), Step("decode", 1, 16))
    part = step_work(m, AdapterSpec(64, 64, layers=tuple(range(8))), Step("decode", 1, 16))
    assert part.adapters.c2d_bytes * 4 == full.adapters.c2d_bytes
    rows = per_layer_wire_bytes(m, AdapterSpec(64, 64, layers=(3,)), Step("decode", 1, 16))
    assert [i for i, c2d, _ in rows if c2d] == [3]


def test_gqa_shapes_b_matrices():
    """With GQA, B of k and v is r_d2c x kv_dim: the cloud's adapter FLOPs shrink accordingly."""
    m = PRESETS["llama-2-70b"]
    w = step_work(m, AdapterSpec(16, 16), Step("decode", 1, 1)).adapters.cloud_flop / m.n_layers
    expected = 2 * (3 * m.d_model * 16 + 16 * (m.q_dim + 2 * m.kv_dim))
    assert w == expected


def test_decode_flops_are_twice_the_params():
    """A decode token at context 0 costs 2 FLOP per projection weight, plus attention over itself."""
    m = PRESETS["llama-2-7b"]
    sw = step_work(m, AdapterSpec(1, 1), Step("decode", 1, 0 + 1))
    attention = 2 * 2 * 2 * m.q_dim  # QK^T and AV over 2 positions (one cached + itself)
    assert sw.layers.cloud_flop / m.n_layers == 2 * layer_matmul_params(m) + attention


def test_prefill_flops_scale_with_tokens():
    """Prefill of n tokens does n times the projection FLOPs of one token."""
    m = PRESETS["llama-2-13b"]
    one = step_work(m, AdapterSpec(8, 8), Step("prefill", 1, 1)).layers.cloud_flop
    many = step_work(m, AdapterSpec(8, 8), Step("prefill", 1, 64)).layers.cloud_flop
    attn = lambda n: m.n_layers * 2 * 2 * n * n * m.q_dim  # noqa: E731
    assert many - attn(64) == 64 * (one - attn(1))


def test_lora_transport_ships_hidden_state():
    """The split-LoRA baseline ships d values down once per layer and every projection's output up."""
    m = PRESETS["llama-2-7b"]
    sw = step_work(m, AdapterSpec(64, 64), Step("decode", 1, 8, transport="lora"))
    assert sw.adapters.c2d_bytes / m.n_layers == m.d_model * 2
    assert sw.adapters.d2c_bytes / m.n_layers == (m.q_dim + 2 * m.kv_dim) * 2


def test_residency_accounts_for_everything():
    """Cloud weights + device weights = all parameters (16 bit), A, B and M aside."""
    m = PRESETS["llama-2-7b"]
    r = residency(m, AdapterSpec(64, 64), 1, 128)
    assert (r.cloud_weight_bytes + r.device_weight_bytes) / 2 == parameter_count(m)
    assert r.device_adapter_bytes == 3 * 32 * 64 * 64 * 2
    assert r.cloud_kv_bytes == 128 * 2 * 4096 * 32 * 2
