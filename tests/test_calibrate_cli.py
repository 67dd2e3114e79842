"""calibrate's progress line and its warning on implausible measurements (no torch needed)."""

from types import SimpleNamespace

from plmodel.cli.calibrate import Progress, implausible


def test_a_slowdown_below_one_is_warned_about():
    """A batch or a wait measured faster than back to back is called implausible, naming where; none otherwise."""
    ok = SimpleNamespace(batch=((1, 1.0), (2, 1.3)), resume=((0.0, 1.02), (0.02, 1.4)))
    assert implausible(ok) == []
    odd = SimpleNamespace(batch=((1, 1.0), (2, 0.8), (3, 0.9)), resume=None)
    (line,) = implausible(odd)
    assert line.startswith("warning: a batch of sequences against one measured 0.80x") and "at 2" in line


def test_progress_says_the_stage_and_the_time_left(capsys):
    """Each stage prints its place and name; from the second on, an estimate of the time left."""
    p = Progress((("first", 0.5), ("second", 0.5)))
    p(0)
    p(1)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("calibrate: 1 of 2 (first)") and "left" not in err[0]
    assert err[1].startswith("calibrate: 2 of 2 (second)") and "s left" in err[1]
