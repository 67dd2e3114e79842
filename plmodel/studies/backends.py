"""Where independent pieces of work run: here one after the other (serial), on this machine's cores
(process), or as Ray tasks on a cluster (ray, an optional extra imported only when chosen). Every
backend yields the results in the order of the work, so a study's records do not depend on it."""

from __future__ import annotations

import multiprocessing as mp

from plmodel.errors import PlmodelError
from plmodel.interrupt import die_with_parent

BACKENDS = ("serial", "process", "ray")


def ordered_map(fn, items: list, backend: str = "process", jobs: int = 1, address: str | None = None):
    """fn(item) for each item, yielded in order. `process` with one job, or one item, runs serially;
    `ray` connects to the cluster at `address` (or starts a local one with `jobs` CPUs, stopped after)."""
    if backend not in BACKENDS:
        raise PlmodelError(f"--backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "ray":
        yield from _ray_map(fn, items, jobs, address)
    elif backend == "serial" or jobs <= 1 or len(items) < 2:
        yield from map(fn, items)
    else:
        pool = mp.Pool(jobs, initializer=die_with_parent)  # the workers die with this process, whatever stops it
        try:
            yield from pool.imap(fn, items, chunksize=max(1, len(items) // (jobs * 8)))
        finally:
            pool.terminate()


def _reachable(address: str, timeout_s: float = 10.0) -> None:
    """A one-line refusal unless the cluster's host:port answers (Ray itself retries without end)."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except (OSError, ValueError):
        raise PlmodelError(f"--address: no Ray cluster answers at {address!r} (expected host:port, ray://host:port "
                           "or auto)") from None


def _ray_map(fn, items: list, jobs: int, address: str | None):
    try:
        import ray
    except ImportError:
        raise PlmodelError("--backend ray: Ray is not installed; pip install 'plmodel[ray]' (or ray)") from None
    started = not ray.is_initialized()
    if started and address not in (None, "auto", "local"):
        _reachable(address)
    if started:
        try:
            ray.init(address=address, num_cpus=None if address else max(1, jobs), include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise PlmodelError(f"--address: cannot reach a Ray cluster at {address!r} ({exc.__class__.__name__})") \
                from None
    try:
        task = ray.remote(fn)
        refs = [task.remote(x) for x in items]
        for ref in refs:
            yield ray.get(ref)
    finally:
        if started:
            ray.shutdown()
