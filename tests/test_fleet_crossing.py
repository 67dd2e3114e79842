"""fleet/analytic.halved_crossing: the cloud-only fixed point's halvings read a bracket where they can, and end
on the plain halvings' bit, in fewer calls."""

import math

import numpy as np
import pytest

from plmodel.fleet.analytic import halved_crossing, prompt_chain_moments

TIMES = np.linspace(0.02, 0.5, 30)  # s: an iteration with k = 0..29 prompts (decode, then their prefill)
LOG_FACTORIAL = np.array([math.lgamma(k + 1) for k in range(len(TIMES))])


def plain(f, lo: float, hi: float, steps: int = 44) -> float:
    """The halvings as cloud_only_load ran them before the bracket: f asked at every midpoint."""
    for _ in range(steps):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if f(mid) > mid else (lo, mid)
    return hi


def counted(f):
    calls = []

    def g(t):
        calls.append(t)
        return f(t)
    return g, calls


@pytest.mark.parametrize("n, smooth", [(50, True), (200, True), (478, False), (900, False)])
def test_same_end_as_plain_halving(n, smooth):
    """On the prompt chain's mean (smooth where it crosses, or jumping to infinity where the chain runs off),
    the end is the plain halvings' exactly; f is asked at most as often, about half as often where it is smooth."""
    def mean(t):
        return prompt_chain_moments(TIMES, n, 128, t, LOG_FACTORIAL)[0]

    f_plain, plain_calls = counted(mean)
    f_new, new_calls = counted(mean)
    lo, hi = float(TIMES[0]), float(TIMES[0]) * 1e4
    end = halved_crossing(f_new, lo, hi)
    assert end == plain(f_plain, lo, hi)
    assert len(new_calls) <= (0.6 if smooth else 1.05) * len(plain_calls)
    assert (abs(mean(end) / end - 1) < 1e-9) == smooth  # the cases are what they say: a fixed point, or the jump


def test_a_crossing_near_an_end():
    """A crossing a hair inside either end of the range still ends where plain halving does."""
    for root in (0.02 * (1 + 1e-12), 200 * (1 - 1e-12), 3.3):
        def f(t, root=root):
            return root * (root / t) ** 0.5
        assert halved_crossing(f, 0.02, 200.0) == plain(f, 0.02, 200.0)
