"""Speed of `plmodel sweep sweeps/paper.yaml` as a whole process, analytical and simulation engines.

Targets (issue 5): analytical under 3 s, simulation under 60 s on the 2-core machine.
Run: python benchmarks/sweep_speed.py
"""

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(engine: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "plmodel", "sweep", str(ROOT / "sweeps" / "paper.yaml"), "--out",
                        str(Path(tmp) / "out"), "--engine", engine], check=True, capture_output=True)
        return time.perf_counter() - t0


if __name__ == "__main__":
    analytical = [run("analytical") for _ in range(5)]
    print(f"sweeps/paper.yaml, analytical engine, whole process: median {statistics.median(analytical):.2f} s "
          f"(min {min(analytical):.2f}, max {max(analytical):.2f}; target < 3 s)")
    print(f"sweeps/paper.yaml, simulation engine, whole process: {run('simulation'):.1f} s (target < 60 s)")
