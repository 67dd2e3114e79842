"""Runtimes: each shipped runtime reproduces the published measurements it was fitted to."""

import pytest

from plmodel.errors import PlmodelError
from plmodel.hardware.engine import Engine, modelled_stack_s
from plmodel.hardware.runtimes import RUNTIMES, lookup
from plmodel.io.profiles import load_hardware
from plmodel.models import PRESETS
from plmodel.step import Step

ANCHORED = [(r, a) for r in RUNTIMES.values() for a in r.anchors]


@pytest.mark.parametrize("runtime,anchor", ANCHORED, ids=lambda x: getattr(x, "name", None) or
                         f"{getattr(x, 'model', '')}-{getattr(x, 'phase', '')}-{getattr(x, 'prompt_tokens', '')}"
                         f"-{getattr(x, 'gpus', '')}gpu")
def test_runtime_reproduces_its_anchors(runtime, anchor):
    """The modelled whole-model speed (no measured shortcut) is within the runtime's stated tolerance."""
    engine = Engine(load_hardware(anchor.hardware), runtime, anchor.gpus)
    step = Step(anchor.phase, anchor.batch, anchor.prompt_tokens)
    t = modelled_stack_s(engine, PRESETS[anchor.model], step, (anchor.weight_bits, 16), with_ends=True)
    tolerance = anchor.tolerance or runtime.tolerance
    assert float(step.tokens / t) == pytest.approx(anchor.tokens_per_s, rel=tolerance)


def test_anchored_runtimes_have_anchors_and_sources():
    """Every runtime that calls itself anchored names its sources and has at least one anchor."""
    for r in RUNTIMES.values():
        assert r.provenance in ("anchored", "peak", "measured")
        if r.provenance == "anchored":
            assert r.anchors and r.source and 0 < r.tolerance <= 0.1, r.name


def test_optimized_is_faster_than_eager_and_slower_than_peak():
    """On the same A100, 7B decode: peak > optimized > hf-eager (host time and efficiency cost speed)."""
    hw, step = load_hardware("a100-80g-pcie"), Step("decode", 1, 128)
    speed = {n: float(1 / modelled_stack_s(Engine(hw, RUNTIMES[n]), PRESETS["llama-2-7b"], step, (16, 16),
                                           with_ends=True)) for n in ("peak", "optimized", "hf-eager")}
    assert speed["peak"] > speed["optimized"] > 2 * speed["hf-eager"]


def test_unknown_runtime_refused():
    """A runtime name that is not shipped is refused naming the choices."""
    with pytest.raises(PlmodelError, match="optimized"):
        lookup("turbo")


def test_tensor_parallel_when_one_gpu_is_too_small(scenario):
    """70B at 16 bit does not fit one A100 80GB: it runs on 2 GPUs, split and cloud-only alike."""
    from plmodel.analysis.estimate import estimate

    e = estimate(scenario("llama-2-70b")).flat()
    assert (e["cloud_gpus_needed"], e["cloud_gpus"], e["cloud_fits"]) == (2, 2, True)


def test_no_gpu_group_is_refused_in_realistic_mode(scenario):
    """33B with a 2048 x 128 KV cache needs 7 A100s; 8 does not divide its 52 heads: refused, naming the cloud."""
    from plmodel.analysis.estimate import estimate

    with pytest.raises(PlmodelError) as info:
        estimate(scenario("llama-33b", batch=2048))
    assert info.value.field == "cloud" and "7 GPUs" in str(info.value)
    assert estimate(scenario("llama-33b", batch=2048, mode="paper")).flat()["cloud_fits"] is False
