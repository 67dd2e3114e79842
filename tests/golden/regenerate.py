"""Rewrite tests/golden/estimate.json from tests/golden/scenarios.txt: `python tests/golden/regenerate.py`.

Run it only for a deliberate change of the model, and say in the commit which fields changed and why;
tests/test_golden.py otherwise holds every field of `plmodel estimate --json` on these scenarios.
"""

import contextlib
import io
import json
import shlex
import sys
from pathlib import Path

HERE = Path(__file__).parent


def scenarios() -> list:
    """[(name, argv)] of the golden scenarios."""
    rows = [line.split("|", 1) for line in (HERE / "scenarios.txt").read_text().splitlines() if line.strip()]
    return [(name, ["estimate", *shlex.split(args), "--json"]) for name, args in rows]


def run(argv: list) -> dict:
    """`plmodel <argv>` in this process; its JSON output."""
    from plmodel.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    if code:
        raise SystemExit(f"plmodel {' '.join(argv)} exited {code}")
    return json.loads(out.getvalue())


if __name__ == "__main__":
    golden = {name: {"argv": argv, "result": run(argv)} for name, argv in scenarios()}
    (HERE / "estimate.json").write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(golden)} scenarios to {HERE / 'estimate.json'}", file=sys.stderr)
