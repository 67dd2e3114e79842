"""Paged KV memory for both servers (vLLM's PagedAttention), one code for split and cloud-only.

A request is admitted on its prompt's blocks (on its context's when it comes back after a preemption),
admission leaving the watermark free; a sequence takes a block each time its context crosses one. When a
sequence needs a block and none is free, the latest admitted request is preempted (vLLM's order), by the
`preemption` policy:
- recompute (vLLM's default, and V1's only mode): its blocks are freed and its prompt and the tokens it had
  generated run again as a prefill when it is admitted again;
- swap (vLLM V0's other mode): its blocks are copied to host memory over the GPU's host link
  (`HardwareSpec.host_link_bytes_per_s`, PCIe) and copied back, on its re-admission, before it resumes
  decoding. The copies take the GPU's next batch (as vLLM's worker runs its swaps before the model), and
  host memory holds at most SWAP_SPACE_BYTES a GPU: a victim that does not fit is recomputed instead.
The servers say which request is the latest admitted and where a preempted one waits; the Front's queue
re-admits it first in line.
"""

from __future__ import annotations

from plmodel.errors import PlmodelError
from plmodel.units import GIB

PREEMPTIONS = ("recompute", "swap")
#: Host memory for swapped KV a GPU: vLLM's EngineArgs.swap_space default, 4 GiB a GPU (vLLM 0.4-0.6,
#: vllm/engine/arg_utils.py).
SWAP_SPACE_BYTES = 4 * GIB


def front_options(spec, pool) -> dict:
    """The Front's admission with paged KV: a request's prompt blocks (its context's when recomputed, its
    swapped bytes when swapped), the watermark left free; {} with whole-length reservation (the Front's
    default)."""
    if spec.kv != "paged":
        return {}
    mem, b = pool.memory, spec.block_tokens
    return {"need": lambda req: req.swapped or mem.blocks_bytes(req.todo, b),
            "whole": lambda req: mem.blocks_bytes(req.prompt + req.output, b),
            "margin": spec.watermark * pool.capacity}


def with_copies(pager, seconds: float, accel: float, host: float) -> tuple:
    """A batch's (seconds, accelerator seconds, host seconds) with the host copies (swaps) the GPU's copy engine
    runs before it, taken from `pager` (None: no paged KV, no copies)."""
    if pager is None:
        return seconds, accel, host
    copy = pager.take_copy_s()
    return seconds + copy, accel + copy, host


class Pager:
    """Blocks for growing sequences, and preemption when none is free (recompute or swap), on one replica's
    KV pool. `copy_s`: seconds of host copies the GPU's next batch waits for (taken by `take_copy_s`)."""

    def __init__(self, front, pool, spec, *, host_bps: float | None, gpus: int):
        if spec.preemption == "swap" and not host_bps:
            raise PlmodelError("swap needs the cloud GPU's host link (host_link_gbyte_per_s in its profile)",
                               field="preemption")
        self.front, self.pool, self.b = front, pool, spec.block_tokens
        self.block = pool.memory.blocks_bytes(1, spec.block_tokens) - pool.memory.per_request_bytes
        self.swap, self.host_bps = spec.preemption == "swap", host_bps
        self.host_capacity, self.host_used = SWAP_SPACE_BYTES * gpus, 0.0
        self.copy_s = 0.0
        self.swapped_out_bytes = self.swapped_in_bytes = 0.0  # conserved: equal at the end of a run

    def grow(self, members: list, latest, now: float) -> list:
        """Every one of `members` whose next token needs a block gets one; where none is free, `latest()`
        gives the latest admitted request (removed from the server's own lists; None when none is left) and it
        is preempted, until the block fits or the needing one was preempted itself. Returns the preempted."""
        pool, block = self.pool, self.block
        needing = [m for m in members if m.context and m.context % self.b == 0]
        if not needing:
            return []
        if pool.fits(block * len(needing)):  # the common case: one reservation for all
            pool.reserve(block * len(needing), now)
            for m in needing:
                m.kv_bytes += block
            return []
        out = []
        for m in needing:
            if m in out:
                continue
            while not pool.fits(block):
                victim = latest()
                if victim is None:
                    break
                self.preempt(victim, now)
                out.append(victim)
                if victim is m:
                    break
            if m not in out:
                pool.reserve(block, now)
                m.kv_bytes += block
        return out

    def preempt(self, req, now: float) -> None:
        """Free `req`'s blocks: copied to host (swap, where it has a context and host memory has room) or
        dropped, its context to be recomputed."""
        if self.swap and req.context and self.host_used + req.kv_bytes <= self.host_capacity:
            self.host_used += req.kv_bytes
            self.swapped_out_bytes += req.kv_bytes
            self.copy_s += req.kv_bytes / self.host_bps
            req.swapped = req.kv_bytes
            self.front.swaps += 1
        else:
            if req.context:  # its prompt and the tokens it generated (a waiting prompt keeps its todo)
                req.todo = req.context + 1
            req.prefilled, req.context = 0, 0
        self.front.free(req, now)

    def swap_in(self, req) -> bool:
        """`req`, just re-admitted: its swapped blocks copied back (True), or False if it was not swapped."""
        if not req.swapped:
            return False
        self.host_used -= req.swapped
        self.swapped_in_bytes += req.swapped
        self.copy_s += req.swapped / self.host_bps
        req.swapped = 0.0
        return True

    def take_copy_s(self) -> float:
        """The host copies waiting for the GPU (s), now taken by a batch."""
        s, self.copy_s = self.copy_s, 0.0
        return s
