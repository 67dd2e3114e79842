"""Run a real PrivateLoRA split on this machine and set plmodel's prediction beside the measurement.

A cloud process (decoder layers with A and B) and this process as the device (embedding, M, LM head,
sampling) exchange the rank-r activations over TCP on loopback in a binary framing (32 bytes of
header, due time and shape a frame, float32 payload). The link is shaped by stamping each frame with
the time a link of the given bandwidth and latency would deliver it, which the receiver waits for
(--shaping app), or, where the kernel allows, by a tbf qdisc on a veth pair in a network namespace
the testbed creates (--shaping tbf; the delay stays in the stamps).
The prediction uses the hardware profile `plmodel calibrate --threads 1` wrote for this machine
(each testbed process runs one torch thread on its own core), or calibrates now if none is given;
beside it, the same prediction anchored to the cloud's speed in the session's own minute (its part run
back to back just before and right after the session: testbed/anchor.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from plmodel.errors import PlmodelError
from plmodel.specs import PROJECTIONS


def register_arguments(p) -> None:
    s = p.add_argument_group("the split and its workload")
    s.add_argument("--rank", type=int, default=16, metavar="R", help="r_c2d = r_d2c")
    s.add_argument("--targets", default="q,k,v", metavar="LIST", help=f"adapted projections, any of "
                   f"{','.join(PROJECTIONS)}")
    s.add_argument("--output-tokens", type=int, default=16, metavar="N", help="generated tokens (the first ends the "
                   "prefill)")
    s.add_argument("--prompt-tokens", type=int, default=32, metavar="N", help="prompt length")
    s.add_argument("--batch", type=int, default=1, metavar="N", help="sequences in lockstep")
    s.add_argument("--devices", type=int, default=1, metavar="N", help="device processes sharing one cloud process, "
                   "which batches their same-layer work (the fleet's cohort policy); measured against the simulation")
    s.add_argument("--seed", type=int, default=0, help="weights and prompt")
    n = p.add_argument_group("the link")
    n.add_argument("--rtt-ms", type=float, default=0.0, metavar="MS", help="round-trip time added by the delay line")
    n.add_argument("--bandwidth-mbit", type=float, default=60.0, metavar="MBIT", help="device -> cloud bandwidth "
                   "(Mbit/s)")
    n.add_argument("--down-bandwidth-mbit", type=float, default=100.0, metavar="MBIT", help="cloud -> device "
                   "bandwidth (Mbit/s)")
    n.add_argument("--shaping", choices=("app", "tbf"), default="app", help="where bandwidth is shaped")
    n.add_argument("--timeout-s", type=float, default=30.0, metavar="S", help="limit on every socket operation")
    r = p.add_argument_group("measurement and output")
    r.add_argument("--calibration", metavar="FILE", help="hardware profile of this machine (default: calibrate this "
                   "machine before each run, ~20 s)")
    r.add_argument("--repeats", type=int, default=1, metavar="N", help="run the session N times: each measured figure "
                   "is the median of the runs, with its min and max (one noisy run decides nothing)")
    r.add_argument("--json", action="store_true", help="print one flat JSON object (SI units)")


def check(args) -> None:
    for opt, low, high in (("rank", 1, 512), ("output_tokens", 1, 10_000), ("prompt_tokens", 1, 4096), ("batch", 1, 64),
                           ("repeats", 1, 100), ("devices", 1, 8)):
        v = getattr(args, opt)
        if not low <= v <= high:
            raise PlmodelError(f"--{opt.replace('_', '-')}: expected an integer from {low} to {high}, got {v}")
    for opt, low, high in (("rtt_ms", 0.0, 10_000.0), ("bandwidth_mbit", 0.01, 1e6),
                           ("down_bandwidth_mbit", 0.01, 1e6), ("timeout_s", 0.1, 3600.0)):
        v = getattr(args, opt)
        if not low <= v <= high:
            raise PlmodelError(f"--{opt.replace('_', '-')}: expected a number from {low:g} to {high:g}, got {v}")
    if args.calibration and not Path(args.calibration).is_file():
        raise PlmodelError(f"--calibration: {args.calibration} is not a file; write one with "
                           "plmodel calibrate --threads 1 --out FILE")


def run(args) -> int:
    check(args)
    from plmodel.reference import require_torch

    require_torch()
    from plmodel.io.profiles import load_hardware
    from plmodel.specs import AdapterSpec
    from plmodel.testbed.framing import FRAME_OVERHEAD_BYTES
    from plmodel.testbed.run import Session, predict, predict_anchored, run_session, with_act_bits
    from plmodel.testbed.setup import TESTBED_MODEL

    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    adapter = with_act_bits(AdapterSpec(args.rank, args.rank, targets))
    s = Session(TESTBED_MODEL, adapter, args.batch, args.prompt_tokens, args.output_tokens, args.down_bandwidth_mbit * 1e6,
                args.bandwidth_mbit * 1e6, args.rtt_ms * 1e-3, args.shaping, args.timeout_s, args.seed)
    fixed = (load_hardware(args.calibration, "--calibration"), args.calibration) if args.calibration else None
    runs = []
    for k in range(args.repeats):  # without --calibration each run is predicted on a calibration just before it
        say(f"run {k + 1} of {args.repeats}: " + ("calibrating this machine, then the session" if fixed is None
                                                    else "the session"))
        hw, source = fixed or calibrated_now()
        m = run_session(s)
        p = {**predict(s, hw, m["message_overhead_s"]), **predict_anchored(s, hw, m)}
        runs.append({**m, **p, **{f"{w}decode_prediction_error": p[f"predicted_{w}decode_tokens_per_s"]
                                  / m["measured_decode_tokens_per_s"] - 1 if m["measured_decode_tokens_per_s"] else 0.0
                                  for w in ("", "anchored_")}})
    merged = median_of(runs)
    measured = {k: v for k, v in merged.items() if not k.startswith("predicted_")}
    predicted = {k: v for k, v in merged.items() if k.startswith("predicted_")}
    if args.devices > 1:
        if args.shaping != "app":
            raise PlmodelError("--devices: several devices run with --shaping app only")
        measured, predicted = several(args, s, hw, measured, predicted)
    result = {"model": TESTBED_MODEL.name, "rank": args.rank, "targets": ",".join(adapter.targets),
              "rtt_s": s.rtt_s, "d2c_bandwidth_bps": s.d2c_bps, "c2d_bandwidth_bps": s.c2d_bps, "tokens": s.tokens,
              "prompt_tokens": s.prompt_tokens, "batch": s.batch, "calibration": source, "repeats": args.repeats,
              **measured, **predicted, "framing_bytes_per_frame": FRAME_OVERHEAD_BYTES}
    print(json.dumps(result, indent=1) if args.json else render(result))
    return 0


def say(line: str) -> None:
    """Progress on standard error, where a person watches (a terminal): a session with calibration takes ~20 s."""
    if sys.stderr.isatty():
        print(f"  testbed: {line}", file=sys.stderr, flush=True)


def calibrated_now() -> tuple:
    """(hardware, source) of this machine, calibrated now on one thread (~20 s)."""
    import datetime

    import yaml

    from plmodel.io.profiles import hardware_from_mapping
    from plmodel.reference.calibrate import calibrate, physical_memory_bytes, profile_yaml

    text = profile_yaml(calibrate(repeats=3, threads=1), "this-machine", physical_memory_bytes(),
                        datetime.date.today().isoformat())
    return hardware_from_mapping(yaml.safe_load(text), "calibrated now", "this-machine"), "calibrated just before each run"


def several(args, s, hw, one: dict, one_predicted: dict) -> tuple:
    """(measured, predicted) of N devices on one cloud, beside the single device's run (median of the repeats)."""
    from plmodel.testbed.multi import predict_devices, predict_devices_anchored, run_devices
    from plmodel.testbed.setup import config

    cfg = config(s.model, s.adapter, seed=s.seed, host="127.0.0.1", timeout_s=s.timeout_s, c2d_bps=s.c2d_bps,
                 delay_s=s.rtt_s / 2, prompt_tokens=s.prompt_tokens, batch=s.batch)
    runs = []
    for k in range(args.repeats):
        say(f"{args.devices} devices on one cloud, run {k + 1} of {args.repeats}")
        r = run_devices(s, args.devices, cfg)
        a = predict_devices_anchored(s, hw, one["message_overhead_s"], args.devices, r["measured_cohort_back_to_back_tpot_s"])
        runs.append({**r, **a, "anchored_aggregate_prediction_error": a["predicted_anchored_aggregate_decode_tokens_per_s"]
                     / r["measured_aggregate_decode_tokens_per_s"] - 1})
    agg = [r["measured_aggregate_decode_tokens_per_s"] for r in runs]
    best = runs[sorted(range(len(runs)), key=lambda i: agg[i])[len(runs) // 2]]  # the median run
    anchored = median_of([{k: r[k] for k in ("anchored_aggregate_prediction_error", "cohort_speed_factor",
                                             "predicted_anchored_aggregate_decode_tokens_per_s")} for r in runs])
    measured = {**one, **best, "measured_single_device_decode_tokens_per_s": one["measured_decode_tokens_per_s"],
                "measured_aggregate_decode_tokens_per_s_min": min(agg),
                "measured_aggregate_decode_tokens_per_s_max": max(agg),
                **{k: v for k, v in anchored.items() if not k.startswith("predicted_")}}
    predicted = {**one_predicted, **predict_devices(s, hw, one["message_overhead_s"], args.devices),
                 "predicted_anchored_aggregate_decode_tokens_per_s": anchored["predicted_anchored_aggregate_decode_tokens_per_s"]}
    return measured, predicted


def median_of(runs: list) -> dict:
    """One run's figures, or for several each numeric figure's median, with `_min` and `_max` beside it."""
    import statistics

    if len(runs) == 1:
        return runs[0]
    out = dict(runs[0])
    for k, v in runs[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            values = [r[k] for r in runs]
            out[k] = statistics.median(values)
            if k.startswith("measured_") or k == "message_overhead_s" or k.endswith(("prediction_error", "speed_factor")):
                out[f"{k}_min"], out[f"{k}_max"] = min(values), max(values)
    return out


def render(r: dict) -> str:
    rows = [("prefill tok/s", "prefill_tokens_per_s", 1, "{:,.1f}"), ("decode tok/s", "decode_tokens_per_s", 1, "{:,.2f}"),
            ("TTFT ms", "ttft_s", 1e3, "{:,.1f}"), ("TPOT ms (median step)", "tpot_s", 1e3, "{:,.1f}"),
            ("bytes cloud -> device", "c2d_bytes", 1, "{:,.0f}"), ("bytes device -> cloud", "d2c_bytes", 1, "{:,.0f}")]
    lines = [f"plmodel testbed - {r['model']} (8 layers, d=512), rank {r['rank']} on {r['targets']}, "
             f"RTT {r['rtt_s'] * 1e3:g} ms, up {r['d2c_bandwidth_bps'] / 1e6:g} / down {r['c2d_bandwidth_bps'] / 1e6:g} "
             f"Mbit/s, shaping {r['shaping']}; {r['tokens']} tokens after a {r['prompt_tokens']}-token prompt",
             f"  prediction: realistic closed form on {r['calibration']}, {r['framing_bytes_per_frame']} bytes a frame, "
             f"{r['message_overhead_s'] * 1e6:,.0f} us a message (probed)", "",
             f"  {'':<26}{'measured':>14}{'predicted':>14}{'error':>9}"
             + (f"  (median of {r['repeats']} runs; their range)" if r.get("repeats", 1) > 1 else "")]
    for label, key, scale, fmt in rows:
        m, p = r[f"measured_{key}"] * scale, r[f"predicted_{key}"] * scale
        spread = (f"  ({fmt.format(r[f'measured_{key}_min'] * scale)} to {fmt.format(r[f'measured_{key}_max'] * scale)})"
                  if f"measured_{key}_min" in r else "")
        lines.append(f"  {label:<26}{fmt.format(m):>14}{fmt.format(p):>14}{(p / m - 1) * 100 if m else 0:>8.1f}%{spread}")
    from plmodel.testbed.anchor import render as anchored
    from plmodel.testbed.breakdown import render as breakdown

    lines += [*anchored(r), *breakdown(r), "", f"  frames up {r['frames_up']}, down {r['frames_down']}"]
    if r.get("devices", 1) > 1:
        m, p = r["measured_aggregate_decode_tokens_per_s"], r["predicted_aggregate_decode_tokens_per_s"]
        pa = r["predicted_anchored_aggregate_decode_tokens_per_s"]
        each = ", ".join(f"{v:.2f}" for v in r["measured_per_device_decode_tokens_per_s"])
        lines += ["", f"  {r['devices']} devices on one cloud (cohort batching; the figures above: one device alone)",
                  f"  {'aggregate decode tok/s':<26}{m:>14.2f}{p:>14.2f}{(p / m - 1) * 100:>8.1f}%",
                  f"  {'aggregate, anchored':<26}{m:>14.2f}{pa:>14.2f}{(pa / m - 1) * 100:>8.1f}%  (the cloud's batched "
                  f"step back to back around each run: {r['measured_cohort_back_to_back_tpot_s'] * 1e3:.2f} ms, "
                  f"x{r['cohort_speed_factor']:.2f} the calibration's)",
                  f"  {'per device decode tok/s':<26}{each:>14}{r['predicted_per_device_decode_tokens_per_s']:>14.2f}"]
    return "\n".join(lines)
