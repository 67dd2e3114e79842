"""Closed-form estimate: the realistic accounting's latency and roofline behaviour, and the baselines."""

from dataclasses import replace

import numpy as np
import pytest

from plmodel import accounting
from plmodel.analysis.estimate import estimate as estimate_typed
from plmodel.hardware.engine import Engine, stack_s
from plmodel.hardware.runtimes import PEAK, paper_cloud_runtime
from plmodel.models import PRESETS
from plmodel.specs import AdapterSpec, Scenario
from plmodel.step import Step


def estimate(scn) -> dict:
    """The flat record of an estimate (the JSON keys)."""
    return estimate_typed(scn).flat()

PAPER_RUNTIME = paper_cloud_runtime()


@pytest.mark.parametrize("rtt_ms", [0, 5, 20, 50, 100])
def test_every_token_pays_the_round_trips(scenario, paper_link, rtt_ms):
    """A decode token takes at least (adapted layers + 1) x RTT; the breakdown adds up."""
    link = replace(paper_link, rtt_s=rtt_ms * 1e-3)
    r = estimate(scenario(link=link))
    assert r["tpot_s"] >= 33 * rtt_ms * 1e-3
    parts = sum(r[f"decode_{k}_s"] for k in ("cloud", "device", "transfer", "latency"))
    assert parts == pytest.approx(r["decode_step_s"])


def test_rtt_lowers_realistic_not_paper(scenario, paper_link):
    """RTT costs tokens/s in realistic mode; the paper's accounting ignores it."""
    slow = replace(paper_link, rtt_s=0.02)
    assert estimate(scenario(link=slow))["decode_tokens_per_s"] < estimate(scenario())["decode_tokens_per_s"]
    assert estimate(scenario(link=slow, mode="paper"))["decode_tokens_per_s"] == \
        estimate(scenario(mode="paper"))["decode_tokens_per_s"]


def test_break_even_rtt_is_where_split_meets_device_only(scenario, paper_link):
    """At the break-even RTT the split decode equals the 4-bit device-only decode."""
    rtt = estimate(scenario())["break_even_rtt_s"]
    assert rtt > 0
    at = estimate(scenario(link=replace(paper_link, rtt_s=rtt)))
    assert at["decode_tokens_per_s"] == pytest.approx(at["device_only_4bit_decode_tokens_per_s"], rel=1e-9)


def test_measured_speed_takes_precedence(a100):
    """The A100's measured 7B decode sets batch-1 time; a model without one uses the roofline."""
    m = PRESETS["llama-2-7b"]
    engine, step = Engine(a100, PAPER_RUNTIME), Step("decode", 1, 128)
    t, source = stack_s(engine, m, step, (16, 16), with_ends=False)
    assert (source, t) == ("measured", pytest.approx(1 / 37.1))
    _, source = stack_s(engine, PRESETS["llama-2-70b"], step, (16, 16), with_ends=False)
    assert source == PAPER_RUNTIME.provenance


def test_batch_raises_aggregate_decode(scenario):
    """A larger batch never lowers aggregate decode tokens/s, and per-user speed does not rise."""
    rs = [estimate(scenario(batch=b)) for b in (1, 4, 16, 64, 256)]
    agg = [r["decode_tokens_per_s"] for r in rs]
    per_user = [r["decode_tokens_per_s_per_user"] for r in rs]
    assert agg == sorted(agg) and per_user == sorted(per_user, reverse=True)


def test_roofline_bound_switches_to_compute(a100, iphone, paper_link):
    """Cloud decode at peak is bandwidth bound at batch 1 and compute bound at batch 4096 (7B, one GPU)."""
    m = PRESETS["llama-2-7b"]
    scn = Scenario(m, AdapterSpec(16, 16), a100, iphone, paper_link, batch=4096, prompt_tokens=16, cloud_runtime=PEAK)
    small = accounting.realistic().step_time(scn, Step("decode", 1, 16))
    big = accounting.realistic().step_time(scn, Step("decode", 4096, 16))
    weights = 2 * 6.48e9 / 1935e9  # the decoder's weights, embedding and LM head excluded
    assert float(small.cloud_s) == pytest.approx(weights, rel=0.02)
    assert float(big.cloud_s) > 4096 * 2 * 6.48e9 / 312e12 * 0.95


def test_vectorised_equals_scalar(a100, iphone, paper_link):
    """The estimate on numpy arrays of ranks and batches equals it point by point."""
    m, acc = PRESETS["llama-2-13b"], accounting.realistic()
    ranks, batches = np.array([16, 64, 512]), np.array([1, 8, 64])
    vec_scn = Scenario(m, AdapterSpec(ranks, ranks), a100, iphone, paper_link)
    vec = acc.step_time(vec_scn, Step("decode", batches, 128)).tokens_per_s
    for i in range(3):
        one_scn = Scenario(m, AdapterSpec(int(ranks[i]), int(ranks[i])), a100, iphone, paper_link)
        one = acc.step_time(one_scn, Step("decode", int(batches[i]), 128)).tokens_per_s
        assert vec[i] == pytest.approx(float(one), rel=1e-12)


def test_vectorised_ranks_are_validated(a100, iphone, paper_link):
    """An array of ranks is checked value by value: one rank above the hidden size is refused."""
    from plmodel.errors import PlmodelError

    with pytest.raises(PlmodelError, match="rank_c2d"):
        Scenario(PRESETS["llama-2-7b"], AdapterSpec(np.array([16, 8192]), np.array([16, 16])), a100, iphone, paper_link)


def test_baselines_present_and_ordered(scenario):
    """Cloud-only beats split in paper mode; device-only 4-bit 7B fits the iPhone, 13B does not."""
    r = estimate(scenario(mode="paper"))
    assert r["cloud_only_decode_tokens_per_s"] > r["decode_tokens_per_s"] > r["split_lora_decode_tokens_per_s"]
    assert r["device_only_4bit_fits"] is True
    assert estimate(scenario("llama-2-13b"))["device_only_4bit_fits"] is False


def test_device_cost_is_small_fraction(scenario):
    """For 7B the device does under 2 % of the full model's FLOPs per token (the blog's claim)."""
    r = estimate(scenario(rank=128))
    assert r["device_flop_per_token"] / r["device_only_flop_per_token"] < 0.02
