"""The machine's speed in the session's own minute, and the prediction anchored to it.

A prediction on a calibration is off by however much the host's speed drifted since it was taken (on
this VM a decode step of the testbed model takes 9.5 ms in one half-second and 13.5 ms in the next,
measured) and by the calibration's fit at the model's widths. So just before the session and right
after it the cloud process runs its part's decode steps back to back, with the device's answers stubbed:
the same work with nothing on the link and no wait between layers. Their median over the closed form's
figure for that work (the calibrated machine, no RTT, no slowdown after a wait) is the cloud's speed
factor; the anchored prediction is the closed form with the cloud's compute scaled by it. What it leaves
to the model is all that the split adds: the waits, the messages, the link and compute after a wait.

The device's part is not anchored so: alone, back to back, its few megabytes (M, the LM head) stay in
the cache, which the cloud's stream of weights evicts in a session (measured: 0.40 ms a step back to
back, 0.96 ms in the session, 0.85 ms calibrated on stacks twice the cache), so it keeps the calibration.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from plmodel import accounting
from plmodel.reference.model import KVCache
from plmodel.reference.stacks import StubChannel, keep_context
from plmodel.step import Step

#: Back-to-back steps of the cloud part just before the session and as many just after it (~0.25 s each
#: side here): the two bracket the session in time, so that a drift during it is in their median.
BACK_TO_BACK_STEPS = 24


def prefilled(split, batch: int, tokens: int):
    """A KV cache of the cloud part after a prompt of `tokens` (zeros) for `batch` sequences."""

    cache = KVCache()
    with torch.no_grad():
        split.cloud_part(torch.zeros(batch, tokens, split.spec.d_model), torch.arange(tokens), cache,
                         StubChannel(split.adapter.r_d2c))
    return cache


def cloud_back_to_back(split, cache, steps: int) -> list:
    """Times (s) of `steps` decode steps of the cloud part back to back on the session's KV cache (cut back
    after each step, so each sees the session's last context), the device's answers stubbed."""

    start = cache.length()
    if not start:
        return []
    chan, times = StubChannel(split.adapter.r_d2c), []
    x = torch.zeros(next(iter(cache.k.values())).shape[0], 1, split.spec.d_model)
    with torch.no_grad():
        for _ in range(steps):
            t0 = time.perf_counter()
            split.cloud_part(x, torch.arange(start, start + 1), cache, chan)
            times.append(time.perf_counter() - t0)
            keep_context(cache, start)
    return times


def scaled(hw, factor: float):
    """The machine `factor` times slower at everything it computes (factor < 1: faster)."""
    return replace(hw, mem_bw_bytes_per_s=hw.mem_bw_bytes_per_s / factor, peak_flop_per_s=hw.peak_flop_per_s / factor,
                   layer_overhead_s=hw.layer_overhead_s * factor, call_overhead_s=hw.call_overhead_s * factor)


def speed_factor(s, hw, cloud_s: float) -> float:
    """The cloud's measured back-to-back decode step over the closed form's compute for it on `hw` (context:
    the session's last step; no RTT; no slowdown after a wait); 1.0 where unmeasured."""

    scn = s.scenario(replace(hw, resume=None), rtt_s=0.0)
    st = accounting.realistic().step_time(scn, Step("decode", s.batch, s.prompt_tokens + s.tokens - 1))
    return cloud_s / float(st.cloud_s) if cloud_s > 0 else 1.0


def median_s(times: list) -> float:
    """The median of `times` (s); 0 for none (a run of one step has no decode step)."""
    return float(np.median(times)) if len(times) else 0.0


def render(r: dict) -> list:
    """Lines: the cloud's back-to-back step against the calibration, and the prediction anchored to it."""
    if not r.get("measured_cloud_back_to_back_tpot_s"):
        return []
    m, p = r["measured_decode_tokens_per_s"], r["predicted_anchored_decode_tokens_per_s"]
    return ["", f"  the machine's speed in the session: the cloud's part back to back just before and after it, "
            f"{r['measured_cloud_back_to_back_tpot_s'] * 1e3:.2f} ms a step, x{r['cloud_speed_factor']:.2f} the calibration's",
            f"  {'decode tok/s, anchored':<26}{m:>14.2f}{p:>14.2f}{(p / m - 1) * 100 if m else 0:>8.1f}%"
            "  (the cloud's compute at that speed: what the split adds, alone)"]
