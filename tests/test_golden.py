"""Golden test: `plmodel estimate --json` on a fixed set of scenarios equals the committed record, field
by field (floats to 1e-12 relative). A deliberate change regenerates tests/golden/estimate.json with
tests/golden/regenerate.py and names the changed fields in its commit."""

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
from regenerate import HERE, run, scenarios  # noqa: E402

GOLDEN = json.loads((HERE / "estimate.json").read_text())


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    return a == b


@pytest.mark.parametrize("name,argv", scenarios(), ids=[n for n, _ in scenarios()])
def test_estimate_equals_golden(name, argv):
    """Every field present, none added, every value equal."""
    assert GOLDEN[name]["argv"] == argv, "scenarios.txt changed: regenerate the golden file"
    want, got = GOLDEN[name]["result"], run(argv)
    assert sorted(got) == sorted(want)
    diff = {k: (want[k], got[k]) for k in want if not same(want[k], got[k])}
    assert not diff


def test_golden_covers_both_accountings_and_a_marked_cloud():
    """The set holds paper and realistic scenarios, a jittery link and one that needs two GPUs."""
    results = [g["result"] for g in GOLDEN.values()]
    assert {r["mode"] for r in results} == {"paper", "realistic"}
    assert any(r["network"] == "5g-sa-lowband-jitter" for r in results)
    assert any(r["cloud_gpus_needed"] > 1 for r in results)
