"""The event loop both servers run on, and the front door they share: requests arrive, reach the
cloud, wait for memory (first come, first served), are served, and leave when their last token is
delivered; closed-loop users then think and ask again.

A plain heap of (time, order, callback): the fleet has few kinds of event and needs millions of them,
so it does without SimPy's generators (the single-user `simulate` keeps SimPy for its traces).
"""

from __future__ import annotations

import heapq


class Loop:
    """Callbacks at times; `run()` calls them in time order (ties in scheduling order)."""

    def __init__(self):
        self.heap, self.now, self.order, self.events = [], 0.0, 0, 0

    def at(self, time_s: float, callback, *args) -> None:
        if time_s < self.now:  # an invariant: nothing is scheduled in the past
            raise AssertionError(f"fleet: an event at {time_s!r} s scheduled at {self.now!r} s")
        heapq.heappush(self.heap, (time_s, self.order, callback, args))
        self.order += 1

    def run(self, poll=None) -> None:
        """Run to the end; `poll()` is called every few thousand events (a signal check, a progress bar)."""
        heap, pop = self.heap, heapq.heappop
        while heap:
            self.now, _, callback, args = pop(heap)
            callback(*args)
            self.events += 1
            if poll is not None and not self.events & 4095:
                poll()


class Request:
    """One request's life (times in s) and its place in the stack while it is served."""

    __slots__ = ("id", "user", "arrival_s", "prompt", "output", "reach_s", "admit_s", "first_s", "done_s",
                 "generated", "context", "kv_bytes", "prefilled", "todo", "swapped")

    def __init__(self, rid: int, arrival_s: float, prompt: int, output: int, user=None):
        self.id, self.user, self.arrival_s, self.prompt, self.output = rid, user, arrival_s, prompt, output
        self.reach_s = self.admit_s = self.first_s = self.done_s = None
        self.generated = 0  # tokens delivered to the device
        self.context = 0  # tokens in its KV cache
        self.kv_bytes = 0.0
        self.prefilled = 0  # prompt tokens run so far (chunked prefill)
        self.todo = prompt  # tokens its prefill runs: the prompt, or after a preemption its context to recompute
        self.swapped = 0.0  # bytes of its KV in host memory (swapped out when preempted; paging.py)


class Gpu:
    """What the GPU did: its busy time (accelerator and host shares) inside the measurement window, and
    the size of the batches that start in it."""

    def __init__(self, window: tuple):
        self.window = window
        self.busy_s = self.accel_s = self.host_s = 0.0
        self.batches = self.sequences = self.tokens = 0
        self.all_busy_s = 0.0

    def record(self, start: float, seconds: float, accel: float, host: float, sequences: int, tokens: int) -> None:
        self.all_busy_s += seconds
        w0, w1 = self.window
        inside = min(start + seconds, w1) - max(start, w0)
        if inside > 0:  # its share inside the window
            share = inside / seconds
            self.busy_s += inside
            self.accel_s += accel * share
            self.host_s += host * share
        if w0 <= start < w1:
            self.batches += 1
            self.sequences += sequences
            self.tokens += tokens


class Front:
    """Arrivals, admission against the KV pool, token delivery, completion and closed-loop users.
    `need(req)` is what a request reserves at admission (its whole length, or its prompt's blocks);
    the server's `room()` may hold admission back (a cap on requests at once)."""

    def __init__(self, loop: Loop, pool, *, lead_s, max_context: int | None, on_tokens=None, need=None, margin=0.0,
                 whole=None):
        self.loop, self.pool, self.lead_s, self.max_context = loop, pool, lead_s, max_context
        self.need = need or (lambda req: pool.memory.request_bytes(req.prompt + req.output))
        self.whole = whole or self.need  # what a request needs alone at its longest (more than the cache: rejected)
        self.margin = margin  # bytes admission leaves free (paged KV's watermark)
        self.server = None
        self.queue = []  # admitted in order: a deque is not needed at these sizes (popped from the front by index)
        self.head = 0
        self.requests, self.rejected = [], []
        self.preemptions = 0
        self.swaps = 0  # of the preemptions, those swapped to host memory (paging.py)
        self.on_tokens = on_tokens or (lambda n: None)
        self.next_user_request = None  # closed loop: callback(user, now) that issues the user's next request

    def arrive(self, req: Request) -> None:
        self.requests.append(req)
        self.loop.at(self.loop.now + self.lead_s(req.prompt), self.reach, req)

    def reach(self, req: Request) -> None:
        req.reach_s = self.loop.now
        too_long = self.max_context and req.prompt + req.output > self.max_context
        if too_long or self.whole(req) + self.margin > self.pool.capacity:
            self.rejected.append(req)
            self.requests.remove(req)
            self._next(req)
            return
        self.queue.append(req)
        self.admit()

    def admit(self) -> None:
        q, room = self.queue, getattr(self.server, "room", None)
        while self.head < len(q) and (room is None or room()):
            req = q[self.head]
            need = self.need(req)
            if not self.pool.fits(need + self.margin):
                break
            self.head += 1
            self.pool.reserve(need, self.loop.now)
            req.kv_bytes = need
            if req.admit_s is None:
                req.admit_s = self.loop.now
            self.server.enter(req)
        if self.head > 4096 and self.head * 2 > len(q):
            del q[:self.head]
            self.head = 0

    def free(self, req: Request, now: float) -> None:
        """A preempted request frees its KV (paging.py; it waits again once `requeue`d)."""
        self.pool.release(req.kv_bytes, now)
        req.kv_bytes = 0.0
        self.preemptions += 1

    def requeue(self, req: Request) -> None:
        """A preempted request waits again, first in line."""
        self.queue.insert(self.head, req)

    def delivered(self, req: Request, at_s: float) -> bool:
        """A token of `req` reaches the device at `at_s`; True when it was the last."""
        req.generated += 1
        if req.generated == 1:
            req.first_s = at_s
        if req.generated < req.output:
            return False
        req.done_s = at_s
        self.pool.release(req.kv_bytes, self.loop.now)
        self.admit()
        self._next(req, at_s)
        return True

    def _next(self, req: Request, at_s: float | None = None) -> None:
        if self.next_user_request is not None and req.user is not None:
            self.next_user_request(req.user, self.loop.now if at_s is None else at_s)
