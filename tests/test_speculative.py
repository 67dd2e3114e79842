"""Speculative decoding with a draft on the device: the expected tokens a pass, the verification
pass's counts, the closed form against the simulation, and the refusals."""

import subprocess
import sys
from dataclasses import replace

import pytest

from plmodel.analysis.estimate import estimate
from plmodel.designs import Speculative
from plmodel.errors import PlmodelError
from plmodel.io.profiles import load_link
from plmodel.models import PRESETS
from plmodel.sim import simulate
from plmodel.step import Step
from plmodel.workload import step_work


def drafted(scenario, k=4, alpha=0.7, **kw):
    return replace(scenario(**kw), designs=(Speculative(PRESETS["tinyllama-1.1b"], k, alpha),))


@pytest.mark.parametrize("k,alpha,expected", [(4, 0.7, (1 - 0.7 ** 5) / 0.3), (3, 0.0, 1.0), (5, 1.0, 6.0),
                                              (1, 0.5, 1.5)])
def test_tokens_per_pass(k, alpha, expected):
    """Leviathan et al.'s (1 - a^(k+1)) / (1 - a), and its limits."""
    assert Speculative(PRESETS["tinyllama-1.1b"], k, alpha).tokens_per_pass() == pytest.approx(expected, rel=1e-12)


def test_verification_pass_counts(scenario):
    """k + 1 positions: k + 1 times the tokens on the wire and in the projections, the KV cache read once."""
    scn = scenario()
    one, five = (step_work(scn.model, scn.adapter, Step("decode", 2, 100, None, "privatelora", p)) for p in (1, 5))
    assert five.adapters.c2d_bytes == 5 * one.adapters.c2d_bytes and five.ends.c2d_bytes == 5 * one.ends.c2d_bytes
    kv_write = one.layers.cloud_kv_bytes - five.layers.cloud_kv_bytes  # negative: 4 more tokens written a sequence
    assert kv_write == -2 * 4 * 2 * scn.model.n_kv_heads * scn.model.head_dim * 2 * scn.model.n_layers
    with pytest.raises(PlmodelError):
        Step("prefill", 1, 8, None, "privatelora", 3)


@pytest.mark.parametrize("network", ["5g-edge", "5g-median"])
def test_simulation_agrees_with_the_closed_form(scenario, network):
    """One user, no jitter: time per token within 0.5 % (the simulation's contexts grow token by token)."""
    scn = drafted(scenario, link=load_link(network))
    e = estimate(scn).flat()
    m = simulate(scn, 40, 1).metrics
    assert m["tpot_p50_s"] == pytest.approx(e["tpot_s"], rel=0.005)
    assert m["ttft_s"] == pytest.approx(e["ttft_s"], rel=1e-9)


def test_fewer_round_trips_a_token_where_latency_binds(scenario):
    """At 51 ms RTT a pass of ~2.8 tokens for one chain of round trips cuts the time per token; the draft's
    memory is on the device."""
    plain, spec = scenario(link=load_link("5g-median")), drafted(scenario, link=load_link("5g-median"))
    a, b = estimate(plain).flat(), estimate(spec).flat()
    assert b["tpot_s"] < a["tpot_s"] / 2
    assert b["device_memory_bytes"] > a["device_memory_bytes"] + 0.6e9  # TinyLlama at 4 bits (4.5 stored)
    assert b["tokens_per_pass"] == pytest.approx(2.7731, rel=1e-4)


def test_refusals(scenario):
    with pytest.raises(PlmodelError) as e:
        replace(scenario("llama-3-8b"), designs=(Speculative(PRESETS["tinyllama-1.1b"]),))
    assert e.value.field == "draft_model"
    with pytest.raises(PlmodelError) as e:
        drafted(scenario, mode="paper")
    assert e.value.field == "draft_model"
    out = subprocess.run([sys.executable, "-m", "plmodel", "estimate", "--draft-model", "tinyllama", "--draft-tokens",
                          "40"], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.startswith("ERROR: --draft-tokens")


def test_draft_bits_set_the_drafts_weights_and_time(scenario):
    """A 4-bit draft (the default) weighs about 0.6 GB and drafts faster than the same at 16 bits (2.2 GB)."""
    net = load_link("5g-edge")
    four, sixteen = (replace(scenario(link=net), designs=(Speculative(PRESETS["tinyllama-1.1b"], 4, 0.7, b),))
                     for b in (4, 16))
    e4, e16 = estimate(four), estimate(sixteen)
    grow = e16.device_memory_bytes - e4.device_memory_bytes
    assert grow == pytest.approx(1.1e9 * (2 - 4.5 / 8), rel=0.05)
    assert e4.decode.total_s < e16.decode.total_s
    assert e4.inputs["draft_bits"] == 4 and e16.inputs["draft_bits"] == 16


def test_device_only_gets_the_same_draft(scenario):
    """Device-only verifying the same draft: faster than device-only alone at each precision, and heavier by the
    draft's weights and KV cache; no such yardstick without a draft."""
    scn = drafted(scenario, link=load_link("5g-edge"))
    e = estimate(scn)
    plain = {d.bits: d for d in e.device_only}
    assert {d.bits for d in e.device_only_with_designs} == set(plain)
    for d in e.device_only_with_designs:
        assert d.decode_tokens_per_s > plain[d.bits].decode_tokens_per_s
        assert d.memory_bytes > plain[d.bits].memory_bytes + 0.6e9
    flat = e.flat()
    assert flat["device_only_speculative_4bit_decode_tokens_per_s"] == e.device_only_with_designs[-1].decode_tokens_per_s
    assert estimate(scenario()).device_only_with_designs == ()


@pytest.mark.parametrize("alpha,tokens", [(0.5, 1.9375), (0.7, 2.7731)])
def test_acceptance_range(alpha, tokens):
    """The range plan tries: a = 0.5 gives 1.94 tokens a pass of k = 4, a = 0.7 gives 2.77."""
    assert Speculative(PRESETS["tinyllama-1.1b"], 4, alpha).tokens_per_pass() == pytest.approx(tokens, rel=1e-4)
