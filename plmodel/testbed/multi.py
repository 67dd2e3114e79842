"""Several devices on one cloud (`plmodel testbed --devices N`): N device processes, one cloud process
that batches the same layer's work across them - the fleet's cohort policy: the devices run in
lockstep, each step one batch of every device's sequences, each adapter stage one frame to and from
every device - and the simulation's prediction for the same policy (plmodel.sim, N users on one GPU,
batched at the same point).

Run a device as `python -m plmodel.testbed.multi CONFIG_JSON`: it connects, serves its session and
prints one JSON line with its timings. The cloud has a core to itself and polls, as with one device;
the devices share the other core, so they block and sleep instead of polling and spinning, lest one
starve the others.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import torch

from plmodel.errors import PlmodelError
from plmodel.interrupt import die_with_parent
from plmodel.reference.model import KVCache
from plmodel.sim import simulate
from plmodel.testbed.anchor import cloud_back_to_back, median_s, scaled, speed_factor
from plmodel.testbed.framing import CLOSE, HIDDEN, STAGE, encode, read_frame
from plmodel.testbed.pacing import link_end
from plmodel.testbed.run import device_loop, start_cloud
from plmodel.testbed.setup import SWITCH_INTERVAL_S, build, warm_up
from plmodel.workload import stages


class CohortChannel:
    """The cloud's end for N devices: a stage's rows split by device, one frame each way a device."""

    def __init__(self, links: list, targets, rows: int):
        self.links, self.rows = links, rows  # [(conn, sender)], sequences a device
        self.stage_of = {tuple(g): i for i, g in enumerate(stages(targets))}
        self.waiting_s = 0.0

    def round_trip(self, layer: int, xa: dict) -> dict:
        names = list(xa)
        down = torch.cat([xa[p] for p in names], -1).numpy()  # (N x B, T, n x r_c2d)
        for i, (_, sender) in enumerate(self.links):
            sender.send(encode(STAGE, layer, self.stage_of[tuple(names)], down[i * self.rows:(i + 1) * self.rows]))
        t0, ups = time.perf_counter(), []
        for conn, _ in self.links:
            kind, got, _, up, _ = read_frame(conn, "device")
            if kind != STAGE or got != layer:
                raise PlmodelError("testbed: a device answered out of order")
            ups.append(up)
        self.waiting_s += time.perf_counter() - t0
        parts = np.split(np.concatenate(ups, 0), len(names), axis=-1)
        return {p: torch.from_numpy(a.copy()) for p, a in zip(names, parts)}


def serve_cohort(links: list, split, rows: int, before: list = ()) -> dict:
    """The cloud's loop for N devices in lockstep, until they close; returns its compute a step and its
    part's back-to-back steps of the whole cohort (anchor.py): `before` the session, and as many after."""
    chan, cache, compute = CohortChannel(links, split.adapter.targets, rows), KVCache(), []
    while True:
        frames = [read_frame(conn, "device") for conn, _ in links]
        if all(f[0] == CLOSE for f in frames):
            return {"cloud_compute_s": compute, "cloud_sent_bytes": sum(s.bytes for _, s in links),
                    "cloud_back_to_back_s": [*before, *cloud_back_to_back(split, cache, len(before))]}
        if any(f[0] != HIDDEN for f in frames):
            raise PlmodelError("testbed: the devices fell out of lockstep")
        hidden = np.concatenate([f[3] for f in frames], 0)
        start = cache.length()
        t0, waited = time.perf_counter(), chan.waiting_s
        with torch.no_grad():
            h = split.cloud_part(torch.from_numpy(hidden.copy()), torch.arange(start, start + hidden.shape[1]), cache,
                                 chan)
        compute.append(time.perf_counter() - t0 - (chan.waiting_s - waited))
        last = h[:, -1:].numpy()
        for i, (_, sender) in enumerate(links):
            sender.send(encode(HIDDEN, -1, 0, last[i * rows:(i + 1) * rows]))


def accept_devices(srv, cfg: dict) -> list:
    """[(conn, sender)] of the N devices, in the order they connect."""
    links = []
    for _ in range(cfg["devices"]):  # the cloud has its core to itself: it polls and spins
        links.append(link_end(srv.accept()[0], cfg["timeout_s"], cfg["c2d_bps"], cfg["delay_s"], "device"))
    return links


def device_main(argv=None) -> int:
    """A device process: connect, serve the session, print its timings (one JSON line)."""

    die_with_parent()
    cfg = json.loads((argv or sys.argv[1:])[0])
    torch.set_num_threads(1)
    if cfg.get("device_cpu") is not None:
        os.sched_setaffinity(0, {cfg["device_cpu"]})
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    split = build(cfg)
    warm_up(split, cfg["prompt_tokens"])
    raw = socket.create_connection((cfg["host"], cfg["port"]), timeout=cfg["timeout_s"])
    conn, sender = link_end(raw, cfg["timeout_s"], cfg["d2c_bps"], cfg["delay_s"], "cloud", poll=False)
    prompt = torch.randint(0, split.spec.vocab_size, (cfg["batch"], cfg["prompt_tokens"]),
                           generator=torch.Generator().manual_seed(cfg["seed"] + cfg["index"]))
    dev = device_loop(conn, split, sender, prompt, cfg["tokens"])
    st = dev["stamps"]
    print(json.dumps({"ttft_s": st[0] - dev["t0"], "tpot_s": float(np.median(np.diff(st))) if len(st) > 1 else 0.0,
                      "device_compute_s": float(np.median(dev["device_compute_s"][1:])) if len(st) > 1 else 0.0}),
          flush=True)
    return 0


def run_devices(s, n: int, cloud_cfg: dict) -> dict:
    """Start the cloud for `n` devices and the devices; the measured figures (SI units)."""

    cpus = sorted(os.sched_getaffinity(0))
    pin = len(cpus) >= 2  # the cloud a core of its own, the devices the other (they are each a phone)
    proc, port = start_cloud({**cloud_cfg, "devices": n, "cpu": cpus[0] if pin else None}, [])
    devices = []
    try:
        for i in range(n):
            cfg = {**cloud_cfg, "port": port, "index": i, "batch": s.batch, "tokens": s.tokens, "d2c_bps": s.d2c_bps,
                   "device_cpu": cpus[1] if pin else None}
            devices.append(subprocess.Popen([sys.executable, "-m", "plmodel.testbed.multi", json.dumps(cfg)],
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outs = [d.communicate(timeout=s.timeout_s * 4) for d in devices]
        cloud_out, cloud_err = proc.communicate(timeout=s.timeout_s)
    finally:
        for p in (proc, *devices):
            if p.poll() is None:
                p.kill()
                p.wait()
    bad = [err for d, (_, err) in zip(devices, outs) if d.returncode != 0] + ([cloud_err] if proc.returncode else [])
    if bad:
        lines = bad[0].strip().splitlines()
        raise PlmodelError(f"testbed: a process of the --devices run failed ({lines[-1] if lines else 'no output'})")
    each = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    cloud = json.loads(cloud_out.strip().splitlines()[-1])
    per_device = [s.batch / d["tpot_s"] if d["tpot_s"] else 0.0 for d in each]
    return {"devices": n, "measured_per_device_decode_tokens_per_s": per_device,
            "measured_aggregate_decode_tokens_per_s": sum(per_device),
            "measured_tpot_s": float(np.median([d["tpot_s"] for d in each])),
            "measured_cloud_compute_tpot_s": median_s(cloud["cloud_compute_s"][1:]),
            "measured_cohort_back_to_back_tpot_s": median_s(cloud.get("cloud_back_to_back_s", []))}


def predict_devices(s, hw, message_s: float, n: int, cloud_hw=None) -> dict:
    """The simulation's aggregate and per-device decode speed for `n` devices batched at the same point, on
    the calibrated machine `hw` (or `cloud_hw` on the cloud's side)."""

    m = simulate(s.scenario(hw, message_s, cloud_hw), s.tokens, n).metrics
    per = m["decode_tokens_per_s_per_user"] * s.batch
    return {"predicted_per_device_decode_tokens_per_s": per, "predicted_aggregate_decode_tokens_per_s": n * per}


def predict_devices_anchored(s, hw, message_s: float, n: int, cohort_s: float) -> dict:
    """The aggregate anchored to the cloud's speed in the session's own minute: the simulation with the
    cloud's compute scaled by its back-to-back step of the whole cohort over the closed form's (anchor.py;
    so a batched decode's cost is the one measured around the session, not the calibration's curve)."""
    from dataclasses import replace

    f = speed_factor(replace(s, batch=n * s.batch), hw, cohort_s)
    p = predict_devices(s, hw, message_s, n, cloud_hw=scaled(hw, f))
    return {"cohort_speed_factor": f,
            "predicted_anchored_aggregate_decode_tokens_per_s": p["predicted_aggregate_decode_tokens_per_s"]}


if __name__ == "__main__":
    raise SystemExit(device_main())
