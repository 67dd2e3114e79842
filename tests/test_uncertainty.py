"""--uncertainty: ranges checked at load, sampling seeded, percentiles and shares as the samples say."""

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from plmodel.analysis import uncertainty
from plmodel.analysis.estimate import estimate
from plmodel.errors import PlmodelError
from plmodel.hardware.runtimes import RANGES, RUNTIMES
from plmodel.io.profiles import load_hardware, load_link
from plmodel.io.scenario_ranges import scenario_ranges
from plmodel.studies.plan import Targets, plan
from plmodel.studies.plan_uncertainty import plan_uncertainty, recommended, sampled_designs


@pytest.fixture(scope="module")
def edge(scenario):
    """7B at rank 64 on the 5G edge: the energy verdict's knife edge."""
    return scenario(link=load_link("5g-edge"))


def test_lhs_reproducible_and_stratified():
    """The same seed gives the same samples; each column has one draw in each of n strata."""
    a, b = uncertainty.latin_hypercube(50, 3, 7), uncertainty.latin_hypercube(50, 3, 7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, uncertainty.latin_hypercube(50, 3, 8))
    for j in range(3):
        assert sorted(np.floor(a[:, j] * 50).astype(int)) == list(range(50))


def test_percentiles_ordered_and_reproducible(edge):
    """p5 <= p50 <= p95 for every headline, and a seed gives the same summary twice."""
    params = scenario_ranges(edge)
    s1, s2 = uncertainty.run(edge, params, 64, 3), uncertainty.run(edge, params, 64, 3)
    assert s1 == s2
    for key, *_ in uncertainty.HEADLINES:
        p5, p50, p95 = (s1[f"{key}_{q}"] for q in ("p5", "p50", "p95"))
        assert p5 <= p50 <= p95, key


def test_zero_width_range_gives_zero_width_output(edge):
    """Every range pinned to the figure itself: each percentile is the estimate's own figure."""
    params = [replace(p, low=p.value, high=p.value) for p in scenario_ranges(edge)]
    s = uncertainty.run(edge, params, 20, 0)
    flat = estimate(edge, 128, with_cost=False).flat()
    for key in ("decode_tokens_per_s", "device_energy_j_per_token", "energy_break_even_rtt_s"):
        assert s[f"{key}_p5"] == pytest.approx(s[f"{key}_p95"], rel=1e-12)
        assert s[f"{key}_p50"] == pytest.approx(flat[key], rel=1e-9)


def test_vectorised_samples_equal_one_by_one(edge):
    """The samples estimated at once equal each sample estimated as a scenario of its own."""
    params = scenario_ranges(edge)
    values = uncertainty.sample(params, 6, 1)
    rec = uncertainty.records(edge, params, values, 128)
    for i in range(6):
        flat = estimate(uncertainty.applied(edge, params, [float(v) for v in values[i]]), 128, with_cost=False).flat()
        for key in ("decode_tokens_per_s", "device_energy_j_per_token", "energy_break_even_rtt_s", "break_even_rtt_s"):
            assert rec[key][i] == pytest.approx(flat[key], rel=1e-9), key


def test_shares_match_a_direct_count(edge):
    """A verdict's share is the count of samples where it holds, over the samples."""
    params = scenario_ranges(edge)
    values = uncertainty.sample(params, 100, 5)
    rec = uncertainty.records(edge, params, values, 128)
    s = uncertainty.summary(rec, 100)
    held = sum(rec["device_energy_j_per_token"][i] < rec["device_only_energy_j_per_token"][i] for i in range(100))
    assert s["split_less_energy_than_device_only_share"] == held / 100
    assert 0 < held < 100  # on the 5G edge the energy verdict depends on the ranges


def test_baseline_moves_the_energy_break_even(edge):
    """The screen-on baseline moves split's energy break-even RTT most: ~22 ms at 0.6 W, ~9.4 ms at 2.43 W."""
    params = scenario_ranges(edge)
    at, swings = uncertainty.tornado(edge, params)["energy_break_even_rtt_s"]
    name, low, high = swings[0]
    assert name == "device power.baseline_w"
    assert low == pytest.approx(0.022, abs=1e-3) and high == pytest.approx(0.0094, abs=5e-4)
    assert at == pytest.approx(0.0097, abs=2e-4)


@pytest.mark.parametrize("line,message", [
    ("memory_bandwidth_gbyte_per_s_range: [50, 60]", "does not hold the figure itself"),
    ("memory_bandwidth_gbyte_per_s_range: [45, 35]", "expected 0 <= low <= high"),
    ("memory_bandwidth_gbyte_per_s_range: 40", "expected [low, high]"),
    ("memory_gbyte_range: [1, 8]", "no range is sampled"),
])
def test_bad_range_refused_in_one_line(tmp_path, line, message):
    """A bad range: one line naming the file and the field."""
    path = tmp_path / "phone.yaml"
    path.write_text(f"memory_bandwidth_gbyte_per_s: 40\n{line}\npeak_tflop_per_s: 1\nmemory_gbyte: 4\n")
    with pytest.raises(PlmodelError) as exc:
        load_hardware(str(path))
    assert message in str(exc.value) and str(path) in str(exc.value) and "_range" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_cli_bad_range_exit_2(tmp_path):
    """The CLI refuses a bad range with exit 2 and one line."""
    path = tmp_path / "phone.yaml"
    path.write_text("memory_bandwidth_gbyte_per_s: 40\nmemory_bandwidth_gbyte_per_s_range: [50, 60]\n"
                    "peak_tflop_per_s: 1\nmemory_gbyte: 4\n")
    r = subprocess.run([sys.executable, "-m", "plmodel", "estimate", "--model", "7b", "--device", str(path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "_range" in r.stderr


def test_estimate_json_fields():
    """estimate --uncertainty --json: <field>_p5/_p50/_p95 and the verdicts' shares."""
    r = subprocess.run([sys.executable, "-m", "plmodel", "estimate", "--model", "7b", "--network", "5g-edge",
                        "--uncertainty", "40", "--json"], capture_output=True, text=True, timeout=120)
    out = json.loads(r.stdout)
    assert out["uncertainty_samples"] == 40
    assert out["energy_break_even_rtt_s_p5"] < out["energy_break_even_rtt_s_p95"]
    assert 0 <= out["split_less_energy_than_device_only_share"] <= 1


def test_plan_shares_sum_to_one(edge):
    """plan's recommendation shares over the samples sum to 1."""
    s = plan_uncertainty(edge, Targets(), 128, 30, 0)
    assert sum(s["recommended_shares"].values()) == pytest.approx(1.0)


#: Tagged figures that carry no range of their own, and why.
UNRANGED = {"peak_tflop_per_s": "a phone's or board's peak read from its NPU or arithmetic: the runtime's flop_efficiency, "
                                "fitted against it, carries the uncertainty (runtimes.RANGES)"}


def test_every_unconfirmed_or_derived_figure_has_a_range():
    """A profile line tagged [U] or [D] (on it or its continuation comments) has a `<key>_range` sibling."""
    root = Path(__file__).resolve().parents[1]
    missing = []
    for path in sorted([*root.glob("hardware_profiles/*.yaml"), *root.glob("network_profiles/*.yaml"),
                        *root.glob("radio_profiles/*.yaml")]):
        lines = path.read_text().splitlines()
        ranged = {m.group(1) for m in (re.match(r"^\s*([a-z_0-9]+)_range:", x) for x in lines) if m}
        for i, line in enumerate(lines):
            m = re.match(r"^\s*([a-z_0-9]+):\s*[-0-9.]+\s*#(.*)$", line)
            if not m or m.group(1) in ranged or m.group(1) in UNRANGED:
                continue
            tags, j = m.group(2), i + 1
            while j < len(lines) and re.match(r"^\s+#", lines[j]):
                tags, j = tags + lines[j], j + 1
            if re.search(r"\[(U|D)[\],]", tags):
                missing.append(f"{path.name}: {m.group(1)}")
    assert not missing


def test_runtime_ranges_hold_their_figures():
    """Each runtime range names a shipped runtime's field and holds its figure."""
    for name, fields in RANGES.items():
        for field, (low, high, why) in fields.items():
            assert low <= getattr(RUNTIMES[name], field) <= high and why, (name, field)


def test_plan_over_samples_recommends_as_plan_does(edge):
    """Each sample's recommendation (all samples at once) is what `plan` recommends on that sample alone."""
    targets = Targets(tpot_s=0.011)  # cloud-only's time a token straddles it: the recommendation varies
    params = [p for p in scenario_ranges(edge) if p.owner != "speculative"]
    values = uncertainty.sample(params, 6, 2)
    rows = sampled_designs(edge, params, values, 128)
    best = recommended(rows, targets, 6)
    got = [rows[i][0] if i >= 0 else None for i in best]
    want = []
    for row in values:
        _, b = plan(uncertainty.applied(edge, params, [float(v) for v in row]), targets)
        want.append(b.design if b else None)
    assert got == want and len(set(got)) > 1
