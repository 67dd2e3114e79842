"""The cloud accelerator: one GPU that runs one batched segment at a time.

Batching policy: the fleet's (fleet/policies.py), one model of batching for the simulation and the fleet.
When the GPU frees it asks the policy which waiting jobs run next: greedy (the default) takes the oldest
waiting job and, with it, every waiting job at the same point (phase, layer, segment); hold waits for a
point's batch to grow to its target or its oldest job to wait its longest. The jobs' tokens run as one batch
whose time comes from the pieces at the summed batch and the mean context.
"""

from __future__ import annotations

import simpy

from plmodel.errors import PlmodelError
from plmodel.fleet.policies import POLICIES, Group, PolicySpec

#: The policies the simulation's GPU takes: those that batch jobs at the same point (a cohort is the fleet's
#: own grouping of sequences, which the simulation's users do not form).
SIM_POLICIES = ("greedy", "hold")
#: No cap on a batch unless the policy names one (the simulation's users are few).
UNCAPPED = PolicySpec("greedy", max_batch=10**9)


class Job:
    __slots__ = ("key", "batch", "context", "seconds", "done")

    def __init__(self, env, key, batch, context, seconds):
        self.key, self.batch, self.context, self.seconds, self.done = key, batch, context, seconds, env.event()


class Cloud:
    """A batching GPU; `segment_s(key, batch, context)` gives a batched segment's time in seconds; `policy`
    (fleet.policies.PolicySpec, greedy or hold) chooses each batch."""

    def __init__(self, env: simpy.Environment, segment_s, trace, policy: PolicySpec = UNCAPPED):
        if policy.name not in SIM_POLICIES:
            raise PlmodelError(f"the simulation batches by {' or '.join(SIM_POLICIES)}; the {policy.name} policy "
                               "groups sequences into cohorts, which plmodel fleet models", field="policy")
        self.env, self.segment_s, self.trace = env, segment_s, trace
        self.policy = POLICIES[policy.name](policy)
        self.wakeup = None
        self.busy_s = 0.0
        self.batches = 0
        env.process(self.serve())

    def submit(self, key, batch: int, context: int, seconds: float):
        """An event that fires when this job's segment (`seconds` alone, from its route) has run."""
        job = Job(self.env, key, batch, context, seconds)
        self.policy.add(Group([job], key, self.env.now), self.env.now)
        if self.wakeup is not None and not self.wakeup.triggered:
            self.wakeup.succeed()
        return job.done

    def _next(self):
        """Process: wait until the policy gives a batch; return its jobs."""
        env = self.env
        while True:
            groups, later = self.policy.pick(env.now)
            if groups:
                return [g.members[0] for g in groups]
            self.wakeup = env.event()
            yield self.wakeup if later is None else env.any_of([self.wakeup, env.timeout(later - env.now)])

    def serve(self):
        env = self.env
        while True:
            jobs = yield from self._next()
            key = jobs[0].key
            if len(jobs) == 1:  # alone: its route's time
                batch, dur = jobs[0].batch, jobs[0].seconds
            else:
                batch = sum(j.batch for j in jobs)
                dur = self.segment_s(key, batch, round(sum(j.context * j.batch for j in jobs) / batch))
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

    def __init__(self, env: simpy.Environment, trace):
        self.env, self.trace = env, trace
        self.busy_s = 0.0
        self.batches = 0

    def submit(self, key, batch: int, context: int, seconds: float):
        """A timeout of the segment's `seconds` (its route's: the user's own batch and context)."""
        dur = seconds
        self.busy_s += dur
        self.batches += 1
        if self.trace.enabled:
            self.trace.add("cloud", "gpu", f"{key[0]} L{key[1]} s{key[2]}", self.env.now, dur, batch=batch)
        return self.env.timeout(dur)
