"""Many devices sharing cloud GPUs: a split server and a cloud-only server (continuous batching) on
one event loop, the same engine and the same KV admission; capacity and cost from them."""

from .arrivals import Workload, read_trace
from .cloud_only import BatchingSpec
from .policies import POLICIES, PolicySpec
from .run import FleetResult, serve

__all__ = ["BatchingSpec", "FleetResult", "POLICIES", "PolicySpec", "Workload", "read_trace", "serve"]
