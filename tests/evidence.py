"""Waiting for evidence that a command is working, never a fixed time (issue 10)."""

import re
import time


def wait_for_output(proc, pattern: str = r"\b[1-9]\d*/\d+", timeout_s: float = 120.0) -> str:
    """Read `proc`'s stderr until `pattern` appears (by default a progress bar that has counted one
    item: work done, not just started); the text read. Fails if the process ends or `timeout_s` (a
    generous bound, not a wait) passes first."""
    seen, deadline = "", time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ch = proc.stderr.read(1)
        if not ch:
            break
        seen += ch
        if re.search(pattern, seen[-300:]):
            return seen
    raise AssertionError(f"no evidence of work (pattern {pattern!r}); stderr so far: {seen[-300:]!r}")


def poll_until(condition, bound_s: float = 30.0, interval_s: float = 0.05) -> bool:
    """Check `condition()` until it holds or `bound_s` (a generous bound, not a wait) passes; whether it
    held. The interval only spaces the checks: a test waits exactly as long as its evidence takes."""
    deadline = time.monotonic() + bound_s
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
    return True
