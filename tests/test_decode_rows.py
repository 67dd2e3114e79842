"""A CPU's batched decode (decode_rows.py): the profile block, and where the accounting and the
simulation apply it."""

from dataclasses import replace

import pytest
import yaml

from plmodel import accounting
from plmodel.errors import PlmodelError
from plmodel.hardware.decode_rows import DecodeRowsSpec
from plmodel.io.profiles import hardware_from_mapping
from plmodel.sim import simulate
from plmodel.step import Step

BASE = {"memory_bandwidth_gbyte_per_s": 10, "peak_tflop_per_s": 1, "memory_gbyte": 8}


@pytest.mark.parametrize("block,fragment", [
    ({"sequences": [1, 2], "slowdown": [1.0]}, "same length"),
    ({"sequences": [2, 3], "slowdown": [1.0, 1.1]}, "starting at 1"),
    ({"sequences": [1, 3, 2], "slowdown": [1.0, 1.1, 1.2]}, "increasing"),
    ({"sequences": [1], "slowdown": [0.1]}, "0.5 to 100"),
    ({"sequences": [1]}, "sequences and slowdown"),
])
def test_bad_block_is_one_line_naming_the_field(block, fragment):
    """A bad decode_batch_slowdown block: one line naming the file, the field and what was expected."""
    with pytest.raises(PlmodelError) as exc:
        hardware_from_mapping({**BASE, "decode_batch_slowdown": block}, "me.yaml", "me")
    text = str(exc.value)
    assert text.startswith("me.yaml") and "decode_batch_slowdown" in text and fragment in text and "\n" not in text


def _cpu(scn):
    return replace(scn, cloud=replace(scn.cloud, decode_rows=DecodeRowsSpec((1, 2, 3), (1.0, 1.3, 1.6))))


def test_a_batched_decode_costs_the_curves_ratio(scenario):
    """On a memory-bound cloud (the roofline flat from 1 to 3 sequences) a decode step of 3 sequences takes
    the curve's 1.6x one sequence's cloud work, A and B included; one sequence, a prefill and a profile
    without the curve are untouched."""
    scn = scenario(rank=16, batch=3)
    acc = accounting.realistic()
    one, three = Step("decode", 1, 128), Step("decode", 3, 128)
    p1, p3 = acc.pieces(scn, one), acc.pieces(scn, three)
    q1, q3 = acc.pieces(_cpu(scn), one), acc.pieces(_cpu(scn), three)
    assert q3.cloud_layer_s == pytest.approx(1.6 * p1.cloud_layer_s)
    factor = q3.cloud_layer_s / p3.cloud_layer_s
    assert q3.stage_cloud_s == pytest.approx([s * factor for s in p3.stage_cloud_s])
    assert q3.device_adapter_s == p3.device_adapter_s and q1 == p1
    pre = Step("prefill", 3, 128)
    assert acc.pieces(_cpu(scn), pre) == acc.pieces(scn, pre)


def test_simulation_equals_closed_form_with_the_curve(scenario, paper_link):
    """Two sequences in lockstep: the simulation applies the same ratio as the closed form (decode 1e-6)."""
    scn = _cpu(scenario(rank=64, batch=2, link=replace(paper_link, rtt_s=0.005)))
    m = simulate(scn, 6).metrics
    acc = accounting.of(scn)
    steps = [acc.step_time(scn, Step("decode", 2, 128 + k)).total_s for k in range(5)]
    assert m["decode_tokens_per_s"] == pytest.approx(2 * 5 / sum(steps), rel=1e-6)


def test_calibrated_block_loads():
    """The YAML calibrate writes for a curve reads back as the same curve."""
    from plmodel.reference.calibrate import batch_yaml

    text = "\n".join([*(f"{k}: {v}" for k, v in BASE.items()), *batch_yaml(((1, 1.0), (2, 1.31), (3, 1.58)))])
    hw = hardware_from_mapping(yaml.safe_load(text), "me.yaml", "me")
    assert hw.decode_rows.x == (1, 2, 3) and hw.decode_rows.slowdown == (1.0, 1.31, 1.58)
