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


DEVICES = ("iphone-13-pro-max", "iphone-15-pro", "snapdragon-8-gen3", "raspberry-pi-5", "apple-m2", "apple-m3",
           "jetson-orin-nano")


@pytest.mark.parametrize("name", DEVICES)
def test_device_runs_its_class_runtime_on_a_unit_it_has(name):
    """Every shipped device names its runtime, and that runtime's unit is one of the device's compute units."""
    hw = load_hardware(name)
    runtime = lookup(hw.runtime)
    assert runtime.unit in {u.name for u in hw.compute_units}, name


def test_device_runtime_efficiency_is_of_its_units_peak():
    """mlc-llm on the iPhone 13 Pro Max achieves its FLOP efficiency of the GPU's peak, not of the Neural Engine's."""
    hw = load_hardware("iphone-13-pro-max")
    gpu = next(u for u in hw.compute_units if u.name == "gpu")
    rates = Engine(hw, lookup("mlc-llm")).rates
    assert rates.flop_per_s == pytest.approx(gpu.peak_flop_per_s * lookup("mlc-llm").flop_efficiency, rel=1e-12)
    assert gpu.peak_flop_per_s < hw.peak_flop_per_s / 5  # the profile's top-level peak is the Neural Engine's


def test_paper_device_rate_unchanged_by_the_unit():
    """The A15 GPU's achieved FLOP/s equals the earlier fit's 0.041 of the paper's 18.5 TFLOP/s (paper figures hold)."""
    rates = Engine(load_hardware("iphone-13-pro-max"), lookup("mlc-llm")).rates
    assert rates.flop_per_s == pytest.approx(0.041 * 18.5e12, rel=1e-12)


def test_profile_without_units_keeps_working_and_says_what_is_assumed():
    """A device profile with no compute_units runs a device runtime on its top-level peak, and the note says so."""
    from plmodel.hardware.runtimes import on_machine
    from plmodel.io.profiles import hardware_from_mapping

    hw = hardware_from_mapping({"memory_bandwidth_gbyte_per_s": 50, "peak_tflop_per_s": 2, "memory_gbyte": 8}, "x", "old")
    runtime = lookup("mlc-llm")
    assert Engine(hw, runtime).rates.flop_per_s == pytest.approx(2e12 * runtime.flop_efficiency)
    provenance, note = on_machine(hw, runtime)
    assert provenance == "extrapolated" and "gives no compute_units" in note and "iphone-13-pro-max" in note


def test_runtime_on_a_missing_unit_is_refused(scenario):
    """The Raspberry Pi 5 has no usable GPU: mlc-llm on it is refused naming --device-runtime's field."""
    from dataclasses import replace

    from plmodel.hardware.runtimes import resolve

    scn = replace(scenario("llama-2-7b"), device=load_hardware("raspberry-pi-5"), device_runtime=lookup("mlc-llm"))
    with pytest.raises(PlmodelError, match="no gpu") as info:
        resolve(scn)
    assert info.value.field == "device_runtime"


def test_three_bit_bandwidth_efficiency_only_for_three_bits():
    """mlc-llm's own 3-bit bandwidth efficiency replaces its 4-bit one at 3 bits only."""
    runtime = lookup("mlc-llm")
    assert runtime.at_bits(4) is runtime and runtime.at_bits(16) is runtime
    assert runtime.at_bits(3).bandwidth_efficiency < runtime.bandwidth_efficiency
    assert lookup("llama-cpp").at_bits(3) is lookup("llama-cpp")


def test_cpu_runtime_decode_is_memory_bound_on_the_pi():
    """llama.cpp on the Raspberry Pi 5's CPU: a 7B 4-bit decode layer is bound by memory, by a wide margin (the
    phone-GPU FLOP fit once made it compute-bound)."""
    from plmodel.workload import layer_work

    r = Engine(load_hardware("raspberry-pi-5"), lookup("llama-cpp")).rates
    w = layer_work(PRESETS["llama-2-7b"], Step("decode", 1, 128), 4, 16)  # a decoder layer's work (the stack's side)
    assert w.cloud_bytes / r.bytes_per_s > 3 * w.cloud_flop / r.flop_per_s


def test_extrapolated_device_runtime_says_so_in_text_and_json(capsys):
    """A device whose runtime is anchored on others (the Jetson) prints a warning line and carries it in --json."""
    import json

    from plmodel.cli import main

    assert main(["estimate", "--device", "jetson-orin-nano", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["device_runtime"] == "llama-cpp-gpu" and out["device_runtime_provenance"] == "extrapolated"
    assert "apple-m3" in out["device_runtime_note"] and out["device_only_4bit_decode_source"] == "extrapolated"
    assert main(["estimate", "--device", "jetson-orin-nano"]) == 0
    assert "warning: runtime llama-cpp-gpu is anchored on apple-m3" in " ".join(capsys.readouterr().out.split())
    assert main(["estimate", "--device", "raspberry-pi-5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["device_runtime_provenance"], out["device_runtime_note"]) == ("anchored", "")


def test_plan_says_when_the_device_runtime_is_extrapolated(capsys):
    """plan --json carries the device runtime's provenance and note, as estimate does."""
    import json

    from plmodel.cli import main

    assert main(["plan", "--model", "7b", "--device", "jetson-orin-nano", "--tpot-ms", "300", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["device_runtime_provenance"] == "extrapolated" and "apple-m3" in out["device_runtime_note"]


def test_device_runtime_option_offers_every_runtime():
    """--device-runtime accepts each shipped runtime, the device classes' included."""
    import argparse

    from plmodel.cli import scenario_args

    p = argparse.ArgumentParser()
    scenario_args.register(p)
    for name in RUNTIMES:
        assert p.parse_args(["--device-runtime", name]).device_runtime == name
