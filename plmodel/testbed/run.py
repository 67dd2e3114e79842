"""Run a testbed session: start the cloud process, act as the device, measure, and predict.

The device (this process) embeds the prompt, applies M to every adapter stage the cloud sends down,
runs the LM head, samples greedily and sends the next token's embedding up, until `tokens` tokens.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import torch

from plmodel import accounting
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.hardware.runtimes import CALIBRATED
from plmodel.specs import AdapterSpec, LinkSpec, ModelSpec, Scenario
from plmodel.step import Step
from plmodel.testbed import breakdown
from plmodel.testbed.anchor import median_s, scaled, speed_factor
from plmodel.testbed.framing import FRAME_OVERHEAD_BYTES, HIDDEN, PING, STAGE, close_frame, encode, read_frame
from plmodel.testbed.netns import shaped_network
from plmodel.testbed.pacing import PacedSender, link_end
from plmodel.testbed.setup import SWITCH_INTERVAL_S, build, config, warm_up
from plmodel.workload import stages, step_work


@frozen
class Session:
    """What one testbed run is: model, adapter, workload and the link's shaping."""

    model: ModelSpec
    adapter: AdapterSpec
    batch: int = 1
    prompt_tokens: int = 32
    tokens: int = 16
    c2d_bps: float = 100e6
    d2c_bps: float = 60e6
    rtt_s: float = 0.0
    shaping: str = "app"  # "app": pacing and delay in the senders; "tbf": kernel tbf for bandwidth
    timeout_s: float = 30.0
    seed: int = 0

    def scenario(self, hw, message_s: float = 0.0, cloud_hw=None, rtt_s: float | None = None):
        """plmodel's scenario of this session: the calibrated machine `hw` on both sides (or `cloud_hw` on
        the cloud's), a link of the session's bandwidths and RTT (or `rtt_s`), the testbed's framing (32
        bytes a frame) and `message_s` of software time a message."""

        link = LinkSpec("testbed", self.c2d_bps, self.d2c_bps, self.rtt_s if rtt_s is None else rtt_s,
                        frame_bytes=FRAME_OVERHEAD_BYTES, message_s=message_s)
        return Scenario(self.model, self.adapter, cloud_hw or hw, hw, link, self.batch, self.prompt_tokens,
                        cloud_runtime=CALIBRATED, device_runtime=CALIBRATED)


def probe_message_time(conn, sender: PacedSender, split, probes: int = 200) -> float:
    """Software time of one message (s): half of what the median round trip of stage-sized frames takes
    beyond the link's RTT and the work between, each end converting them as it converts a stage (frame ->
    numpy -> torch and back) right after the work that precedes that in a step: the device applies M
    before it sends, the cloud runs a decoder layer before it answers (cloud.echo; that layer's time comes
    back in the answer). Unshaped but delayed as the session's frames are; at most ~2 s of probes."""
    a, dev = split.adapter, split.device_part
    first = a.adapted_layers(split.spec.n_layers)[0]
    xa = {p: torch.zeros(1, 1, a.r_c2d) for p in stages(a.targets)[0] if f"{first}_{p}" in dev.M}
    x, times = np.zeros((1, 1, 3 * a.r_c2d), np.float32), []
    for _ in range(max(20, min(probes, int(1.0 / max(sender.delay_s, 1e-9))))):
        with torch.no_grad():
            dev(xa, layer=first)
        t0 = time.perf_counter()
        sender.send(encode(PING, -1, 0, torch.cat([torch.from_numpy(a.copy()) for a in np.split(x, 3, -1)], -1).numpy()),
                    shaped=False)
        kind, layer_us, _, back, _ = read_frame(conn, "cloud")
        if kind != PING:
            raise PlmodelError("testbed: the cloud answered a probe out of order")
        torch.from_numpy(back.copy())
        times.append(time.perf_counter() - t0 - layer_us * 1e-6)
    return max(float(np.median(times)) - 2 * sender.delay_s, 0.0) / 2


def device_loop(conn, split, sender: PacedSender, prompt: torch.Tensor, tokens: int) -> dict:
    """The device's side of a session; returns its timings and the bytes it received."""
    dev, groups = split.device_part, stages(split.adapter.targets)
    received, stamps, busy, pacer = 0, [], [], []  # busy: device compute a step; pacer: (ser, late) at each stamp
    handling = []  # of busy, the time converting frames and sending them
    with torch.no_grad():
        t0 = time.perf_counter()
        sender.send(encode(HIDDEN, -1, 0, dev(prompt, part="embed").numpy()))
        while True:
            kind, layer, stage, arr, n = read_frame(conn, "cloud")
            received += n
            t1 = time.perf_counter()
            if not busy or (kind == HIDDEN and len(busy) == len(stamps)):
                busy.append(0.0)
                handling.append(0.0)
            if kind == STAGE:
                names = [p for p in groups[stage] if f"{layer}_{p}" in dev.M]
                xa = {p: torch.from_numpy(a.copy()) for p, a in zip(names, np.split(arr, len(names), -1))}
                t2 = time.perf_counter()
                out = dev(xa, layer=layer)
                t3 = time.perf_counter()
                sender.send(encode(STAGE, layer, stage, torch.cat([out[p] for p in names], -1).numpy()))
                busy[-1] += time.perf_counter() - t1
                handling[-1] += t2 - t1 + time.perf_counter() - t3
            elif kind == HIDDEN:
                logits = dev(torch.from_numpy(arr.copy()), part="head")  # (B, 1, vocab)
                stamps.append(time.perf_counter())
                pacer.append((sender.ser_s, conn.late_s))
                busy[-1] += stamps[-1] - t1
                if len(stamps) == tokens:
                    sender.send(close_frame())
                    break
                nxt = logits[:, -1].argmax(-1, keepdim=True)  # greedy: (B, 1)
                sender.send(encode(HIDDEN, -1, 0, dev(nxt, part="embed").numpy()))
            else:
                raise PlmodelError("testbed: unexpected frame from the cloud")
    return {"t0": t0, "stamps": stamps, "c2d_bytes": received, "device_compute_s": busy, "pacer": pacer,
            "device_handling_s": handling}


def start_cloud(cfg: dict, prefix: list) -> tuple:
    """Start the cloud process; returns (process, port)."""
    proc = subprocess.Popen([*prefix, sys.executable, "-m", "plmodel.testbed.cloud", json.dumps(cfg)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        err = proc.stderr.read().strip().splitlines()
        raise PlmodelError(f"testbed: the cloud process did not start ({err[-1] if err else 'no output'})")
    return proc, int(line.split()[1])


def run_session(s: Session) -> dict:
    """Run one session; returns the measured figures (SI units)."""

    torch.set_num_threads(1)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    cpus = sorted(os.sched_getaffinity(0))
    pin = len(cpus) >= 2  # one core each, so neither process evicts the other's caches
    before = os.sched_getaffinity(0)
    with shaped_network(s.shaping, s.c2d_bps, s.d2c_bps) as net:
        paced = s.shaping == "app"
        cfg = config(s.model, s.adapter, seed=s.seed, host=net.cloud_host, timeout_s=s.timeout_s,
                     c2d_bps=s.c2d_bps if paced else None, delay_s=s.rtt_s / 2, cpu=cpus[0] if pin else None,
                     prompt_tokens=s.prompt_tokens, batch=s.batch)
        if pin:
            os.sched_setaffinity(0, {cpus[1]})
        split = build(cfg)
        proc, port = start_cloud(cfg, net.cloud_prefix)
        warm_up(split, s.prompt_tokens)
        try:
            raw = socket.create_connection((net.cloud_host, port), timeout=s.timeout_s)
            conn, sender = link_end(raw, s.timeout_s, s.d2c_bps if paced else None, s.rtt_s / 2, "cloud")
            message_s = probe_message_time(conn, sender, split)
            prompt = torch.randint(0, s.model.vocab_size, (s.batch, s.prompt_tokens), generator=torch.Generator().manual_seed(s.seed))
            dev = device_loop(conn, split, sender, prompt, s.tokens)
            sender.close()
            out, err = proc.communicate(timeout=s.timeout_s)  # the cloud times its part back to back, then ends
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.sched_setaffinity(0, before)
            sys.setswitchinterval(switch)
    if proc.returncode != 0:
        raise PlmodelError(f"testbed: the cloud process failed ({err.strip().splitlines()[-1] if err.strip() else proc.returncode})")
    return measured_figures(s, dev, json.loads(out.strip().splitlines()[-1]), sender, message_s)


def measured_figures(s: Session, dev: dict, cloud: dict, sender: PacedSender, message_s: float) -> dict:
    """The measured figures (SI units) of a finished session, from both ends' counts and timings."""
    st = dev["stamps"]
    ttft = st[0] - dev["t0"]
    # decode speed from the median step: robust to the bursts of this machine's other tenants
    tpot = float(np.median(np.diff(st))) if len(st) > 1 else 0.0
    return {
        "measured_ttft_s": ttft,
        "measured_prefill_tokens_per_s": s.batch * s.prompt_tokens / ttft,
        "measured_decode_tokens_per_s": s.batch / tpot if tpot else 0.0,
        "measured_tpot_s": tpot,
        "measured_tpot_mean_s": (st[-1] - st[0]) / (len(st) - 1) if len(st) > 1 else 0.0,
        "measured_c2d_bytes": dev["c2d_bytes"], "measured_d2c_bytes": sender.bytes,
        "cloud_counted_c2d_bytes": cloud["cloud_sent_bytes"], "cloud_counted_d2c_bytes": cloud["cloud_received_bytes"],
        "frames_up": sender.frames, "frames_down": cloud["cloud_sent_frames"], "shaping": s.shaping,
        "message_overhead_s": message_s,
        "measured_cloud_compute_tpot_s": median_s(cloud["cloud_compute_s"][1:]),
        "measured_cloud_back_to_back_tpot_s": median_s(cloud.get("cloud_back_to_back_s", [])),
        "measured_device_compute_tpot_s": median_s(dev["device_compute_s"][1:]),
        **breakdown.measured(s, dev, cloud, tpot),
    }


def with_act_bits(adapter: AdapterSpec) -> AdapterSpec:
    """The testbed runs float32 everywhere: 32-bit activations on the wire and 32-bit weights."""
    return replace(adapter, act_bits=32, cloud_weight_bits=32, device_weight_bits=32)


def predict(s: Session, hw, message_s: float, cloud_hw=None) -> dict:
    """plmodel's realistic closed form for the same session: the calibrated machine on both sides (or
    `cloud_hw` on the cloud's), the link's bandwidth and RTT, the testbed's framing (32 bytes a frame)
    and per-message time."""

    scn = s.scenario(hw, message_s, cloud_hw)
    acc = accounting.realistic()
    pre = acc.step_time(scn, Step("prefill", s.batch, s.prompt_tokens))
    steps = [acc.step_time(scn, Step("decode", s.batch, s.prompt_tokens + k)) for k in range(s.tokens - 1)]
    decode_s = sum(float(st.total_s) for st in steps)
    parts = breakdown.predicted(s, steps[len(steps) // 2], message_s) if steps else {}
    pre_w = step_work(s.model, s.adapter, Step("prefill", s.batch, s.prompt_tokens)).total
    dec_w = step_work(s.model, s.adapter, Step("decode", s.batch, s.prompt_tokens)).total
    frames_a_step = 1 + len(s.adapter.adapted_layers(s.model.n_layers)) * len(stages(s.adapter.targets))
    frames = frames_a_step * s.tokens
    return {
        "predicted_ttft_s": float(pre.total_s),
        "predicted_prefill_tokens_per_s": float(pre.tokens_per_s),
        "predicted_decode_tokens_per_s": s.batch * (s.tokens - 1) / decode_s if s.tokens > 1 else 0.0,
        "predicted_tpot_s": decode_s / (s.tokens - 1) if s.tokens > 1 else 0.0,
        # payload of one prefill and tokens - 1 decode steps, 32 bytes a frame, and the closing frame up
        "predicted_c2d_bytes": int(pre_w.c2d_bytes + (s.tokens - 1) * dec_w.c2d_bytes + frames * FRAME_OVERHEAD_BYTES),
        "predicted_d2c_bytes": int(pre_w.d2c_bytes + (s.tokens - 1) * dec_w.d2c_bytes
                                   + (frames + 1) * FRAME_OVERHEAD_BYTES),
        **parts,
    }


def predict_anchored(s: Session, hw, m: dict) -> dict:
    """The prediction anchored to the machine's speed in the session's own minute (anchor.py): the cloud's
    compute on `hw` scaled by the factor its back-to-back steps around the session measured."""

    f = speed_factor(s, hw, m["measured_cloud_back_to_back_tpot_s"])
    p = predict(s, hw, m["message_overhead_s"], cloud_hw=scaled(hw, f))
    return {"cloud_speed_factor": f, **{k.replace("predicted_", "predicted_anchored_", 1): p[k] for k in (
        "predicted_decode_tokens_per_s", "predicted_tpot_s", "predicted_breakdown_cloud_compute_s") if k in p}}
