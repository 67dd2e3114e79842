"""Peak memory and time of `plmodel simulate` with many users, with and without a streamed trace (issue 16).

Each run is a child process; its peak resident set (ru_maxrss) and wall time are printed. The trace is
streamed to disk, so its memory must not grow with the number of events:
`python benchmarks/simulation_memory.py [USERS] [TOKENS]` (default 1000 x 128).
"""

import os
import subprocess
import sys
import tempfile
import time


def run(args: list) -> tuple:
    """(wall seconds, peak RSS in MB) of one `plmodel simulate` child."""
    t0 = time.perf_counter()
    pid = subprocess.Popen([sys.executable, "-m", "plmodel", "simulate", *args, "--yes"],
                           stdout=subprocess.DEVNULL).pid
    _, status, usage = os.wait4(pid, 0)
    if status:
        raise SystemExit(f"plmodel simulate {' '.join(args)} failed ({status})")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024  # Linux: ru_maxrss is in KiB


if __name__ == "__main__":
    users, tokens = (sys.argv[1:3] + ["1000", "128"][len(sys.argv[1:3]):])
    base = ["--model", "7b", "--devices", users, "--output-tokens", tokens]
    with tempfile.TemporaryDirectory() as d:
        for label, extra in (("no trace", []), ("trace, streamed (gzip)", ["--timeline", f"{d}/t.json.gz"])):
            wall, rss = run(base + extra)
            size = os.path.getsize(f"{d}/t.json.gz") / 1e6 if extra else 0.0
            print(f"simulate 7b, {users} users x {tokens} tokens, {label}: {wall:.1f} s, peak memory {rss:,.0f} MB"
                  + (f", trace {size:,.1f} MB on disk" if extra else ""))
