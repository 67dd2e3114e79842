"""Who asks, when, for how much: open-loop arrivals (a Poisson rate, or a CSV trace of arrival time,
prompt tokens, output tokens) or closed-loop users who send a request, read the answer, think and ask
again. Lengths are fixed, or drawn uniformly within +-50 %, exponentially, or from the ShareGPT law
(paperdata/serving.py: its shape scaled to the given means) around the given mean."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.paperdata.serving import SHAREGPT_OUTPUT_Q, SHAREGPT_PROMPT_Q
from plmodel.specs import require_positive

ARRIVALS = ("poisson", "trace", "closed")
LENGTHS = ("fixed", "uniform", "exponential", "sharegpt")
#: Most requests one fleet run takes (a bound on time and memory).
MAX_REQUESTS = 1_000_000


@frozen
class Workload:
    arrival: str = "poisson"
    rate_per_s: float | None = None  # poisson: requests a second (to one replica)
    requests: int = 500  # poisson and closed: how many requests in all
    prompt_tokens: int = 128  # mean prompt length
    output_tokens: int = 128  # mean generated tokens (the first ends the prefill)
    lengths: str = "fixed"
    users: int | None = None  # closed: users, each with one request at a time
    think_s: float = 0.0  # closed: mean think time between an answer and the next request (exponential)
    trace: tuple | None = None  # trace: ((arrival s, prompt tokens, output tokens), ...)

    def __post_init__(self):
        if self.arrival not in ARRIVALS:
            raise PlmodelError(f"expected one of {', '.join(ARRIVALS)}, got {self.arrival!r}", field="arrival")
        if self.lengths not in LENGTHS:
            raise PlmodelError(f"expected one of {', '.join(LENGTHS)}, got {self.lengths!r}", field="lengths")
        require_positive("requests", self.requests, integer=True, maximum=MAX_REQUESTS)
        require_positive("prompt_tokens", self.prompt_tokens, integer=True, maximum=10_000_000)
        require_positive("output_tokens", self.output_tokens, integer=True, maximum=10_000_000)
        if self.arrival == "poisson":
            if self.rate_per_s is None:
                raise PlmodelError("a Poisson arrival needs a rate in requests per second", field="rate")
            require_positive("rate", self.rate_per_s, maximum=1e9)
        if self.arrival == "closed":
            if self.users is None:
                raise PlmodelError("a closed loop needs a number of users", field="users")
            require_positive("users", self.users, integer=True, maximum=MAX_REQUESTS)
            require_positive("think", self.think_s, allow_zero=True, maximum=1e6)
        if self.arrival == "trace" and not self.trace:
            raise PlmodelError("a trace arrival needs a CSV trace with at least one request", field="trace")


def draw_lengths(w: Workload, rng, n: int) -> tuple:
    """(prompt tokens, output tokens) arrays of n requests."""
    def one(mean, table):
        if w.lengths == "fixed":
            return np.full(n, mean, dtype=int)
        if w.lengths == "uniform":
            return np.maximum(1, rng.integers(max(1, mean // 2), mean + mean // 2 + 1, size=n))
        if w.lengths == "sharegpt":  # the inverse CDF at uniform draws, scaled to the mean
            u = rng.random(n) * (len(table) - 1)
            return np.maximum(1, np.rint(mean * np.interp(u, np.arange(len(table)), table)).astype(int))
        return np.maximum(1, np.rint(rng.exponential(mean, size=n)).astype(int))
    return one(w.prompt_tokens, SHAREGPT_PROMPT_Q), one(w.output_tokens, SHAREGPT_OUTPUT_Q)


def open_requests(w: Workload, rng) -> list:
    """[(arrival s, prompt tokens, output tokens)] of an open-loop workload, in arrival order."""
    if w.arrival == "trace":
        return sorted(w.trace)
    times = np.cumsum(rng.exponential(1.0, size=w.requests)) / w.rate_per_s
    prompts, outputs = draw_lengths(w, rng, w.requests)
    return [(float(t), int(p), int(o)) for t, p, o in zip(times, prompts, outputs)]


def read_trace(path: str, option: str = "--trace-csv") -> tuple:
    """A CSV trace with columns arrival_s, prompt_tokens, output_tokens (header required)."""
    p = Path(path)
    if not p.is_file():
        raise PlmodelError(f"{option}: no file {path}")
    rows = []
    with p.open(newline="") as f:
        reader = csv.DictReader(f)
        need = ("arrival_s", "prompt_tokens", "output_tokens")
        if not reader.fieldnames or any(k not in reader.fieldnames for k in need):
            raise PlmodelError(f"{option}: {path}: expected a header with {', '.join(need)}, got {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            try:
                t, pr, out = float(row["arrival_s"]), int(row["prompt_tokens"]), int(row["output_tokens"])
            except (TypeError, ValueError):
                raise PlmodelError(f"{option}: {path} line {line}: expected a number of seconds and two integers, "
                                   f"got {row}") from None
            if not (t >= 0 and pr >= 1 and out >= 1):
                raise PlmodelError(f"{option}: {path} line {line}: expected arrival_s >= 0 and token counts >= 1")
            rows.append((t, pr, out))
    if len(rows) > MAX_REQUESTS:
        raise PlmodelError(f"{option}: {path} has {len(rows):,} requests, at most {MAX_REQUESTS:,}")
    return tuple(rows)
