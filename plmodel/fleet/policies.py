"""How the split server chooses its next batch when the GPU frees. Sequences wait at points of the
stack (a chunk: the cloud work between two round trips); a batch runs one chunk for sequences waiting
at the same point. Register a new policy in POLICIES.

- greedy: the point where the longest-waiting sequence is, with every sequence waiting there (up to
  `max_batch`). Never idles while work waits; batches only what happens to coincide, so jittered
  links scatter users and batches shrink towards one.
- hold: the point with the most sequences waiting; it runs once `target` are there or its oldest has
  waited `max_wait_s`, else the GPU idles until then or until more arrive. Trades latency for batch.
- cohort: decoding sequences move through the stack in cohorts of up to `cohort_size` that stay
  together (a chunk waits for the cohort's slowest round trip). New prompts gather into a prefill
  group while it waits for the GPU and run their prefill pass together; then each joins a cohort
  with room at that cohort's next token (or the group becomes a new cohort), and finished sequences
  leave there, so each cohort is continuously batched and never waits for a prompt's long round
  trips. Cohorts and prefill groups take the GPU in turn, first ready first served, while the others
  are away on their round trips.
"""

from __future__ import annotations

import heapq

from plmodel.frozen import frozen


@frozen
class PolicySpec:
    """The split server's batching policy (POLICIES) and its settings."""

    name: str = "cohort"
    max_batch: int = 256  # most sequences a batch (greedy, hold)
    max_wait_s: float = 0.002  # hold: the longest a point waits for its batch to grow
    target: int = 32  # hold: run at once with this many sequences waiting
    cohort_size: int = 64  # cohort: most sequences a cohort


class Group:
    """Sequences that wait at the same point and are ready at the same time."""

    __slots__ = ("members", "pos", "ready_at", "joining", "live")

    def __init__(self, members: list, pos: int, ready_at: float):
        self.members, self.pos, self.ready_at = members, pos, ready_at
        self.joining = []  # cohort: (request, time it is back) that join at the next token
        self.live = True


class FirstReady:
    """cohort: whole groups, one a batch, first ready first served."""

    keeps_groups = True

    def __init__(self, spec: PolicySpec):
        self.spec, self.heap, self.order = spec, [], 0

    def add(self, group: Group, now: float | None = None) -> None:
        """A group, ready now or at its `ready_at` (back from its trips later: no event needed)."""
        heapq.heappush(self.heap, (group.ready_at, self.order, group))
        self.order += 1

    def pick(self, now: float):
        """([groups] to run now, or None) and, if none, the time to look again (or None)."""
        if not self.heap:
            return None, None
        if self.heap[0][0] > now:
            return None, self.heap[0][0]
        return [heapq.heappop(self.heap)[2]], None


class SamePoint:
    """greedy and hold: groups at the same point run together."""

    keeps_groups = False

    def __init__(self, spec: PolicySpec, hold: bool):
        self.spec, self.hold = spec, hold
        self.at = {}  # point -> [groups] in ready order
        self.count = {}  # point -> sequences waiting
        self.heap, self.order = [], 0  # (ready_at, order, group): the oldest waiting group (lazy removal)
        self.coming = []  # (ready_at, order, group): groups still away on their trips

    def add(self, group: Group, now: float | None = None) -> None:
        """A group, ready now or at its `ready_at` (back from its trips later: no event needed). Given `now`, a
        group ready by then joins the waiting at once, after those back by then (the order `pick` would give
        it where groups are added in the order they are ready, as a simulation's users submit)."""
        entry = (group.ready_at, self.order, group)
        self.order += 1
        if now is not None and group.ready_at <= now:
            self._arrive(now)
            self._wait(entry)
        else:
            heapq.heappush(self.coming, entry)

    def _wait(self, entry) -> None:
        g = entry[2]
        self.at.setdefault(g.pos, []).append(g)
        self.count[g.pos] = self.count.get(g.pos, 0) + len(g.members)
        heapq.heappush(self.heap, entry)

    def _arrive(self, now: float) -> None:
        """Groups whose trips are over join the waiting."""
        while self.coming and self.coming[0][0] <= now:
            self._wait(heapq.heappop(self.coming))

    def _oldest(self):
        while self.heap and not self.heap[0][2].live:
            heapq.heappop(self.heap)
        return self.heap[0][2] if self.heap else None

    def pick(self, now: float):
        self._arrive(now)
        oldest = self._oldest()
        later = self.coming[0][0] if self.coming else None
        if oldest is None:
            return None, later
        pos = oldest.pos
        if self.hold:
            pos = max(self.count, key=self.count.__getitem__)
            first = self.at[pos][0]
            deadline = first.ready_at + self.spec.max_wait_s
            if self.count[pos] < self.spec.target and now < deadline:
                return None, min(deadline, later) if later is not None else deadline
        return self._take(pos), None

    def _take(self, pos: int) -> list:
        waiting, taken, n = self.at[pos], [], 0
        while waiting and (not taken or n + len(waiting[0].members) <= self.spec.max_batch):
            g = waiting.pop(0)
            g.live = False
            taken.append(g)
            n += len(g.members)
        self.count[pos] -= n
        if not waiting:
            del self.at[pos], self.count[pos]
        return taken

def greedy(spec):
    return SamePoint(spec, hold=False)


def hold(spec):
    return SamePoint(spec, hold=True)


POLICIES = {"cohort": FirstReady, "greedy": greedy, "hold": hold}
