"""Compute after a wait (resume.py): the profile block, the slowdown it gives, and where the accounting
and the simulation apply it."""

from dataclasses import replace

import pytest
import yaml

from plmodel import accounting
from plmodel.errors import PlmodelError
from plmodel.hardware.resume import ResumeSpec, from_mapping
from plmodel.io.profiles import hardware_from_mapping
from plmodel.sim import simulate
from plmodel.step import Step

CURVE = {"wait_ms": [0, 5, 20], "slowdown": [1.0, 1.2, 1.5]}


def test_slowdown_interpolates_between_points_and_holds_beyond():
    """Linear between the measured waits, the end values outside them."""
    r = from_mapping(CURVE, "x.yaml")
    assert r.at(0.0025) == pytest.approx(1.1) and r.at(0.0125) == pytest.approx(1.35)
    assert r.at(0.0) == 1.0 and r.at(1.0) == 1.5


@pytest.mark.parametrize("block,fragment", [
    ({"wait_ms": [0, 5], "slowdown": [1.0]}, "same length"),
    ({"wait_ms": [5, 1], "slowdown": [1.0, 1.1]}, "increasing"),
    ({"wait_ms": [0], "slowdown": [20.0]}, "0.5 to 10"),
    ({"wait_ms": "0", "slowdown": [1.0]}, "list of numbers"),
    ({"wait_ms": [0]}, "wait_ms and slowdown"),
])
def test_bad_block_is_one_line_naming_the_field(block, fragment):
    """A bad resume_after_wait block: one line naming the file, the field and what was expected."""
    with pytest.raises(PlmodelError) as exc:
        hardware_from_mapping({"memory_bandwidth_gbyte_per_s": 10, "peak_tflop_per_s": 1, "memory_gbyte": 8,
                               "resume_after_wait": block}, "me.yaml", "me")
    text = str(exc.value)
    assert text.startswith("me.yaml") and "resume_after_wait" in text and fragment in text and "\n" not in text


def _with_curve(scn, curve):
    hw = replace(scn.device, resume=ResumeSpec(*curve))
    return replace(scn, cloud=replace(scn.cloud, resume=ResumeSpec(*curve)), device=hw)


def test_accounting_slows_the_work_after_each_round_trip(scenario, paper_link):
    """At a flat 1.5x: the device's M and ends take 1.5x; the cloud gains half of each adapted layer's work
    after its round trips (the layer's own share and the stage's A and B); layers without adapters and
    the link are untouched. No curve: nothing changes."""
    scn = scenario(rank=16, link=replace(paper_link, rtt_s=0.02), layers=tuple(range(0, 32, 2)))
    slow = _with_curve(scn, ((0.0,), (1.5,)))
    acc, step = accounting.realistic(), Step("decode", 1, 128)
    p, q = acc.pieces(scn, step), acc.pieces(slow, step)
    assert q.device_adapter_s == pytest.approx(1.5 * p.device_adapter_s) and q.device_ends_s == pytest.approx(1.5 * p.device_ends_s)
    share = len(p.adapted) * (p.cloud_layer_s + sum(p.stage_cloud_s))
    assert q.cloud_s - p.cloud_s == pytest.approx(0.5 * share)
    a, b = acc.step_time(scn, step), acc.step_time(slow, step)
    assert (b.transfer_s, b.latency_s) == (a.transfer_s, a.latency_s)


def test_accounting_reads_the_curve_at_the_links_rtt(scenario, paper_link):
    """The slowdown is the curve's at the link's RTT: 1.1x at 2.5 ms on a 0 / 5 ms curve of 1.0 / 1.2x."""
    scn = scenario(rank=16, link=replace(paper_link, rtt_s=0.0025))
    slow = _with_curve(scn, ((0.0, 0.005), (1.0, 1.2)))
    acc, step = accounting.realistic(), Step("decode", 1, 128)
    assert acc.pieces(slow, step).device_ends_s == pytest.approx(1.1 * acc.pieces(scn, step).device_ends_s)


def test_simulation_equals_closed_form_with_a_curve(scenario, paper_link):
    """One user: the simulation applies the same slowdowns as the closed form (decode within 1e-6)."""
    scn = _with_curve(scenario(rank=64, link=replace(paper_link, rtt_s=0.01)), ((0.0, 0.02), (1.1, 1.6)))
    m = simulate(scn, 6).metrics
    acc = accounting.of(scn)
    steps = [acc.step_time(scn, Step("decode", 1, 128 + k)).total_s for k in range(5)]
    assert m["decode_tokens_per_s"] == pytest.approx(5 / sum(steps), rel=1e-6)


def test_calibrated_profile_carries_a_curve_it_can_load(tmp_path):
    """The YAML calibrate writes for a curve reads back as the same curve (ms -> s)."""
    from plmodel.reference.calibrate import resume_yaml

    text = "\n".join(["memory_bandwidth_gbyte_per_s: 10", "peak_tflop_per_s: 1", "memory_gbyte: 8",
                      *resume_yaml(((0.0, 1.01), (0.005, 1.2), (0.02, 1.4)))])
    hw = hardware_from_mapping(yaml.safe_load(text), "me.yaml", "me")
    assert hw.resume.x == pytest.approx((0.0, 0.005, 0.02)) and hw.resume.slowdown == (1.01, 1.2, 1.4)
    assert "not measured" in resume_yaml(None)[0]
