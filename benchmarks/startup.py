"""Start-up of `plmodel estimate` as a whole process against the floor `python -c "import numpy, yaml"`.

Target (issue 22, item 11): the median of `plmodel estimate` within 1.3x the median of the floor, the
two run paired and alternating so that a busy machine slows both alike. Times in ms (wall clock).
Both run with their bytecode cached, as after an install (pip compiles every module): where
PYTHONDONTWRITEBYTECODE is set, as on the development machines, plmodel's ~70 modules would be compiled
from source on every run while numpy's come precompiled, so the cache goes to a temporary folder
(PYTHONPYCACHEPREFIX) instead; --no-cache measures as the environment stands.
Run: python benchmarks/startup.py [RUNS] [--no-cache]   (default 21 runs of each)
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

FLOOR = [sys.executable, "-c", "import numpy, yaml"]
ESTIMATE = [sys.executable, "-m", "plmodel", "estimate"]
TARGET = 1.3


ENV = dict(os.environ)


def wall_s(command: list) -> tuple:
    """(wall, CPU) seconds one process takes from start to exit (it must exit 0); the CPU time (user + system)
    is the steadier figure on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def paired(runs: int) -> tuple:
    """([floor s], [estimate s]) of `runs` pairs, the order within a pair alternating; one warm-up pair first."""
    wall_s(FLOOR), wall_s(ESTIMATE)
    floor, est = [], []
    for i in range(runs):
        first, second = (FLOOR, ESTIMATE) if i % 2 == 0 else (ESTIMATE, FLOOR)
        a, b = wall_s(first), wall_s(second)
        floor.append(a if first is FLOOR else b)
        est.append(b if first is FLOOR else a)
    return floor, est


def main(runs: int = 21) -> float:
    floor, est = paired(runs)
    ratio = statistics.median(t[0] for t in est) / statistics.median(t[0] for t in floor)
    for k, what in ((0, "wall"), (1, "CPU")):
        f, e = statistics.median(t[k] for t in floor), statistics.median(t[k] for t in est)
        print(f"{what:>4}: python -c 'import numpy, yaml' median {f * 1e3:,.0f} ms (min {min(t[k] for t in floor) * 1e3:,.0f}), "
              f"plmodel estimate median {e * 1e3:,.0f} ms (min {min(t[k] for t in est) * 1e3:,.0f}): ratio {e / f:.2f}x")
    print(f"{runs} runs of each; wall ratio {ratio:.2f}x (target <= {TARGET}x): {'met' if ratio <= TARGET else 'NOT met'}")
    return ratio


if __name__ == "__main__":
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    with tempfile.TemporaryDirectory() as cache:
        if "--no-cache" not in sys.argv:
            ENV.pop("PYTHONDONTWRITEBYTECODE", None)
            ENV["PYTHONPYCACHEPREFIX"] = cache
        print("bytecode: " + ("as the environment has it" if "--no-cache" in sys.argv else f"cached in {cache}"))
        main(int(numbers[0]) if numbers else 21)
