"""The verdict in words: which of split, cloud-only and device-only is fastest, uses the least device energy and
costs least, the one reason that decides, and the next command worth running (issue 25: the first screen
says what it means). Pure: a function of an Estimate."""

from __future__ import annotations

import numpy as np

from plmodel.frozen import frozen

#: Where the words of the outputs are defined, once.
TERMS = "Terms (r_c2d, anchored, usable memory, round trip, break-even RTT): docs/model.md#terms"
#: How much faster (or cheaper) one option must be before the verdict calls the others slower: below it, a tie.
TIE = 0.02


@frozen
class Verdict:
    """The estimate's closing lines: which design wins on speed, device energy and cost, why, and what to run next."""

    fastest: str  # split, cloud-only, device-only N-bit
    least_energy: str | None  # None: the device has no power figures
    cheapest: str | None  # None: no cost at a load (the paper's accounting, a design the fleet does not model)
    reason: str  # the one fact that decides the split's standing
    next_command: str  # the command worth running next

    def lines(self) -> list:
        """The verdict as lines of at most 100 characters."""
        out = [f"Verdict: fastest {self.fastest}"
               + (f"; least device energy {self.least_energy}" if self.least_energy else "")
               + (f"; cheapest {self.cheapest}" if self.cheapest else "") + "."]
        out += _wrap(f"Why: {self.reason}.")
        out += _wrap(f"Next: {self.next_command}")
        return out + [TERMS]


def _wrap(text: str, width: int = 100) -> list:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = "  " + w
        else:
            line = f"{line} {w}" if line else w
    return lines + ([line] if line else [])


def _best(options: dict):
    """The name of the smallest finite value (None if none); ties within TIE go to the first listed."""
    finite = {k: float(v) for k, v in options.items() if v is not None and np.isfinite(v)}
    if not finite:
        return None
    low = min(finite.values())
    return next(k for k, v in finite.items() if v <= low * (1 + TIE))


def verdict(e) -> Verdict:
    """The verdict of an estimate (scalar, not vectorised)."""
    fits = [d for d in e.device_only if bool(d.fits)]
    device = max(fits, key=lambda d: float(d.decode_tokens_per_s), default=None)
    times = {"split": 1 / float(e.decode.tokens_per_s), "cloud-only": 1 / float(e.cloud_only.decode_tokens_per_s)}
    if device is not None:
        times[f"device-only {device.bits}-bit"] = 1 / float(device.decode_tokens_per_s)
    energy = None
    if e.energy is not None:
        en = {"split": e.energy.split.j_per_token, "cloud-only": e.energy.cloud_only.j_per_token}
        if e.energy.device_only is not None:
            en[f"device-only {e.energy.device_only_bits}-bit"] = e.energy.device_only.j_per_token
        energy = _best(en)
    cheapest = None
    if e.cost is not None:
        cost = {"split": e.cost.split_usd_per_million_output_tokens,
                "cloud-only": e.cost.cloud_only_usd_per_million_output_tokens}
        cheapest = _best(cost)
    return Verdict(_best(times), energy, cheapest, _reason(e, device), _next(e))


def _reason(e, device) -> str:
    """The fact that decides the split's standing."""
    latency, total = float(e.decode.latency_s), float(e.decode.total_s)
    rtt_ms = e.inputs["rtt_s"] * 1e3
    if not bool(e.split_fits_device):
        return "the split part does not fit the device's memory"
    if latency > total / 2:
        return (f"{e.round_trips_per_step + 1} round trips a token at {rtt_ms:.0f} ms RTT are "
                f"{100 * latency / total:.0f} % of split's time per token")
    if device is None:
        return "no device-only precision fits the device's memory, so split or cloud-only must serve it"
    return f"split's time per token is {100 * (1 - latency / total):.0f} % compute and transfer, not latency"


def _next(e) -> str:
    """The command worth running next."""
    model, rtt_ms = e.inputs["model"], e.inputs["rtt_s"] * 1e3
    if float(e.decode.latency_s) > float(e.decode.total_s) / 2:
        return (f"plmodel estimate --model {model} --rtt-ms {max(rtt_ms / 5, 1):.0f} "
                "(the same at a nearer edge), or plmodel plan for designs that cut round trips")
    return f"plmodel plan --model {model} (every design against your targets)"
