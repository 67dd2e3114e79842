"""The cloud process: decoder layers with frozen A and B; serves one device over TCP.

Run as `python -m plmodel.testbed.cloud CONFIG_JSON`; it prints `PORT <n>` once listening and, when
the device closes the session, one JSON line with the bytes it counted on its socket.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

import numpy as np
import torch

from plmodel.errors import PlmodelError
from plmodel.interrupt import die_with_parent
from plmodel.reference.model import KVCache
from plmodel.reference.split import SplitModel
from plmodel.reference.stacks import StubChannel
from plmodel.testbed.anchor import BACK_TO_BACK_STEPS, cloud_back_to_back, prefilled
from plmodel.testbed.framing import CLOSE, HIDDEN, PING, STAGE, encode, read_frame
from plmodel.testbed.multi import accept_devices, serve_cohort
from plmodel.testbed.pacing import PacedSender, link_end
from plmodel.testbed.setup import SWITCH_INTERVAL_S, build, warm_up
from plmodel.workload import stages


class SocketChannel:
    """The cloud's end of the channel: each adapter stage is one frame down and one frame back."""

    def __init__(self, conn, sender: PacedSender, targets, r_d2c: int):
        self.conn, self.sender, self.r_d2c = conn, sender, r_d2c
        self.stage_of = {tuple(g): i for i, g in enumerate(stages(targets))}
        self.received = 0
        self.waiting_s = 0.0  # time blocked on the device's answers
        self.handling_s = 0.0  # time converting and sending the frames, and converting the answers

    def round_trip(self, layer: int, xa: dict) -> dict:
        names, t0 = list(xa), time.perf_counter()
        down = torch.cat([xa[p] for p in names], -1).numpy()  # (B, T, n x r_c2d)
        self.sender.send(encode(STAGE, layer, self.stage_of[tuple(names)], down))
        t1 = time.perf_counter()
        kind, got_layer, _, up, n = read_frame(self.conn, "device")
        t2 = time.perf_counter()
        self.waiting_s += t2 - t1
        self.received += n
        if kind != STAGE or got_layer != layer:
            raise PlmodelError("testbed: the device answered out of order")
        parts = np.split(up, len(names), axis=-1)  # n x (B, T, r_d2c)
        out = {p: torch.from_numpy(a.copy()) for p, a in zip(names, parts)}
        self.handling_s += t1 - t0 + time.perf_counter() - t2
        return out


def echo(split: SplitModel, frame_array) -> bytes:
    """A probe's answer, handled as a stage is, around a decoder layer run as in a step (a scratch cache,
    the device's answers stubbed), so that the answer is converted with the caches a layer leaves; the
    layer's own time (us) goes back in the frame's layer field, for the device to take out."""
    parts = [torch.from_numpy(a.copy()) for a in np.split(frame_array, 3, axis=-1)]
    layers = split.cloud_part.layers
    t0 = time.perf_counter()
    with torch.no_grad():
        layers[len(layers) // 2](torch.zeros(1, 1, split.spec.d_model), torch.arange(1), KVCache(),
                                 StubChannel(split.adapter.r_d2c))
    layer_us = min(int((time.perf_counter() - t0) * 1e6), 32767)
    return encode(PING, layer_us, 0, torch.cat(parts, -1).numpy())


def serve(conn, split: SplitModel, sender: PacedSender, before: list = ()) -> dict:
    """Run steps until the device closes; returns the bytes counted on this socket and the timings, with
    the cloud part's back-to-back steps (anchor.py): `before` the session, and as many after it."""
    chan = SocketChannel(conn, sender, split.adapter.targets, split.adapter.r_d2c)
    cache = KVCache()
    compute, handling, ser, late = [], [], [], []  # a step: cloud time (the waits out), of it the frames' handling,
    # and its pacer's charges
    while True:
        late0 = conn.late_s  # a step's lateness counts from the hidden state that starts it
        kind, _, _, hidden, n = read_frame(conn, "device")
        if kind == PING:  # a probe of the per-message time (run.probe_message_time): not counted
            sender.send(echo(split, hidden), shaped=False)
            continue
        chan.received += n
        if kind == CLOSE:
            return {"cloud_received_bytes": chan.received, "cloud_sent_bytes": sender.bytes,
                    "cloud_sent_frames": sender.frames, "cloud_compute_s": compute, "cloud_ser_s": ser,
                    "cloud_late_s": late, "cloud_handling_s": handling,
                    "cloud_back_to_back_s": [*before, *cloud_back_to_back(split, cache, len(before))]}
        if kind != HIDDEN:
            raise PlmodelError("testbed: expected a hidden state from the device")
        start = cache.length()
        positions = torch.arange(start, start + hidden.shape[1])
        t0, waited, handled, ser0 = time.perf_counter(), chan.waiting_s, chan.handling_s, sender.ser_s
        with torch.no_grad():
            h = split.cloud_part(torch.from_numpy(hidden.copy()), positions, cache, chan)
        t1 = time.perf_counter()
        sender.send(encode(HIDDEN, -1, 0, h[:, -1:].numpy()))  # logits are needed for the last position only
        compute.append(time.perf_counter() - t0 - (chan.waiting_s - waited))
        handling.append(chan.handling_s - handled + time.perf_counter() - t1)
        ser.append(sender.ser_s - ser0)
        late.append(conn.late_s - late0)  # frames from the device that came after their due times


def main(argv=None) -> int:
    die_with_parent()  # the device (our parent) stops us; if it dies, even by SIGKILL, so do we
    cfg = json.loads((argv or sys.argv[1:])[0])
    torch.set_num_threads(cfg.get("threads", 1))
    if cfg.get("cpu") is not None:
        os.sched_setaffinity(0, {cfg["cpu"]})
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    split = build(cfg)
    warm_up(split, cfg.get("prompt_tokens", 32))
    rows = cfg.get("devices", 1) * cfg.get("batch", 1)  # the sequences a step: every device's batch
    before = cloud_back_to_back(split, prefilled(split, rows, cfg.get("prompt_tokens", 32)), BACK_TO_BACK_STEPS)
    srv = socket.create_server((cfg["host"], 0))
    srv.settimeout(cfg["timeout_s"])
    print(f"PORT {srv.getsockname()[1]}", flush=True)
    try:
        if cfg.get("devices", 1) > 1:  # several devices in lockstep, batched (multi.py)
            links = accept_devices(srv, cfg)
            print(json.dumps(serve_cohort(links, split, cfg["batch"], before)), flush=True)
            return 0
        conn, sender = link_end(srv.accept()[0], cfg["timeout_s"], cfg["c2d_bps"], cfg["delay_s"], "device")
        counts = serve(conn, split, sender, before)
        sender.close()
        print(json.dumps(counts), flush=True)
        return 0
    except PlmodelError as exc:
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
        return 2
    except socket.timeout:
        print("ERROR: testbed: the device never connected", file=sys.stderr, flush=True)
        return 2
    finally:
        srv.close()


if __name__ == "__main__":
    raise SystemExit(main())
