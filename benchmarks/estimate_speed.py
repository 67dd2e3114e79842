"""Speed of the closed form: `plmodel estimate` as a whole process, and one million grid points.

Targets (issue 2): whole-process median under 0.5 s on the 2-core machine; 1e6 points under 1 s.
Run: python benchmarks/estimate_speed.py
"""

import statistics
import subprocess
import sys
import time

import numpy as np

from plmodel.analysis.grid import estimate_grid
from plmodel.io.profiles import load_hardware, load_link
from plmodel.models import PRESETS


def process_times(runs=11):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "plmodel", "estimate", "--model", "13b", "--rank", "64"],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def grid_time(mode):
    models = list(PRESETS.values())  # 5 models x 200 ranks x 1000 batches = 1e6 points
    ranks, batches = np.arange(1, 201) * 2, np.arange(1, 1001)
    args = (load_hardware("a100-80g-pcie"), load_hardware("iphone-13-pro-max"), load_link("5g-median"))
    t0 = time.perf_counter()
    out = estimate_grid(models, ranks, batches, *args, mode=mode)
    dt = time.perf_counter() - t0
    n = out["decode_tokens_per_s"].size
    tps = out["decode_tokens_per_s"]
    modelled = np.isfinite(tps)  # realistic mode: NaN where the KV cache needs more GPUs than a batch of one
    assert modelled.any() and np.all(tps[modelled] > 0)
    return n, dt, modelled.mean()


if __name__ == "__main__":
    t = process_times()
    print(f"plmodel estimate (whole process): median {statistics.median(t):.3f} s, "
          f"min {min(t):.3f} s, max {max(t):.3f} s over {len(t)} runs (target < 0.5 s)")
    for mode in ("realistic", "paper"):
        n, dt, share = grid_time(mode)
        print(f"grid, {mode} mode: {n:,} points (prefill and decode each) in {dt:.3f} s "
              f"= {n / dt / 1e6:.2f} M points/s (target: 1e6 points < 1 s); {100 * share:.1f} % fit the GPUs")
