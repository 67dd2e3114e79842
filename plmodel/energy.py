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

from dataclasses import dataclass, replace

from . import accounting
from .errors import PlmodelError
from .step import Step

#: Bytes a streamed token takes on the wire in cloud-only serving (an SSE/JSON chunk), and a prompt
#: token uploaded as text: assumptions, small against the radio's time-based energy [U].
STREAM_BYTES_PER_TOKEN = 64
PROMPT_BYTES_PER_TOKEN = 4


@dataclass(frozen=True)
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
    wait = max(0.0, float(step.total_s - busy)) / m
    return float(busy) + m * min(wait, inactivity_s), m * max(0.0, wait - inactivity_s)


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
            count = (tokens - 1) * scn.batch / float(st.tokens)
        c, t = _step_radio(st, p, inact)
        con, tail, wall = con + count * c, tail + count * t, wall + count * float(st.total_s)
        compute += count * float(st.device_s)
        n = len(p.adapted)
        up += count * float(p.up_bytes + n * sum(p.stage_d2c_bytes)) * 8e-6
        down += count * float(p.down_bytes + n * sum(p.stage_c2d_bytes)) * 8e-6
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


def energy_break_even_rtt_s(scn, tokens: int, device_j_per_token: float, high_s: float = 10.0):
    """RTT (s) above which split costs more device energy a token than `device_j_per_token`: 0 if it
    always does, None if it never does below `high_s` (or the realistic accounting refuses the scenario,
    as it does a paper-mode prompt past the model's context). Energy never falls as RTT grows."""
    try:
        real = replace(scn, mode="realistic")
    except PlmodelError:
        return None

    def split_j(rtt):
        return split_energy(replace(real, link=replace(real.link, rtt_s=rtt)), tokens).j_per_token

    at_zero = split_j(0.0)
    if at_zero >= device_j_per_token:
        return 0.0
    slope = (split_j(1e-3) - at_zero) / 1e-3  # energy is affine in RTT while the radio's regime holds
    guess = (device_j_per_token - at_zero) / slope if slope > 0 else high_s
    if guess < high_s and abs(split_j(guess) - device_j_per_token) <= 1e-9 * device_j_per_token:
        return guess
    if split_j(high_s) < device_j_per_token:
        return None
    lo, hi = 0.0, high_s
    while hi - lo > 1e-6:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if split_j(mid) < device_j_per_token else (lo, mid)
    return (lo + hi) / 2
