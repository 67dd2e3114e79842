"""Energy on the device for an answer (a prompt, then N generated tokens), per option: split, device-only
and cloud-only, each as compute, radio active, radio tail and baseline (J), from the closed form's step
times and the radio's state machine (radio.py) applied in closed form.

Per decode step of split inference the device's radio carries m messages each way; between an upload
and the next download it waits w = (step - transfers - device compute) / m on average (the RTT and
the cloud's work): connected while w is under the radio's inactivity timer, in its tail beyond. The
answer starts from an idle radio (a promotion) and ends with the radio's inactivity and tail after the
last packet, both charged to it. The baseline (screen on) is paid for as long as the answer takes.
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np

from plmodel import accounting
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.step import Step
from plmodel.vectors import take

#: Bytes a streamed token takes on the wire in cloud-only serving (an SSE/JSON chunk), and a prompt
#: token uploaded as text: assumptions, small against the radio's time-based energy [U].
STREAM_BYTES_PER_TOKEN = 64
PROMPT_BYTES_PER_TOKEN = 4


@frozen
class Energy:
    """Device energy of one answer (J) by where it goes, and how long the answer takes (s)."""

    tokens: int
    wall_s: float
    compute_j: float
    radio_active_j: float  # promotion, connected, and the per-megabit energy
    radio_tail_j: float  # tails, between messages and after the answer
    baseline_j: float

    @property
    def total_j(self) -> float:
        return self.compute_j + self.radio_active_j + self.radio_tail_j + self.baseline_j

    @property
    def j_per_token(self) -> float:
        return self.total_j / self.tokens

    def tokens_per_battery_percent(self, power) -> float:
        return self.tokens / (self.total_j / (power.battery_j * 0.01))

    def choose(self, mask, other: "Energy") -> "Energy":
        """This energy where `mask`, `other` elsewhere (a vectorised estimate's per-point choice)."""
        return Energy(self.tokens, *(np.where(mask, getattr(self, f.name), getattr(other, f.name))
                                     for f in fields(self)[1:]))

    def where(self, mask) -> "Energy":
        """This energy where `mask`, NaN elsewhere."""
        return Energy(self.tokens, *(np.where(mask, getattr(self, f.name), np.nan) for f in fields(self)[1:]))


def radio_energy(radio, connected_s: float, tail_s: float, mbit: tuple) -> tuple:
    """(active J, tail J) of an answer: a promotion, `connected_s` connected, `tail_s` in tails between
    messages, the per-megabit energy of (up, down) megabits, and the inactivity and tail after it."""
    if radio is None:
        return 0.0, 0.0
    active = (radio.promotion_s * radio.promotion_w + (connected_s + radio.inactivity_s) * radio.connected_w
              + mbit[0] * radio.j_per_mbit_up + mbit[1] * radio.j_per_mbit_down)
    return active, (tail_s + radio.tail_s) * radio.tail_w


def _step_radio(step, pieces, inactivity_s: float) -> tuple:
    """(connected s, tail s) of one split step's radio: transfers and device work connected, waits
    connected up to the inactivity timer and in the tail beyond."""
    m = pieces.n_messages
    busy = step.transfer_s + step.device_s
    wait = np.maximum(0.0, step.total_s - busy) / m
    return busy + m * np.minimum(wait, inactivity_s), m * np.maximum(0.0, wait - inactivity_s)


def split_energy(scn, tokens: int) -> Energy:
    """The answer served split: the closed form's prefill, then tokens - 1 decode steps at the middle
    context (steps grow with the context; the middle one stands for their mean)."""
    acc, power, radio = accounting.of(scn), scn.device.power, scn.link.radio
    inact = radio.inactivity_s if radio else float("inf")
    con, tail, wall, compute, up, down = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    for step, count in ((Step("prefill", scn.batch, scn.prompt_tokens), 1),
                        (Step("decode", scn.batch, scn.prompt_tokens + (tokens - 1) // 2), tokens - 1)):
        st, p = acc.step_time(scn, step), acc.pieces(scn, step)
        if step.phase == "decode":  # a speculative pass yields more than one token a sequence
            count = (tokens - 1) * scn.batch / st.tokens
        c, t = _step_radio(st, p, inact)
        con, tail, wall = con + count * c, tail + count * t, wall + count * st.total_s
        compute += count * st.device_s
        n = len(p.adapted)
        up += count * (p.up_bytes + n * sum(p.stage_d2c_bytes)) * 8e-6
        down += count * (p.down_bytes + n * sum(p.stage_c2d_bytes)) * 8e-6
    active, tail_j = radio_energy(radio, con, tail, (up, down))
    return Energy(tokens, wall, power.active_w * compute, active, tail_j, power.baseline_w * wall)


def device_only_energy(scn, d, tokens: int) -> Energy:
    """The answer on the device alone at `d`'s precision (baselines.DeviceOnly): busy the whole time."""
    power = scn.device.power
    wall = scn.batch * scn.prompt_tokens / d.prefill_tokens_per_s + (tokens - 1) * scn.batch / d.decode_tokens_per_s
    return Energy(tokens, wall, power.active_w * wall, 0.0, 0.0, power.baseline_w * wall)


def cloud_only_energy(scn, cloud, tokens: int) -> Energy:
    """The answer from the cloud (baselines.CloudOnly): the prompt up, the tokens streamed down, the
    radio connected while they stream (a token every few ms, well inside the inactivity timer)."""
    power, radio = scn.device.power, scn.link.radio
    wall = cloud.ttft_s + (tokens - 1) * scn.batch / cloud.decode_tokens_per_s
    mbit = (scn.batch * scn.prompt_tokens * PROMPT_BYTES_PER_TOKEN * 8e-6, tokens * STREAM_BYTES_PER_TOKEN * 8e-6)
    active, tail_j = radio_energy(radio, wall, 0.0, mbit)
    return Energy(tokens, wall, 0.0, active, tail_j, power.baseline_w * wall)


def energy_break_even_rtt_s(scn, tokens: int, device_j_per_token, high_s: float = 10.0):
    """RTT (s) above which split costs more device energy a token than `device_j_per_token`: 0 if it
    always does, None if it never does below `high_s` (or the realistic accounting refuses the scenario,
    as it does a paper-mode prompt past the model's context). Energy never falls as RTT grows. For a
    vectorised scenario, an array (NaN for None), each point found by the same steps."""
    try:
        real = replace(scn, mode="realistic")
    except PlmodelError:
        return None
    target = np.asarray(device_j_per_token, dtype=float)
    if target.ndim and np.isnan(target).any():  # points with no yardstick (no device-only precision fits)
        out, known = np.full(target.shape, np.nan), ~np.isnan(target)
        if known.any():
            out[known] = energy_break_even_rtt_s(take(real, known), tokens, target[known], high_s)
        return out

    def split_j(rtt):
        return _split_j(real, tokens, rtt)

    at_zero = split_j(0.0 * target)
    if target.ndim == 0 and at_zero >= target:  # one point: split already costs more at no RTT
        return 0.0
    slope = (split_j(1e-3 + 0.0 * target) - at_zero) / 1e-3  # energy is affine in RTT while the radio's regime holds
    guess = np.where(slope > 0, (target - at_zero) / np.where(slope > 0, slope, 1.0), high_s)
    exact = (guess < high_s) & (np.abs(split_j(np.clip(guess, 0.0, high_s)) - target) <= 1e-9 * target)
    if target.ndim == 0 and exact:  # one point, on the line: the far end need not be asked
        return float(guess)
    never = split_j(high_s + 0.0 * target) < target
    pending = ~((at_zero >= target) | exact | never)  # the rest: bisection, on those points alone
    if pending.ndim == 0:
        mid = _bisect(real, tokens, target, high_s) if pending else 0.0
    else:
        mid = np.zeros(pending.shape)
        if pending.any():
            mid[pending] = _bisect(take(real, pending), tokens, target[pending], high_s)
    out = np.where(at_zero >= target, 0.0, np.where(exact, guess, np.where(never, np.nan, mid)))
    if out.ndim:
        return out
    return None if np.isnan(out) else float(out)


def _split_j(real, tokens: int, rtt):
    """Split's device energy a token with the link's RTT set to `rtt`."""
    return split_energy(replace(real, link=replace(real.link, rtt_s=rtt)), tokens).j_per_token


def _bisect(real, tokens: int, target, high_s: float):
    """The RTT in [0, high_s] where split's energy a token crosses `target`, halving the interval to 1e-6 s."""
    lo, hi = 0.0 * target, high_s + 0.0 * target
    while np.any(hi - lo > 1e-6):  # every point halves the same interval as often
        mid = (lo + hi) / 2
        below = _split_j(real, tokens, mid) < target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2
