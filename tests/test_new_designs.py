"""The designs of issue 23 as plugins: private device layers, token ids up, a confidential-computing cloud and
cloud-only with per-user LoRA; each costed in the closed form and the simulation (or refused by the generic
line), with its exposure (tests/test_privacy.py)."""

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from plmodel.analysis.estimate import estimate
from plmodel.designs import CloudLora, ConfidentialCloud, HeldLayers, PrivateLayers, TokenIdsUp
from plmodel.designs.cloud_lora import adapter_work
from plmodel.designs.tee import TEE_OVERHEAD
from plmodel.errors import PlmodelError
from plmodel.fleet.replica import replica
from plmodel.io.profiles import load_link
from plmodel.layer_sets import LayerSplit
from plmodel.sim import simulate
from plmodel.step import Step
from plmodel.workload import residency


def plmodel(*args):
    return subprocess.run([sys.executable, "-m", "plmodel", *args], capture_output=True, text=True, timeout=120)


def edge(scenario, **kw):
    return scenario(link=load_link("5g-edge"), **kw)


def test_private_layers_cost_what_held_layers_cost(scenario):
    """The flag changes no figure of time, memory or traffic: held layers already cost what they cost."""
    held = edge(scenario, designs=(HeldLayers(2, 1),))
    a, b = estimate(held).flat(), estimate(replace(held, designs=(*held.designs, PrivateLayers()))).flat()
    for key in ("tpot_s", "ttft_s", "device_memory_bytes", "c2d_bytes_per_token", "d2c_bytes_per_token",
                "round_trips_per_step", "split_usd_per_million_tokens"):
        assert a[key] == b[key]


def test_private_layers_need_held_layers(scenario):
    with pytest.raises(PlmodelError, match="layers held"):
        replace(scenario(), designs=(PrivateLayers(),))


def test_private_layers_variant_holds_its_layers(scenario):
    """plan's variant runs with its own held layers (and no cloud adapters where it says so)."""
    d = PrivateLayers(2, 2, False)
    a = replace(scenario(), adapter=d.variant_adapter(scenario().adapter), designs=(d,)).adapter
    assert (a.split, a.targets) == (LayerSplit(2, 2), ())


def test_token_ids_up_removes_the_embedding_upload(scenario):
    """4 bytes a token up instead of d_model x act_bits/8, the table off the device; time no worse."""
    plain = edge(scenario)
    ids = replace(plain, designs=(TokenIdsUp(),))
    a, b = estimate(plain), estimate(ids)
    m = plain.model
    assert a.traffic.d2c_bytes_per_token - b.traffic.d2c_bytes_per_token == m.d_model * 2 - 4
    assert a.device_memory_bytes - b.device_memory_bytes == m.vocab_size * m.d_model * 2
    assert b.decode.total_s < a.decode.total_s and b.prefill.total_s < a.prefill.total_s


def test_token_ids_up_refuses_layers_held_first(scenario):
    with pytest.raises(PlmodelError, match="held first"):
        scenario(designs=(HeldLayers(1, 0), TokenIdsUp()))


@pytest.mark.parametrize("design", [TokenIdsUp(), ConfidentialCloud(0.07)], ids=["token_ids", "tee"])
def test_simulation_agrees_with_the_closed_form(scenario, design):
    """One user, no jitter: the simulation walks the same pieces."""
    scn = replace(edge(scenario), designs=(design,))
    e = estimate(scn)
    m = simulate(scn, 8, 1).metrics
    assert m["ttft_s"] == pytest.approx(float(e.prefill.total_s), rel=1e-9)
    assert m["tpot_p50_s"] == pytest.approx(float(e.decode.total_s), rel=1e-3)


def test_tee_slows_every_cloud_second(scenario):
    """Cloud-only and the split's cloud time (1 + overhead) longer; nothing else changes."""
    plain = edge(scenario)
    tee = replace(plain, designs=(ConfidentialCloud(TEE_OVERHEAD),))
    a, b = estimate(plain), estimate(tee)
    assert a.cloud_only.decode_tokens_per_s / b.cloud_only.decode_tokens_per_s == pytest.approx(1 + TEE_OVERHEAD)
    assert float(b.decode.cloud_s / a.decode.cloud_s) == pytest.approx(1 + TEE_OVERHEAD)
    assert b.decode.latency_s == a.decode.latency_s and b.decode.device_s == a.decode.device_s


@pytest.mark.parametrize("design", [TokenIdsUp(), ConfidentialCloud(0.07), CloudLora()], ids=["ids", "tee", "lora"])
def test_the_fleet_refuses_what_it_does_not_model(scenario, design):
    with pytest.raises(PlmodelError, match="fleet engine does not model"):
        replica(replace(edge(scenario), designs=(design,)))


def test_private_layers_run_in_the_fleet(scenario):
    replica(edge(scenario, designs=(HeldLayers(1, 0), PrivateLayers())))


def test_cloud_lora_adds_each_users_adapter(scenario):
    """Per-user LoRA: 2 x tokens x r x (d_in + d_out) FLOP a projection, each sequence its own weights; slower
    cloud-only, the split unchanged, and the cost scale grows with the batch (one read a user)."""
    plain = edge(scenario, batch=4)
    lora = replace(plain, designs=(CloudLora(),))
    w = adapter_work(plain, Step("decode", 4, 128))
    assert w.cloud_weight_bytes == 4 * residency(plain.model, plain.adapter, 1, 1).cloud_adapter_bytes
    a, b = estimate(plain), estimate(lora)
    assert b.cloud_only.decode_tokens_per_s < a.cloud_only.decode_tokens_per_s
    assert b.decode.total_s == a.decode.total_s
    d = CloudLora()
    assert 1 < d.usd_scale(plain, 1) < d.usd_scale(plain, 64)
    assert b.cloud_only_exposure.cloud_can_recover == ["prompt", "output", "adapter"]


def test_cli_options_and_refusals():
    """The options come from the declarations; a dependent option alone is refused."""
    r = json.loads(plmodel("estimate", "--cloud-tee", "1", "--tee-overhead", "0.1", "--json").stdout)
    assert r["cloud_tee"] == 1 and r["tee_overhead"] == 0.1 and r["cloud_can_recover"] == []
    bad = plmodel("estimate", "--tee-overhead", "0.1")
    assert bad.returncode == 2 and "--tee-overhead" in bad.stderr
    bad = plmodel("estimate", "--private-layers", "2")
    assert bad.returncode == 2 and "--private-layers" in bad.stderr
