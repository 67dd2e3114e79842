"""The cloud's memory for requests: weights stay, and the KV cache is either reserved for a request's
whole length (prompt plus output) from admission to its last token (`--kv reserve`: admission control
without preemption), or paged (the default, both servers: blocks of a few tokens taken as the context
grows, paging.py preempts when none is free). Requests wait, first
come first served, while what they need at admission does not fit. Occupancy is integrated over time."""

from __future__ import annotations

from plmodel.frozen import frozen
from plmodel.hardware.feasibility import cloud_capacity_bytes
from plmodel.workload import residency, whole


@frozen
class Memory:
    """Bytes of one replica (a tensor-parallel group of `gpus` GPUs)."""

    capacity_bytes: float  # what weights and KV get: the usable share of every GPU of the group
    weight_bytes: float  # decoder weights, and A and B when all users share them
    kv_bytes_per_token: float  # every layer's K and V of one token
    per_request_bytes: float  # A and B of one user when every user has their own

    @property
    def kv_capacity_bytes(self) -> float:
        return self.capacity_bytes - self.weight_bytes

    def request_bytes(self, tokens: int) -> float:
        """What a request of `tokens` tokens (prompt plus output) reserves."""
        return tokens * self.kv_bytes_per_token + self.per_request_bytes

    def blocks_bytes(self, tokens: int, block_tokens: int) -> float:
        """What a request holds with `tokens` tokens in paged KV: whole blocks, and its own adapters."""
        return -(-tokens // block_tokens) * block_tokens * self.kv_bytes_per_token + self.per_request_bytes


def memory_of(scn, gpus: int, per_user_adapters: bool = False, server: str = "split") -> Memory:
    """The memory model of a scenario served on a group of `gpus` GPUs: split holds the cloud's
    layers (not those the device holds), cloud-only every layer."""
    r = residency(scn.model, scn.adapter if server == "split" else whole(scn.adapter), 1, 1)
    adapters = float(r.cloud_adapter_bytes)
    return Memory(capacity_bytes=gpus * cloud_capacity_bytes(scn.cloud),
                  weight_bytes=float(r.cloud_weight_bytes) + (0.0 if per_user_adapters else adapters),
                  kv_bytes_per_token=float(r.cloud_kv_bytes), per_request_bytes=adapters if per_user_adapters else 0.0)


class KvPool:
    """Reservations against the KV capacity, with their time integral (byte-seconds) and peak."""

    def __init__(self, memory: Memory):
        self.memory = memory
        self.capacity = memory.kv_capacity_bytes
        self.used = 0.0
        self.peak = 0.0
        self.byte_s = 0.0
        self.since = 0.0
        self.samples = []  # (time s, bytes reserved) at every change

    def _advance(self, now: float) -> None:
        self.byte_s += self.used * (now - self.since)
        self.since = now

    def fits(self, nbytes: float) -> bool:
        return self.used + nbytes <= self.capacity * (1 + 1e-12)

    def reserve(self, nbytes: float, now: float) -> None:
        self._advance(now)
        self.used += nbytes
        self.peak = max(self.peak, self.used)
        self.samples.append((now, self.used))

    def release(self, nbytes: float, now: float) -> None:
        self._advance(now)
        self.used = max(0.0, self.used - nbytes)
        self.samples.append((now, self.used))
