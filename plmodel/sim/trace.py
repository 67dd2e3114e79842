"""Timeline records and their Chrome/Perfetto trace (JSON with `traceEvents`, times in microseconds).

A trace kept in memory serves the Python API (`chrome_json`); a trace given a file streams every event
to a temporary file beside it as it happens (gzip when the name ends in .gz), so memory does not grow
with the number of events, and is renamed into place only when the run completes: an interrupted run
leaves no file. `users` keeps only the first K users' tracks (the GPU's always).
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path


class Trace:
    """Complete ('X') events on named tracks; a disabled trace records nothing."""

    def __init__(self, enabled: bool, path=None, users: int | None = None):
        self.enabled, self.path, self.users = enabled, None if path is None else Path(path), users
        self.events = []  # (process, track, name, start_s, dur_s, args), in memory mode
        self.pids, self.tids = {}, {}
        self.stream = self.tmp = None
        self.written = 0
        if enabled and self.path is not None:
            fd, self.tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
            raw = os.fdopen(fd, "wb")
            self.stream = gzip.open(raw, "wt") if self.path.suffix == ".gz" else open(fd, "w", closefd=False)
            self._raw = raw
            self.stream.write('{"displayTimeUnit": "ms", "traceEvents": [\n')

    def for_process(self, process: str) -> "Trace":
        """This trace, or a disabled one for a user beyond the first `users`."""
        if self.enabled and self.users is not None and process.startswith("user "):
            if int(process.split()[1]) >= self.users:
                return DISABLED
        return self

    def add(self, process: str, track: str, name: str, start_s: float, dur_s: float, **args) -> None:
        if not self.enabled:
            return
        if self.stream is None:
            self.events.append((process, track, name, start_s, dur_s, args))
            return
        pid, tid = self._ids(process, track)
        self._write({"name": name, "cat": track, "ph": "X", "ts": start_s * 1e6, "dur": dur_s * 1e6, "pid": pid,
                     "tid": tid, "args": args})

    def _ids(self, process: str, track: str) -> tuple:
        """(pid, tid) of a track; the first time, the metadata events that name them."""
        if process not in self.pids:
            self.pids[process] = len(self.pids) + 1
            self._write({"name": "process_name", "ph": "M", "pid": self.pids[process], "args": {"name": process}})
        if (process, track) not in self.tids:
            self.tids[process, track] = tid = len(self.tids) + 1
            self._write({"name": "thread_name", "ph": "M", "pid": self.pids[process], "tid": tid,
                         "args": {"name": track}})
        return self.pids[process], self.tids[process, track]

    def _write(self, event: dict) -> None:
        self.stream.write((",\n" if self.written else "") + json.dumps(event))
        self.written += 1

    def finish(self) -> None:
        """Close a streamed trace and move it into place (complete, or absent)."""
        if self.stream is None:
            return
        self.stream.write("\n]}\n")
        self._close()
        os.replace(self.tmp, self.path)
        self.tmp = None

    def discard(self) -> None:
        """Close and remove a streamed trace that did not complete."""
        if self.stream is not None:
            self._close()
            Path(self.tmp).unlink(missing_ok=True)

    def _close(self) -> None:
        self.stream.close()
        self._raw.close()
        self.stream = None

    def chrome_json(self) -> dict:
        """An in-memory trace in Chrome's JSON format: one pid per process (cloud, each user), one tid per track."""
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


DISABLED = Trace(False)


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
    """Write an in-memory trace to `path` (atomically)."""
    write_atomic(Path(path), json.dumps(trace.chrome_json()))
