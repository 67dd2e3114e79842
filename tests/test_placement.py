"""Decoder layers held on the device (--device-layers-first/--device-layers-last): counts, memory,
traffic, the closed form against both simulations, refusals and the privacy statement."""

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from plmodel import designs
from plmodel.analysis.estimate import estimate
from plmodel.designs import HeldLayers, PrivateLayers, ServerChain
from plmodel.errors import PlmodelError
from plmodel.fleet.arrivals import Workload
from plmodel.fleet.run import serve
from plmodel.io.profiles import load_link
from plmodel.layer_sets import LayerSplit
from plmodel.models import layer_matmul_params
from plmodel.sim import simulate
from plmodel.step import Step
from plmodel.workload import bytes_per_weight, residency, step_work


def held(scenario, first=0, last=0, **kw):
    return scenario(designs=(HeldLayers(first, last),) if first or last else (), **kw)


def test_held_layers_move_work_and_memory_to_the_device(scenario):
    """Two layers on the device: the cloud does 30 layers' work, the device two layers' FLOPs more and
    holds their weights (device bits) and KV cache; decode traffic is unchanged, round trips fall by two."""
    base, moved = scenario(), held(scenario, 1, 1)
    step = Step("decode", 1, 128)
    a, b = step_work(base.model, base.adapter, step), step_work(moved.model, moved.adapter, step)
    per_layer = a.layers.cloud_flop / base.model.n_layers
    assert b.layers.cloud_flop == pytest.approx(a.layers.cloud_flop - 2 * per_layer, rel=1e-12)
    assert b.device_layers.device_flop == pytest.approx(2 * per_layer, rel=1e-12)
    assert b.n_round_trips == a.n_round_trips - 2
    ra, rb = (residency(s.model, s.adapter, 1, 128) for s in (base, moved))
    layer_bytes = (layer_matmul_params(base.model) + 2 * base.model.d_model) * bytes_per_weight(16)
    assert rb.device_weight_bytes - ra.device_weight_bytes == pytest.approx(2 * layer_bytes, rel=1e-12)
    assert rb.device_kv_bytes == pytest.approx(2 * ra.cloud_kv_bytes / base.model.n_layers, rel=1e-12)
    assert rb.cloud_kv_bytes + rb.device_kv_bytes == pytest.approx(ra.cloud_kv_bytes, rel=1e-12)
    assert (b.total.c2d_bytes, b.total.d2c_bytes) == (a.total.c2d_bytes - 2 * a.adapters.c2d_bytes / 32,
                                                      a.total.d2c_bytes - 2 * a.adapters.d2c_bytes / 32)


def test_last_layers_on_the_device_send_the_whole_prompt_down(scenario):
    """A prefill with the last layers on the device sends every prompt token's hidden state down."""
    scn = held(scenario, 0, 1)
    w = step_work(scn.model, scn.adapter, Step("prefill", 1, 128))
    assert w.device_layers.c2d_bytes == 127 * scn.model.d_model * 2


@pytest.mark.parametrize("first,last", [(1, 0), (0, 2), (3, 1)])
def test_simulations_equal_the_closed_form(scenario, first, last):
    """One user, no jitter: SimPy and the fleet's split server both give the closed form's TTFT and TPOT."""
    scn = held(scenario, first, last, link=load_link("5g-edge"))
    e = estimate(scn)
    m = simulate(scn, 2, 1).metrics
    assert m["ttft_s"] == pytest.approx(float(e.prefill.total_s), rel=1e-9)
    assert m["tpot_p50_s"] == pytest.approx(float(e.decode.total_s), rel=1e-9)
    f = serve(scn, Workload("closed", users=1, requests=1, prompt_tokens=128, output_tokens=2)).metrics
    assert f["ttft_mean_s"] == pytest.approx(float(e.prefill.total_s), rel=1e-9)
    assert f["tpot_mean_s"] == pytest.approx(float(e.decode.total_s), rel=1e-9)


def test_refusals(scenario):
    with pytest.raises(PlmodelError) as e:
        held(scenario, 16, 16)
    assert e.value.field == "device_layers_first"
    with pytest.raises(PlmodelError) as e:
        held(scenario, 2, 0, layers=(0, 5))
    assert e.value.field == "layers"
    with pytest.raises(PlmodelError) as e:
        held(scenario, 1, 0, mode="paper")
    assert e.value.field == "device_layers_first"


def test_the_layers_on_the_device_are_a_designs(scenario):
    """The design supplies the partition and the scenario's adapter carries it; an adapter naming layers no design
    supplies, or two designs naming different ones, is refused in one line."""
    scn = held(scenario, 2, 1)
    assert scn.adapter.split == LayerSplit(2, 1) and scn.adapter.adapted_layers(32) == tuple(range(2, 31))
    with pytest.raises(PlmodelError) as e:
        replace(scn, designs=())
    assert e.value.field == "split"
    with pytest.raises(PlmodelError) as e:
        scenario(designs=(HeldLayers(1, 0), PrivateLayers(2, 2)))
    assert e.value.field == "designs"
    variant = scenario(designs=(PrivateLayers(2, 2),))
    assert variant.adapter.split == LayerSplit(2, 2)
    assert designs.record_columns(variant)["device_layers_first"] == 2  # the columns read the partition itself


def test_cli_names_the_option_and_states_the_privacy():
    out = subprocess.run([sys.executable, "-m", "plmodel", "estimate", "--device-layers-first", "40"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.startswith("ERROR: --device-layers-first")
    out = subprocess.run([sys.executable, "-m", "plmodel", "estimate", "--device-layers-first", "2", "--json"],
                         capture_output=True, text=True)
    r = json.loads(out.stdout)
    assert r["cloud_can_recover"] == ["prompt", "output", "adapter"] and "inverts the 2 public layer" in r["privacy_reason"]


def chain(scenario, n, **kw):
    return replace(scenario(**kw), designs=(ServerChain(n, load_link("datacenter")),))


def test_a_chain_of_servers_adds_its_hops_and_splits_the_memory(scenario):
    """Four servers: three hops a step (the hidden state over the datacenter link and half its RTT),
    a quarter of the cloud's memory on each, the simulation equal to the closed form."""
    one, four = scenario(link=load_link("5g-edge")), chain(scenario, 4, link=load_link("5g-edge"))
    a, b = estimate(one), estimate(four)
    ln = load_link("datacenter")
    hop = 4096 * 2 * 8 / ln.c2d_bps + ln.rtt_s / 2  # one decode token's hidden state, no framing in this profile
    assert float(b.decode.total_s - a.decode.total_s) == pytest.approx(3 * hop, rel=1e-6)
    assert b.cloud_fit.required_bytes == pytest.approx(a.cloud_fit.required_bytes / 4, rel=1e-9)
    m = simulate(four, 2, 1).metrics
    assert m["tpot_p50_s"] == pytest.approx(float(b.decode.total_s), rel=1e-9)
    with pytest.raises(PlmodelError) as e:
        chain(scenario, 33)
    assert e.value.field == "servers"


def test_bloom_preset_has_a_gelu_mlp():
    """BLOOM-176B: 70 layers of a two-matrix GELU MLP; 176.2 B weights (the model card's 176,247,271,424
    count biases and LayerNorms too, under 0.01 % of them); no gate to adapt."""
    from plmodel.models import PRESETS, parameter_count
    from plmodel.specs import AdapterSpec, Scenario

    bloom = PRESETS["bloom-176b"]
    assert bloom.mlp == "gelu" and parameter_count(bloom) == pytest.approx(176_247_271_424, rel=1e-4)
    with pytest.raises(PlmodelError) as e:
        Scenario(bloom, AdapterSpec(64, 64, ("q", "gate")), *[None] * 3)
    assert e.value.field == "targets"
