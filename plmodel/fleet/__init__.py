"""Many devices sharing cloud GPUs: a split server and a cloud-only server (continuous batching) on
one event loop and the same engine (cloud-only's KV paged by default, split's reserved whole); capacity and
cost from them."""

from plmodel.fleet.arrivals import Workload, read_trace
from plmodel.fleet.cloud_only import BatchingSpec
from plmodel.fleet.policies import POLICIES, PolicySpec
from plmodel.fleet.run import FleetResult, serve

__all__ = ["BatchingSpec", "FleetResult", "POLICIES", "PolicySpec", "Workload", "read_trace", "serve"]
