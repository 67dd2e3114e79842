"""A replica: the tensor-parallel group of GPUs that holds one copy of the model, its engine, and the cost
models of the two servers on it (no event loop: what the closed forms, capacity and pricing read)."""

from __future__ import annotations

from dataclasses import replace

from plmodel.design import require_engine
from plmodel.errors import PlmodelError
from plmodel.fleet.cloud_only import BatchingSpec, CloudOnlyServer
from plmodel.fleet.policies import PolicySpec
from plmodel.fleet.split import SplitServer
from plmodel.fleet.trips import Trips
from plmodel.hardware import runtimes
from plmodel.hardware.engine import Engine
from plmodel.hardware.feasibility import GROUPS, cloud_fit


def replica(scn, gpus: int | None = None) -> tuple:
    """(GPUs of the replica, its Engine): `gpus` a tensor-parallel group (fleet/replicas.py checks it), or
    None for the smallest group that holds the model and one request."""
    if scn.mode == "paper":
        raise PlmodelError("the fleet model is realistic only: the paper's accounting has no time to share",
                           field="mode")
    require_engine(scn, "fleet")
    fit = cloud_fit(replace(scn, batch=1))
    if not fit.fits:
        raise PlmodelError(f"{scn.model.name} does not fit a group of {scn.cloud.name} GPUs", field="cloud")
    if gpus is not None and not fit.gpus <= gpus <= 64:
        raise PlmodelError(f"expected {fit.gpus} to 64 GPUs a replica for {scn.model.name}, got {gpus}", field="gpus")
    m = scn.model
    if gpus is not None and (m.n_heads % gpus or m.n_kv_heads % gpus):
        raise PlmodelError(f"expected a group that divides {m.name}'s {m.n_heads} heads and {m.n_kv_heads} KV heads, "
                           f"got {gpus} GPUs", field="gpus")
    return gpus or fit.gpus, Engine(scn.cloud, runtimes.resolve(scn)[0], gpus or fit.gpus)


def servers(scn, policy: PolicySpec, batching: BatchingSpec, per_user_adapters: bool = False,
            gpus: int | None = None, trips: Trips | None = None) -> tuple:
    """(gpus, SplitServer, CloudOnlyServer) for the closed forms (their cost models, no loop) on a replica
    of `gpus` (None: the smallest group that holds the model); `trips` (`expected_trips(scn)`, which a search
    over replica sizes makes once) the same whatever the replica."""
    gpus, engine = replica(scn, gpus)
    trips = trips or expected_trips(scn)
    split = SplitServer(None, None, None, engine, trips, policy, scn=scn, per_user_adapters=per_user_adapters)
    cloud = CloudOnlyServer(None, None, None, engine, trips.link, batching, scn=scn)
    return gpus, split, cloud


def expected_trips(scn) -> Trips:
    """The trips of `scn`'s sequences without draws: the closed forms take expectations."""
    return Trips(scn, None)


def groups(scn, total: int | None = None) -> list:
    """The tensor-parallel groups a replica of `scn` can be: from the smallest that holds the model, dividing
    its heads (and `total` GPUs, if given), with an interconnect beyond one GPU."""
    smallest, m = replica(scn)[0], scn.model
    return [n for n in GROUPS if n >= smallest and m.n_heads % n == 0 and m.n_kv_heads % n == 0
            and (n == 1 or scn.cloud.interconnect_bytes_per_s) and (total is None or total % n == 0)]
