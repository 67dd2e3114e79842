"""The testbed's anchor: the machine's speed in the session's own minute (testbed/anchor.py)."""

from dataclasses import replace

import pytest

torch = pytest.importorskip("torch")  # the testbed's modules run the torch reference: skipped without it, as its siblings

from plmodel import accounting  # noqa: E402
from plmodel.hardware.resume import ResumeSpec  # noqa: E402
from plmodel.hardware.runtimes import CALIBRATED  # noqa: E402
from plmodel.specs import AdapterSpec, HardwareSpec, LinkSpec, ModelSpec, Scenario  # noqa: E402
from plmodel.step import Step  # noqa: E402
from plmodel.testbed.anchor import scaled, speed_factor  # noqa: E402
from plmodel.testbed.run import Session, predict, predict_anchored, with_act_bits  # noqa: E402

SMALL = ModelSpec("testbed-small", 3, 64, 4, 2, 160, 256)
HW = HardwareSpec("cpu", 20e9, 1e11, 8e9, layer_overhead_s=2e-4, call_overhead_s=2e-5)


def session(rtt_s=0.004):
    return Session(SMALL, with_act_bits(AdapterSpec(8, 4, ("q", "k", "v", "down"), layers=(0, 2))), prompt_tokens=6,
                   tokens=4, rtt_s=rtt_s)


def bare_step(s, hw):
    """The closed form's decode step of the session's last context, no RTT, on `hw` both sides."""
    scn = Scenario(s.model, s.adapter, hw, hw, LinkSpec("x", s.c2d_bps, s.d2c_bps, 0.0), s.batch, s.prompt_tokens,
                   cloud_runtime=CALIBRATED, device_runtime=CALIBRATED)
    return accounting.realistic().step_time(scn, Step("decode", s.batch, s.prompt_tokens + s.tokens - 1))


def test_scaled_machine_computes_factor_times_slower():
    """Every compute term (bandwidth, FLOP/s, a layer's and a call's fixed time) scales: the closed form's
    cloud and device compute come out exactly 1.7x; the link's terms do not move."""
    s = session()
    one, slow = bare_step(s, HW), bare_step(s, scaled(HW, 1.7))
    assert float(slow.cloud_s) == pytest.approx(1.7 * float(one.cloud_s), rel=1e-12)
    assert float(slow.device_s) == pytest.approx(1.7 * float(one.device_s), rel=1e-12)
    assert float(slow.transfer_s) == pytest.approx(float(one.transfer_s), rel=1e-12)


def test_speed_factor_is_measured_over_the_bare_closed_form():
    """A back-to-back step 1.3x the closed form's gives 1.3, whatever the profile's slowdown after a wait
    (a back-to-back step has no wait); nothing measured gives 1."""
    s = session()
    cloud = float(bare_step(s, HW).cloud_s)
    assert speed_factor(s, HW, 1.3 * cloud) == pytest.approx(1.3, rel=1e-12)
    curved = replace(HW, resume=ResumeSpec((0.0, 0.01), (1.2, 1.5)))
    assert speed_factor(s, curved, 1.3 * cloud) == pytest.approx(1.3, rel=1e-12)
    assert speed_factor(s, HW, 0.0) == 1.0


def test_anchored_prediction_scales_the_cloud_alone():
    """Anchored at the calibration's own speed the prediction is the plain one; at 2x, the cloud's compute
    in the breakdown doubles (the slowdown after a wait included) and the device's does not, so decode
    slows, by less than the cloud's share."""
    s = session()
    hw = replace(HW, resume=ResumeSpec((0.0, 0.01), (1.1, 1.4)))
    plain = predict(s, hw, 1e-4)
    cloud = float(bare_step(s, replace(hw, resume=None)).cloud_s)  # back to back: no wait, no slowdown
    m = {"measured_cloud_back_to_back_tpot_s": cloud, "message_overhead_s": 1e-4}
    same = predict_anchored(s, hw, m)
    assert same["cloud_speed_factor"] == pytest.approx(1.0, rel=1e-12)
    assert same["predicted_anchored_decode_tokens_per_s"] == pytest.approx(plain["predicted_decode_tokens_per_s"], rel=1e-12)
    double = predict_anchored(s, hw, {**m, "measured_cloud_back_to_back_tpot_s": 2 * cloud})
    assert double["predicted_anchored_breakdown_cloud_compute_s"] == pytest.approx(
        2 * plain["predicted_breakdown_cloud_compute_s"], rel=1e-12)
    slower = plain["predicted_tpot_s"] + plain["predicted_breakdown_cloud_compute_s"]
    assert double["predicted_anchored_tpot_s"] == pytest.approx(slower, rel=1e-9)


def test_cloud_back_to_back_keeps_the_context():
    """The back-to-back steps run on a prefilled cache of the session's batch, time each step, and leave
    the context where they found it."""
    pytest.importorskip("torch")
    from plmodel.testbed.anchor import cloud_back_to_back, prefilled
    from plmodel.testbed.setup import build, config

    s = session()
    split = build(config(s.model, s.adapter, seed=0))
    cache = prefilled(split, 2, 5)
    assert cache.length() == 5 and next(iter(cache.k.values())).shape[0] == 2
    times = cloud_back_to_back(split, cache, 3)
    assert len(times) == 3 and all(t > 0 for t in times) and cache.length() == 5
    assert cloud_back_to_back(split, type(cache)(), 3) == []  # nothing to decode from


def test_anchored_devices_measure_the_cohort_step():
    """For N devices the factor is the cloud's back-to-back step of all N devices' sequences over the closed
    form's for that batch: at the calibration's own speed the simulation's aggregate is the plain one; a
    cloud 1.5x slower gives a lower aggregate, but not 1.5x lower (the link's share does not slow)."""
    from plmodel.hardware.decode_rows import DecodeRowsSpec
    from plmodel.testbed.multi import predict_devices, predict_devices_anchored

    s = session()
    hw = replace(HW, decode_rows=DecodeRowsSpec((1.0, 2.0), (1.0, 1.4)))
    cohort = float(bare_step(replace(s, batch=2), hw).cloud_s)  # the curve's 1.4x at 2 sequences included
    plain = predict_devices(s, hw, 1e-4, 2)["predicted_aggregate_decode_tokens_per_s"]
    same = predict_devices_anchored(s, hw, 1e-4, 2, cohort)
    assert same["cohort_speed_factor"] == pytest.approx(1.0, rel=1e-12)
    assert same["predicted_anchored_aggregate_decode_tokens_per_s"] == pytest.approx(plain, rel=1e-9)
    slow = predict_devices_anchored(s, hw, 1e-4, 2, 1.5 * cohort)
    assert slow["cohort_speed_factor"] == pytest.approx(1.5, rel=1e-12)
    assert plain / 1.5 < slow["predicted_anchored_aggregate_decode_tokens_per_s"] < plain  # the link's share stays
