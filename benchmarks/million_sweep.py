"""A million-point analytical sweep from YAML to results on disk (issue 14: under 10 s on this machine),
as a whole `plmodel sweep` process, beside the per-point path measured in the same run on a sample of
the same grid and scaled to a million points (the baseline the vectorised path replaces).
Run: python benchmarks/million_sweep.py
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

GRID = """models: [7b, 13b]
ranks: {ranks}
batch_sizes: {batches}
prompt_tokens: {prompts}
rtt_ms: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500]
phases: [decode]
network: 5g-median
device: iphone-15-pro
"""


def write(folder: Path, ranks: int, batches: int, prompts: int) -> Path:
    path = folder / f"grid_{ranks}x{batches}x{prompts}.yaml"
    path.write_text(GRID.format(ranks=list(range(8, 8 * ranks + 1, 8)), batches=list(range(1, batches + 1)),
                                prompts=list(range(64, 64 * prompts + 1, 64))))
    return path


def per_point_s(path: Path) -> tuple:
    """(seconds a point, points) of the per-point path (records.task_records) over a sweep."""
    from plmodel.studies.records import run_tasks
    from plmodel.studies.sweep import load_sweep

    cfg = load_sweep(path)
    t0 = time.perf_counter()
    run_tasks(cfg.tasks, 1, False)
    return (time.perf_counter() - t0) / cfg.n_points, cfg.n_points


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        big = write(Path(tmp), 50, 40, 25)  # 2 models x 50 ranks x 40 batches x 25 prompts x 10 RTTs = 1,000,000
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "plmodel", "sweep", str(big), "--out", str(Path(tmp) / "out")],
                             check=True, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        files = sorted(p.name for p in (Path(tmp) / "out").iterdir())
        each, n = per_point_s(write(Path(tmp), 5, 4, 5))  # 2,000 points of the same grid, point by point
    print(f"1,000,000 points, YAML to {', '.join(files)}: {wall:.1f} s as one process (target < 10 s); "
          f"{out.stdout.strip().splitlines()[-1][:60]}...")
    print(f"point by point: {each * 1e3:.2f} ms a point over {n:,} points -> {each * 1e6:,.0f} s for a million; "
          f"the vectorised path is {each * 1e6 / wall:,.0f} x faster")
