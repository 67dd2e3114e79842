"""Stopping cleanly: SIGTERM (what Slurm, Kubernetes and systemd send) takes the same path as Ctrl-C,
and worker processes die with the process that started them, so no signal leaves an orphan.

Every command runs inside `terminable()`; the CLI catches the interruption once, prints one line and
exits 130 (SIGINT) or 143 (SIGTERM). Commands clean up in `finally` blocks and context managers, so an
interruption removes temporary files and stops child processes on its way out.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


class Interrupted(KeyboardInterrupt):
    """A signal that asks the command to stop (SIGTERM), raised where Ctrl-C raises KeyboardInterrupt."""

    def __init__(self, signum: int):
        super().__init__(signum)  # args = (signum,): libraries that re-raise a copy (SimPy) rebuild it as is
        self.signum = signum


def exit_status(exc: KeyboardInterrupt) -> int:
    """The conventional status of a command stopped by `exc`: 128 + the signal's number."""
    return 128 + (exc.signum if isinstance(exc, Interrupted) else signal.SIGINT)


def signal_name(exc: KeyboardInterrupt) -> str:
    signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
    return "SIGINT (Ctrl-C)" if signum == signal.SIGINT else signal.Signals(signum).name


@contextlib.contextmanager
def handling(handlers: dict):
    """Inside, each signal in `handlers` has its handler, the previous one put back after; outside the main
    thread, where Python takes no handler (signal.signal refuses it), everything is left as it was."""
    try:
        previous = {s: signal.signal(s, handler) for s, handler in handlers.items()}
    except ValueError:
        previous = {}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def deferred():
    """Inside, SIGINT and SIGTERM are only noted, and the `poll()` this yields raises Interrupted at a
    point the caller chooses: a signal raised anywhere could land inside a library holding a lock (a
    progress bar's), which then never lets go. Long loops call poll() often (the simulation, a token)."""
    noted = []

    def note(signum, _frame):
        noted.append(signum)

    def poll():
        if noted:
            raise Interrupted(noted[0])

    with handling({signal.SIGINT: note, signal.SIGTERM: note}):
        yield poll


@contextlib.contextmanager
def terminable():
    """Inside, SIGTERM raises Interrupted in the main thread (as SIGINT raises KeyboardInterrupt)."""
    def stop(signum, _frame):
        raise Interrupted(signum)

    with handling({signal.SIGTERM: stop}):
        yield


def die_with_parent() -> None:
    """In a worker process: ignore Ctrl-C (the parent handles it and stops the workers), die at once on
    SIGTERM (how the parent stops us), and exit when the parent dies, even by SIGKILL: Linux's
    parent-death signal, elsewhere a thread that watches the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a fork inherits terminable()'s handler: the parent stops us
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent:  # the parent died before the call
                    os._exit(1)
                return
    import threading  # a worker's watcher, where Linux has no parent-death signal: no command pays for it

    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
