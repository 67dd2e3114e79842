"""A short real testbed session: exact byte counts, clean exits, and a clear error when a peer dies."""

import socket
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from plmodel.errors import PlmodelError  # noqa: E402
from plmodel.specs import AdapterSpec, ModelSpec  # noqa: E402
from plmodel.testbed.framing import FRAME_OVERHEAD_BYTES, HIDDEN, encode, read_frame  # noqa: E402
from plmodel.testbed.run import Session, device_loop, predict, run_session, start_cloud, with_act_bits  # noqa: E402
from plmodel.testbed.setup import build, config  # noqa: E402

SMALL = ModelSpec("testbed-small", 3, 64, 4, 2, 160, 256)


def session(**kw):
    base = dict(model=SMALL, adapter=with_act_bits(AdapterSpec(8, 4, ("q", "k", "v", "down"), layers=(0, 2))),
                prompt_tokens=6, tokens=4, rtt_s=0.002, timeout_s=20)
    return Session(**{**base, **kw})


def test_bytes_on_the_socket_equal_workload_plus_framing():
    """Bytes each way counted on both sockets equal the workload's counts plus 32 bytes a frame, exactly."""
    from plmodel.io.profiles import load_hardware

    s = session()
    m = run_session(s)
    p = predict(s, load_hardware("raspberry-pi-5"), m["message_overhead_s"])
    assert m["measured_c2d_bytes"] == p["predicted_c2d_bytes"] == m["cloud_counted_c2d_bytes"]
    assert m["measured_d2c_bytes"] == p["predicted_d2c_bytes"] == m["cloud_counted_d2c_bytes"]
    # 2 adapted layers x 2 stages (q,k,v and down) + the hidden state, a step; one closing frame up
    assert (m["frames_down"], m["frames_up"]) == (5 * 4, 5 * 4 + 1)
    assert m["measured_decode_tokens_per_s"] > 0 and m["measured_ttft_s"] > 0


def test_rtt_slows_tokens():
    """A 40 ms RTT makes each decode step take at least (round trips + 1) x RTT."""
    m = run_session(session(rtt_s=0.04, tokens=3))
    assert m["measured_tpot_s"] >= 5 * 0.04


def test_frame_overhead_is_32_bytes():
    """A frame is its payload plus the stated framing overhead (header, due time, shape)."""
    x = torch.zeros(2, 3, 5).numpy()
    assert len(encode(HIDDEN, 1, 0, x)) == x.nbytes + FRAME_OVERHEAD_BYTES == x.nbytes + 32


def test_killed_cloud_gives_clear_error_and_no_hang():
    """If the cloud process dies, the device fails on the dead connection (closed or reset) with the tool's error,
    not by waiting out its 5 s read timeout."""
    s = session()
    cfg = config(s.model, s.adapter, seed=0, host="127.0.0.1", timeout_s=5, c2d_bps=None, delay_s=0.0)
    proc, port = start_cloud(cfg, [])
    conn = socket.create_connection(("127.0.0.1", port), timeout=60)
    conn.settimeout(5)
    proc.kill()
    proc.wait()
    from plmodel.testbed.pacing import PacedSender

    with pytest.raises(PlmodelError, match="cloud process (closed the connection|failed)"):
        device_loop(conn, build(cfg), PacedSender(conn, None, 0.0, "cloud"), torch.zeros(1, 4, dtype=torch.long), 3)


def test_silent_peer_times_out():
    """A peer that never answers gives a timeout error, not a hang."""
    srv = socket.create_server(("127.0.0.1", 0))
    conn = socket.create_connection(srv.getsockname(), timeout=60)
    conn.settimeout(0.5)  # the read's timeout under test: a silent peer never answers, however busy the machine
    with pytest.raises(PlmodelError, match="within the timeout"):
        read_frame(conn, "cloud")
    srv.close()


def test_tbf_shaping_where_the_kernel_allows():
    """With --shaping tbf (network namespace, veth, tbf qdisc) the bytes are the same; skipped where
    this machine refuses namespaces."""
    try:
        m = run_session(session(shaping="tbf", tokens=3))
    except PlmodelError as exc:
        pytest.skip(str(exc))
    assert m["shaping"] == "tbf" and m["measured_c2d_bytes"] == m["cloud_counted_c2d_bytes"]


def test_cli_json_keys_breakdown_and_repeats():
    """`plmodel testbed --json --repeats 2` prints measured (median, min, max) and predicted figures side by
    side, and a decode step in the closed form's parts, measured and predicted: the measured parts and
    the residual add up to the measured step; the wire's part is the bytes over the bandwidth; and the
    prediction anchored to the cloud's speed around the session."""
    out = subprocess.run([sys.executable, "-m", "plmodel", "testbed", "--output-tokens", "4", "--prompt-tokens", "4",
                          "--rtt-ms", "2", "--repeats", "2", "--calibration", "hardware_profiles/raspberry-pi-5.yaml",
                          "--json"], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    import json

    from plmodel.testbed.breakdown import PARTS

    r = json.loads(out.stdout)
    for key in ("measured_decode_tokens_per_s", "predicted_decode_tokens_per_s", "measured_c2d_bytes",
                "predicted_c2d_bytes", "measured_decode_tokens_per_s_min", "measured_decode_tokens_per_s_max"):
        assert key in r
    assert r["repeats"] == 2 and r["measured_c2d_bytes"] == r["predicted_c2d_bytes"]
    assert r["measured_decode_tokens_per_s_min"] <= r["measured_decode_tokens_per_s"] <= r["measured_decode_tokens_per_s_max"]
    parts = [r[f"measured_breakdown_{k}_s"] for k in PARTS]
    assert all(f"predicted_breakdown_{k}_s" in r for k in PARTS)
    # each run's parts add up to its step; the medians of two runs, to within the runs' spread
    assert abs(sum(parts) - r["measured_tpot_s"]) <= (r["measured_tpot_s_max"] - r["measured_tpot_s_min"]) + 1e-9
    # 8 adapted layers and the ends: 9 frames each way a step, each held 1 ms, plus what came later than due
    assert r["measured_breakdown_delay_line_s"] == pytest.approx(18 * 0.001 + r["measured_breakdown_delay_line_overshoot_s"])
    assert r["measured_breakdown_wire_s"] == pytest.approx(r["predicted_breakdown_wire_s"], rel=1e-6)
    # the frames' handling is timed in both processes and taken out of their compute
    assert 0 < r["measured_breakdown_message_s"] and r["measured_breakdown_cloud_compute_s"] < r["measured_cloud_compute_tpot_s"]
    assert r["breakdown_segments_a_step"] == 9 and "decode_prediction_error_min" in r
    # anchored: the cloud's back-to-back steps around the session scale the calibrated cloud compute
    assert r["measured_cloud_back_to_back_tpot_s"] > 0 and "anchored_decode_prediction_error_min" in r
    assert r["predicted_anchored_breakdown_cloud_compute_s"] == pytest.approx(
        r["cloud_speed_factor"] * r["predicted_breakdown_cloud_compute_s"], rel=1e-9)


@pytest.mark.parametrize("args,fragment", [(["--rank", "0"], "--rank"), (["--rtt-ms", "-1"], "--rtt-ms"),
                                           (["--calibration", "/no/file.yaml"], "--calibration")])
def test_cli_bad_input(args, fragment):
    """Bad testbed options: one line, exit 2."""
    out = subprocess.run([sys.executable, "-m", "plmodel", "testbed", *args], capture_output=True, text=True)
    assert out.returncode == 2 and fragment in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_two_devices_share_one_cloud():
    """--devices 2: two device processes in lockstep on one cloud that batches their layers; each device's
    speed, their sum, and the simulation's figures for the same policy come back in --json."""
    out = subprocess.run([sys.executable, "-m", "plmodel", "testbed", "--output-tokens", "4", "--prompt-tokens", "4",
                          "--rtt-ms", "2", "--devices", "2", "--calibration", "hardware_profiles/raspberry-pi-5.yaml",
                          "--json"], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    import json

    r = json.loads(out.stdout)
    per = r["measured_per_device_decode_tokens_per_s"]
    assert r["devices"] == 2 and len(per) == 2 and all(v > 0 for v in per)
    assert r["measured_aggregate_decode_tokens_per_s"] == pytest.approx(sum(per))
    assert r["predicted_aggregate_decode_tokens_per_s"] == pytest.approx(2 * r["predicted_per_device_decode_tokens_per_s"])
    # anchored: the cloud's back-to-back step of both devices' sequences around the run
    assert r["measured_cohort_back_to_back_tpot_s"] > 0 and r["cohort_speed_factor"] > 0
    assert r["anchored_aggregate_prediction_error"] == pytest.approx(
        r["predicted_anchored_aggregate_decode_tokens_per_s"] / r["measured_aggregate_decode_tokens_per_s"] - 1)
    # lockstep: one step of both devices takes at least the RTT of each of its 9 round trips
    assert max(per) <= 1 / (9 * 0.002)
