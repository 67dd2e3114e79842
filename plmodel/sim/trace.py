"""Timeline records and their Chrome/Perfetto trace (JSON with `traceEvents`, times in microseconds)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


class Trace:
    """Collects complete ('X') events on named tracks; a disabled trace records nothing."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.events = []  # (process, track, name, start_s, dur_s, args)

    def add(self, process: str, track: str, name: str, start_s: float, dur_s: float, **args) -> None:
        if self.enabled:
            self.events.append((process, track, name, start_s, dur_s, args))

    def chrome_json(self) -> dict:
        """The trace in Chrome's JSON format: one pid per process (cloud, each user), one tid per track."""
        pids, tids, out = {}, {}, []
        for process, track, name, start, dur, args in self.events:
            pid = pids.setdefault(process, len(pids) + 1)
            tid = tids.setdefault((process, track), len(tids) + 1)
            out.append({"name": name, "cat": track, "ph": "X", "ts": start * 1e6, "dur": dur * 1e6,
                        "pid": pid, "tid": tid, "args": args})
        meta = [{"name": "process_name", "ph": "M", "pid": pid, "args": {"name": p}} for p, pid in pids.items()]
        meta += [{"name": "thread_name", "ph": "M", "pid": pids[p], "tid": tid, "args": {"name": t}}
                 for (p, t), tid in tids.items()]
        return {"traceEvents": meta + out, "displayTimeUnit": "ms"}


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that it is either complete or absent: a temporary file renamed into place."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_trace(trace: Trace, path) -> None:
    write_atomic(Path(path), json.dumps(trace.chrome_json()))
