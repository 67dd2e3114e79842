"""Invariants of the model, proved on random scenarios with hypothesis rather than on examples."""

import json
import math
from dataclasses import replace

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from plmodel import accounting
from plmodel.analysis.estimate import estimate as estimate_typed
from plmodel.hardware.feasibility import cloud_fit
from plmodel.io.profiles import available, hardware_from_mapping, hardware_to_mapping, link_from_mapping, link_to_mapping, load_hardware
from plmodel.models import PRESETS
from plmodel.sim import simulate
from plmodel.specs import PROJECTIONS, AdapterSpec, HardwareSpec, JitterSpec, LinkSpec, ModelSpec, Scenario
from plmodel.step import Step
from plmodel.workload import step_work

HW = {n: load_hardware(n) for n in available("hardware")}
CLOUDS = [HW[n] for n in ("a100-80g-pcie", "a100-80g-sxm", "h100-sxm", "h200", "l4")]
DEVICES = [HW[n] for n in ("iphone-13-pro-max", "iphone-15-pro", "snapdragon-8-gen3", "apple-m2", "raspberry-pi-5",
                           "jetson-orin-nano")]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def estimate(scn) -> dict:
    """The flat record of an estimate (the JSON keys)."""
    return estimate_typed(scn).flat()


@st.composite
def models(draw):
    """A preset, or a random small LLaMA shape (GQA included)."""
    if draw(st.booleans()):
        return PRESETS[draw(st.sampled_from(sorted(PRESETS)))]
    kv = draw(st.integers(1, 8))
    heads = kv * draw(st.integers(1, 4))
    hd = 2 * draw(st.integers(1, 32))
    return ModelSpec("random", draw(st.integers(1, 12)), heads * hd, heads, kv, draw(st.integers(1, 4096)),
                     draw(st.integers(2, 50_000)), draw(st.booleans()))


@st.composite
def links(draw):
    return LinkSpec("random", draw(st.floats(1e5, 1e12)), draw(st.floats(1e5, 1e12)), draw(st.floats(0, 0.5)))


@st.composite
def scenarios(draw, mode=None):
    model = draw(models())
    allowed = [p for p in PROJECTIONS if p != "gate" or model.mlp == "swiglu"]  # a GELU MLP has no gate
    targets = draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=len(allowed), unique=True))
    layers = draw(st.none() | st.lists(st.integers(0, model.n_layers - 1), min_size=1, max_size=4, unique=True))
    adapter = AdapterSpec(draw(st.integers(1, min(model.d_model, 1024))), draw(st.integers(1, min(model.d_model, 1024))),
                          tuple(targets), None if layers is None else tuple(layers), draw(st.sampled_from([8, 16, 32])))
    mode = mode or draw(st.sampled_from(["paper", "realistic"]))
    prompt = draw(st.integers(1, 8192))
    if mode == "realistic" and model.max_context_tokens:  # longer contexts are refused by design (test_models)
        prompt = min(prompt, model.max_context_tokens)
    scn = Scenario(model, adapter, draw(st.sampled_from(CLOUDS)), draw(st.sampled_from(DEVICES)), draw(links()),
                   draw(st.integers(1, 4096)), prompt, mode)
    if scn.mode == "realistic" and not cloud_fit(scn).fits:  # refused by design (tests/test_runtimes.py): shrink it
        scn = replace(scn, batch=1, prompt_tokens=min(scn.prompt_tokens, 256))
    assume(scn.mode == "paper" or cloud_fit(scn).fits)  # BLOOM-176B at 16 bits fits no group of 8 L4s
    return scn


def numbers(record):
    return [v for v in record.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]


@FAST
@given(scenarios())
def test_estimate_is_finite_and_positive(scn):
    """Any valid scenario: finite, positive tokens/s and times; JSON without NaN or inf."""
    r = estimate(scn)
    assert all(math.isfinite(v) for v in numbers(r))
    for key in ("prefill_tokens_per_s", "decode_tokens_per_s", "ttft_s", "tpot_s", "cloud_only_decode_tokens_per_s",
                "device_only_4bit_decode_tokens_per_s", "split_lora_decode_tokens_per_s"):
        assert r[key] > 0
    json.dumps(r, allow_nan=False)


@FAST
@given(scenarios(), st.floats(1.01, 100), st.floats(0, 0.9))
def test_more_bandwidth_or_less_rtt_never_hurts(scn, factor, cut):
    """Raising bandwidth (either way) or cutting RTT never lowers tokens/s, in either mode."""
    base = estimate(scn)
    for link in (replace(scn.link, c2d_bps=scn.link.c2d_bps * factor), replace(scn.link, d2c_bps=scn.link.d2c_bps * factor),
                 replace(scn.link, rtt_s=scn.link.rtt_s * cut)):
        better = estimate(replace(scn, link=link))
        for phase in ("prefill", "decode"):
            assert better[f"{phase}_tokens_per_s"] >= base[f"{phase}_tokens_per_s"] * (1 - 1e-12)


@FAST
@given(scenarios(mode="paper"), st.integers(1, 64))
def test_paper_mode_higher_rank_never_faster(scn, extra):
    """In paper mode a higher rank (either direction) never raises tokens/s."""
    a = scn.adapter
    hi = min(scn.model.d_model, a.r_c2d + extra), min(scn.model.d_model, a.r_d2c + extra)
    base, higher = estimate(scn), estimate(replace(scn, adapter=replace(a, r_c2d=hi[0], r_d2c=hi[1])))
    for phase in ("prefill", "decode"):
        assert higher[f"{phase}_tokens_per_s"] <= base[f"{phase}_tokens_per_s"] * (1 + 1e-12)


@FAST
@given(scenarios(), st.integers(2, 64))
def test_larger_batch_never_lowers_aggregate_decode(scn, factor):
    """A larger batch never lowers aggregate decode tokens/s."""
    bigger = replace(scn, batch=min(scn.batch * factor, 1_000_000))
    assume(scn.mode == "paper" or cloud_fit(bigger).fits)
    assert estimate(bigger)["decode_tokens_per_s"] >= estimate(scn)["decode_tokens_per_s"] * (1 - 1e-12)


@FAST
@given(scenarios(), st.data())
def test_more_adapted_layers_never_lower_traffic(scn, data):
    """Adding layers with adapters never lowers the link traffic."""
    a = scn.adapter
    current = set(a.adapted_layers(scn.model.n_layers))
    extra = data.draw(st.sets(st.integers(0, scn.model.n_layers - 1)))
    more = replace(a, layers=tuple(sorted(current | extra)))
    for phase in ("prefill", "decode"):
        w0 = step_work(scn.model, a, Step(phase, scn.batch, scn.prompt_tokens)).total
        w1 = step_work(scn.model, more, Step(phase, scn.batch, scn.prompt_tokens)).total
        assert w1.c2d_bytes >= w0.c2d_bytes and w1.d2c_bytes >= w0.d2c_bytes


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(mode="realistic"))
def test_simulation_equals_closed_form_and_conserves_bytes(scn):
    """Random scenario, no jitter, one user: the simulation's decode step equals the closed form at
    each context, and its bytes per token equal the workload's and the estimate's."""
    scn = replace(scn, prompt_tokens=min(scn.prompt_tokens, 512))
    m = simulate(scn, tokens=3).metrics
    real = accounting.realistic()
    steps = [float(real.step_time(scn, Step("decode", scn.batch, scn.prompt_tokens + k)).total_s) for k in range(2)]
    assert m["tpot_mean_s"] == pytest.approx(sum(steps) / 2, rel=1e-9)
    w = step_work(scn.model, scn.adapter, Step("decode", scn.batch, scn.prompt_tokens)).total
    e = estimate(scn)
    assert m["c2d_bytes_per_token"] == pytest.approx(w.c2d_bytes / scn.batch, rel=1e-12) == e["c2d_bytes_per_token"]
    assert m["d2c_bytes_per_token"] == pytest.approx(w.d2c_bytes / scn.batch, rel=1e-12) == e["d2c_bytes_per_token"]


@settings(max_examples=15, deadline=None)
@given(scenarios(mode="realistic"), st.integers(0, 2**32 - 1), st.floats(1.5, 20))
def test_same_seed_same_trace(scn, seed, spread):
    """With jitter, the same seed gives the same trace."""
    scn = replace(scn, prompt_tokens=min(scn.prompt_tokens, 64),
                  link=replace(scn.link, jitter=JitterSpec("lognormal", 1e-3, spread * 1e-3)))
    a, b = (simulate(scn, tokens=2, seed=seed, trace=True).trace.chrome_json() for _ in range(2))
    assert a == b


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.sampled_from([(8, 8), (12, 5), (3, 16)]),
       st.lists(st.sampled_from(PROJECTIONS), min_size=1, max_size=7, unique=True), st.integers(1, 6))
def test_torch_reference_conserves_bytes(batch, ranks, targets, n):
    """Small shapes: bytes each way per decoded token in the torch reference equal the workload's."""
    torch = pytest.importorskip("torch")
    from plmodel.reference.checks import count_checks

    spec = ModelSpec("small", 2, 32, 4, 2, 48, 64)
    checks = count_checks(spec, AdapterSpec(*ranks, tuple(targets)), batch, n, device="cpu", dtype=torch.float32)
    assert [c for c in checks if "bytes" in c.name and not c.ok] == []


@st.composite
def hardware(draw):
    pos = st.floats(1e-3, 1e5, allow_nan=False)
    return HardwareSpec("h", draw(pos) * 1e9, draw(pos) * 1e12, draw(pos) * 1e9,
                        usable_memory_bytes=draw(st.none() | pos.map(lambda v: v * 1e9)),
                        price_usd_per_hour=draw(st.none() | pos), power_w=draw(st.none() | pos), source="x")


@FAST
@given(hardware())
def test_hardware_yaml_round_trip(hw):
    """A hardware spec written to YAML and read back is equal."""
    again = hardware_from_mapping(yaml.safe_load(yaml.safe_dump(hardware_to_mapping(hw))), "x", "h")
    for key in ("mem_bw_bytes_per_s", "peak_flop_per_s", "memory_bytes", "usable_memory_bytes", "price_usd_per_hour",
                "power_w"):
        want = getattr(hw, key)
        assert getattr(again, key) == (None if want is None else pytest.approx(want, rel=1e-12))
    assert (again.name, again.measured) == (hw.name, hw.measured)


@FAST
@given(links(), st.none() | st.tuples(st.floats(0.1, 10), st.floats(1, 10)))
def test_link_yaml_round_trip(link, jit):
    """A link spec (with or without jitter) written to YAML and read back is equal."""
    if jit:
        link = replace(link, jitter=JitterSpec("lognormal", jit[0] * 1e-3, jit[0] * jit[1] * 1e-3))
    link = replace(link, source="x")
    again = link_from_mapping(yaml.safe_load(yaml.safe_dump(link_to_mapping(link))), "x", "random")
    assert again.c2d_bps == pytest.approx(link.c2d_bps, rel=1e-12) and again.rtt_s == pytest.approx(link.rtt_s, abs=1e-15)
    assert (again.jitter is None) == (link.jitter is None)
    if link.jitter:
        assert again.jitter.p99_s == pytest.approx(link.jitter.p99_s, rel=1e-12)
