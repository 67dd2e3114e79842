"""The cloud accelerator: one GPU that runs one batched segment at a time.

Batching policy: when the GPU frees, it takes the oldest waiting job and, with it, every waiting job
at the same point (phase, layer, segment); their tokens run as one batch whose time comes from the
pieces at the summed batch and the mean context. Jobs at other points wait (FIFO by arrival).
"""

from __future__ import annotations

import simpy


class Job:
    __slots__ = ("key", "batch", "context", "done")

    def __init__(self, env, key, batch, context):
        self.key, self.batch, self.context, self.done = key, batch, context, env.event()


class Cloud:
    """A batching GPU; `segment_s(key, batch, context)` gives a batched segment's time in seconds."""

    def __init__(self, env: simpy.Environment, segment_s, trace):
        self.env, self.segment_s, self.trace = env, segment_s, trace
        self.queue = []
        self.wakeup = None
        self.busy_s = 0.0
        self.batches = 0
        env.process(self.serve())

    def submit(self, key, batch: int, context: int):
        """An event that fires when this job's segment has run."""
        job = Job(self.env, key, batch, context)
        self.queue.append(job)
        if self.wakeup is not None and not self.wakeup.triggered:
            self.wakeup.succeed()
        return job.done

    def serve(self):
        env = self.env
        while True:
            if not self.queue:
                self.wakeup = env.event()
                yield self.wakeup
            key = self.queue[0].key
            if len(self.queue) == 1:
                jobs, self.queue = self.queue, []
                batch, context = jobs[0].batch, jobs[0].context
            else:
                jobs = [j for j in self.queue if j.key == key]
                self.queue = [j for j in self.queue if j.key != key]
                batch = sum(j.batch for j in jobs)
                context = round(sum(j.context * j.batch for j in jobs) / batch)
            dur = self.segment_s(key, batch, context)
            start = env.now
            yield env.timeout(dur)
            self.busy_s += dur
            self.batches += 1
            if self.trace.enabled:
                self.trace.add("cloud", "gpu", f"{key[0]} L{key[1]} s{key[2]}", start, dur, batch=batch)
            for j in jobs:
                j.done.succeed()


class DirectCloud:
    """The GPU of a single user: nothing to batch or queue, so a segment is one timeout."""

    def __init__(self, env: simpy.Environment, segment_s, trace):
        self.env, self.segment_s, self.trace = env, segment_s, trace
        self.busy_s = 0.0
        self.batches = 0

    def submit(self, key, batch: int, context: int):
        dur = self.segment_s(key, batch, context)
        self.busy_s += dur
        self.batches += 1
        if self.trace.enabled:
            self.trace.add("cloud", "gpu", f"{key[0]} L{key[1]} s{key[2]}", self.env.now, dur, batch=batch)
        return self.env.timeout(dur)
