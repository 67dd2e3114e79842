"""A decode step of the testbed in the closed form's terms, measured and predicted: cloud compute, device
compute, serialisation on the wire (the pacers' charges, framing included), the delay line (its set
delay, and how much later than due the frames reached their receivers), the per-message software time
(measured: each end's time converting, encoding and sending its frames and converting what it got,
taken out of its compute; predicted: the probe's time a message, times the messages), and the residual
the measured step leaves beyond them (receiving syscalls, wake-ups, the kernel's loopback)."""

from __future__ import annotations

import numpy as np

from plmodel.workload import stages

PARTS = ("cloud_compute", "device_compute", "wire", "delay_line", "message", "residual")


def messages_a_step(s) -> int:
    """Frames a decode step sends, both ways: a round trip a stage of each adapted layer, and the ends."""

    return 2 * (1 + len(s.adapter.adapted_layers(s.model.n_layers)) * len(stages(s.adapter.targets)))


def measured(s, dev: dict, cloud: dict, tpot_s: float) -> dict:
    """Medians over the decode steps of what each part took (s), and the residual against `tpot_s`."""
    pacer, n = dev["pacer"], len(dev["stamps"])
    if n < 2:
        return {}
    steps = range(1, n)
    ser = [pacer[k][0] - pacer[k - 1][0] + cloud["cloud_ser_s"][k] for k in steps]
    late = [pacer[k][1] - pacer[k - 1][1] + cloud["cloud_late_s"][k] for k in steps]
    m = messages_a_step(s)
    cloud_net = np.subtract(cloud["cloud_compute_s"], cloud["cloud_handling_s"])[1:]
    dev_net = np.subtract(dev["device_compute_s"], dev["device_handling_s"])[1:]
    handled = np.add(cloud["cloud_handling_s"], dev["device_handling_s"])[1:]
    out = {"cloud_compute": float(np.median(cloud_net)), "device_compute": float(np.median(dev_net)),
           "wire": float(np.median(ser)), "delay_line": m * s.rtt_s / 2 + float(np.median(late)),
           "message": float(np.median(handled))}
    out["residual"] = tpot_s - sum(out.values())
    out["delay_line_overshoot"] = float(np.median(late))
    return {**{f"measured_breakdown_{k}_s": v for k, v in out.items()}, "breakdown_segments_a_step": m // 2}


def predicted(s, step_time, message_s: float) -> dict:
    """The closed form's decode step (a StepTime) in the same parts; its residual is 0 by construction."""
    m = messages_a_step(s)
    message = m * message_s
    out = {"cloud_compute": float(step_time.cloud_s), "device_compute": float(step_time.device_s),
           "wire": float(step_time.transfer_s) - message, "delay_line": float(step_time.latency_s), "message": message,
           "residual": 0.0}
    return {f"predicted_breakdown_{k}_s": v for k, v in out.items()}


def render(r: dict) -> list:
    """Lines of a table: each part measured and predicted (ms a decode step)."""
    if "measured_breakdown_residual_s" not in r:
        return []
    names = {"cloud_compute": "cloud compute", "device_compute": "device compute", "wire": "serialisation (wire)",
             "delay_line": "delay line (RTT)", "message": "per-message software", "residual": "residual"}
    lines = ["", f"  {'a decode step, ms':<26}{'measured':>14}{'predicted':>14}"]
    for k in PARTS:
        lines.append(f"  {names[k]:<26}{r[f'measured_breakdown_{k}_s'] * 1e3:>14.2f}"
                     f"{r[f'predicted_breakdown_{k}_s'] * 1e3:>14.2f}")
    lines.append(f"  (delay line overshoot measured: {r['measured_breakdown_delay_line_overshoot_s'] * 1e3:.2f} ms a step)")
    segments = r.get("breakdown_segments_a_step")
    if segments:
        extra = {k: (r[f"measured_breakdown_{k}_s"] - r[f"predicted_breakdown_{k}_s"]) / segments * 1e3
                 for k in ("cloud_compute", "device_compute")}
        lines.append(f"  (compute beyond the calibrated figure, a segment after a wait: cloud {extra['cloud_compute']:+.3f} ms, "
                     f"device {extra['device_compute']:+.3f} ms; {segments} segments a step each side)")
    return lines
