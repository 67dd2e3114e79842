"""The split server: sequences advance through the stack chunk by chunk (the cloud work between two
round trips), a policy (policies.py) batches those waiting at a chunk, and while one batch's
sequences are away on their round trips the GPU runs others. A pass through the stack ends with the
token trip; a request's first pass is its prefill. Events: one a batch, and a wake-up when the GPU is
idle and the next group is still away; a group back from its trips (a cohort, or sequences whose trips
took the same time) goes to the policy with the time it is ready and costs no event of its own."""

from __future__ import annotations

from functools import lru_cache

from plmodel.fleet.costs import batch_cost, layer_part, mix_of, rates, stage_parts
from plmodel.fleet.paging import with_copies
from plmodel.fleet.policies import POLICIES, Group
from plmodel.workload import adapted_layer_indices, cloud_layer_indices

TOKEN = -1  # the trip that ends a pass


def chunks(scn, per_user_adapters: bool = False) -> list:
    """[(parts [(Part, share)], trip)] of one pass: trip is the stage index of the round trip that
    follows the chunk, or TOKEN. A layer's own work is spread over the chunks after its stages and
    each stage's A and B cost half its time on either side, as the closed form adds them."""
    return list(_chunks(scn, per_user_adapters))


@lru_cache(maxsize=64)
def _chunks(scn, per_user_adapters: bool) -> tuple:  # a search over replica sizes asks for each
    layer, stages = layer_part(scn), stage_parts(scn, per_user_adapters)
    adapted, n = set(adapted_layer_indices(scn.model, scn.adapter)), len(stages)
    out, cur = [], []
    for i in cloud_layer_indices(scn.model, scn.adapter):
        if i not in adapted:
            cur.append((layer, 1.0))
            continue
        for k in range(n):
            if k:
                cur += [(stages[k - 1], 0.5), (layer, 1.0 / n)]
            out.append((_merged(cur + [(stages[k], 0.5)]), k))
            cur = []
        cur += [(stages[n - 1], 0.5), (layer, 1.0 / n)]
    out.append((_merged(cur), TOKEN))
    return tuple(out)


def _merged(parts: list) -> tuple:
    """The same Part named twice becomes one entry with the summed share."""
    shares = {}
    for part, share in parts:
        shares[part] = shares.get(part, 0.0) + share
    return tuple(shares.items())


class SplitServer:
    def __init__(self, loop, front, gpu, engine, trips, policy, *, scn, per_user_adapters=False):
        self.loop, self.front, self.gpu, self.trips = loop, front, gpu, trips
        self.spec = policy
        self.policy = POLICIES[policy.name](policy)
        self.chunks = chunks(scn, per_user_adapters)
        self.hidden_bytes = scn.model.d_model * scn.adapter.act_bits / 8
        self.rates = rates(engine)
        self.runtime = engine.runtime
        self.idle = True
        self.wake_at = float("inf")  # when the idle GPU looks again for a group back from its trips
        self.cohorts = []  # cohort policy: the decoding cohorts, to join
        self.forming = None  # cohort policy: the prefill group new prompts join until it runs
        self.pager = None  # paged KV: a paging.Pager (set by serve)
        self.live = {}  # paged KV: id -> request admitted and not finished, in admission order
        self.out = set()  # paged KV: ids of preempted requests still in a group, dropped when it is next picked
        self.requeued = False  # some were dropped from the batch being composed: admission looks again

    def enter(self, req) -> None:
        if self.pager is not None:
            self.live[req.id] = req
            if self.pager.swap_in(req):  # back from host memory: it decodes on from the start of a pass
                self.rejoin(req)
                return
        if self.policy.keeps_groups:  # cohort: prompts gather in a prefill group until it takes the GPU
            f = self.forming
            if f is not None and len(f.members) < self.spec.cohort_size:
                f.members.append(req)
                return
            self.forming = Group([req], 0, self.loop.now)
            self.ready(self.forming)
            return
        self.ready(Group([req], 0, self.loop.now))

    def ready(self, group: Group) -> None:
        """`group` waits for the GPU from its `ready_at` (now, or when its trips end): the policy holds it,
        and an idle GPU looks at once (it sets itself a wake-up if nothing is ready yet)."""
        self.policy.add(group)
        if self.idle:
            self.dispatch()

    def woken(self) -> None:
        self.wake_at = float("inf")
        self.dispatch()

    def cost(self, pos: int, mix: list) -> tuple:
        """(seconds, accelerator seconds, host seconds) of chunk `pos` for a batch of composition `mix`, with the
        runtime's serving host time a batch and a sequence (as cloud-only's iterations)."""
        return batch_cost(self.chunks[pos][0], self.rates, mix, self.hidden_bytes, self.runtime, mix[0] + mix[4])

    def dispatch(self) -> None:
        if not self.idle:
            return
        now = self.loop.now
        groups, wake = self.policy.pick(now)
        if groups is None:
            if wake is not None and (wake < self.wake_at or self.wake_at <= now):
                self.wake_at = wake
                self.loop.at(wake, self.woken)
            return
        if groups[0] is self.forming:
            self.forming = None
        members = [m for g in groups for m in g.members]
        if self.out:
            members = self.drop_preempted(groups, members)
            if not members:  # a group of the preempted only: admission looks again, then the next group
                self.requeued = False
                self.front.admit()
                self.dispatch()
                return
        mix, tokens = mix_of(), 0
        for m in members:
            if m.context:
                mix[0] += 1
                mix[1] += m.context
                tokens += 1
            else:
                mix[2] += m.todo
                mix[3] += m.todo * m.todo
                mix[4] += 1
                tokens += m.todo
        seconds, accel, host = with_copies(self.pager, *self.cost(groups[0].pos, mix))
        self.idle = False
        self.gpu.record(now, seconds, accel, host, len(members), tokens)
        self.loop.at(now + seconds, self.finished, groups, members)
        if self.requeued:
            self.requeued = False
            self.front.admit()

    def drop_preempted(self, groups: list, members: list) -> list:
        """`members` less those preempted while in these groups: they wait again in the Front's queue (first
        in line, latest admitted last); a cohort left empty is gone."""
        gone = [m for m in members if m.id in self.out]
        for m in reversed(gone):
            self.out.discard(m.id)
            self.front.requeue(m)
        self.requeued = bool(gone)
        members = [m for m in members if m not in gone]
        if self.policy.keeps_groups:
            g = groups[0]
            g.members = members
            if not members and g.joining:  # those seated to join it start its next pass instead
                g.members, g.pos, g.ready_at = [m for m, _ in g.joining], 0, max(at for _, at in g.joining)
                g.joining = []
                self.policy.add(g)
            elif not members and g in self.cohorts:
                self.cohorts.remove(g)
        return members

    def latest(self):
        """The latest admitted request still served (None when none is left): the one paged KV preempts; it
        leaves its group when the group is next picked."""
        if not self.live:
            return None
        req = self.live.pop(next(reversed(self.live)))
        self.out.add(req.id)
        return req

    def rejoin(self, req) -> None:
        """A request swapped back in decodes on: it joins a cohort (cohort policy) or waits at the stack's start."""
        if self.policy.keeps_groups:
            self.seat(Group([req], 0, self.loop.now), [req], [0.0])
        else:
            self.ready(Group([req], 0, self.loop.now))

    def finished(self, groups: list, members: list) -> None:
        pos = groups[0].pos
        trip = self.chunks[pos][1]
        if trip == TOKEN:
            self.end_pass(groups, members)
        else:
            self.away(groups, members, self.stage_trips(trip, members), pos + 1)
        self.idle = True  # only now, so a request admitted above is batched after this batch is settled
        self.dispatch()

    def stage_trips(self, k: int, members: list) -> list:
        """Each member's round trip of stage k (s)."""
        decoding = [m for m in members if m.context]
        if len(decoding) == len(members):
            return self.trips.stage(k, 1, len(members))
        times = iter(self.trips.stage(k, 1, len(decoding)) if decoding else ())
        return [next(times) if m.context else self.trips.stage(k, m.todo)[0] for m in members]

    def away(self, groups: list, members: list, trips: list, pos: int) -> None:
        """Members leave on trips of the given lengths and come back at chunk `pos`."""
        now = self.loop.now
        if self.policy.keeps_groups:  # a cohort comes back when its slowest member does
            g = groups[0]
            g.pos, g.ready_at = pos, now + max(trips) if trips else now
            self.ready(g)
            return
        back = {}
        for m, t in zip(members, trips):
            back.setdefault(t, []).append(m)
        for t, ms in back.items():
            self.ready(Group(ms, pos, now + t))

    def end_pass(self, groups: list, members: list) -> None:
        """Each member's token goes down; the finished leave, the others start their next pass."""
        now, front, trips = self.loop.now, self.front, self.trips
        down = trips.down_s()
        prefill = not members[0].context  # cohort policy: a group is all prefill or all decode
        staying, longer = [], []
        for m in members:
            starts = not m.context
            m.context += m.todo if starts else 1
            if not front.delivered(m, now + (trips.first_token(m.todo) if starts else down)):
                staying.append(m)
                longer.append(trips.prefill_down_extra_s(m.todo) if starts else 0.0)
            elif self.pager is not None:
                del self.live[m.id]
        front.on_tokens(len(members))
        if self.pager is not None and staying:  # their next token's block (preempting the latest admitted)
            self.pager.grow(staying, self.latest, now)
        times = [t + x for t, x in zip(trips.token([m.context for m in staying]), longer)] if staying else []
        if not self.policy.keeps_groups:
            self.away(groups, staying, times, 0)
            return
        g = groups[0]
        if prefill:
            self.seat(g, staying, times)
            return
        back = [now + t for t in times] + [at for _, at in g.joining]
        g.members, g.joining = staying + [m for m, _ in g.joining], []
        if not g.members:
            self.cohorts.remove(g)
            return
        g.pos, g.ready_at = 0, max(back)
        self.ready(g)

    def seat(self, group: Group, members: list, trips: list) -> None:
        """Prefilled members join decoding cohorts with room at their next token (after their own
        token trip); those left over make a new cohort."""
        now, size, left = self.loop.now, self.spec.cohort_size, []
        for m, t in zip(members, trips):
            for c in self.cohorts:
                if len(c.members) + len(c.joining) < size:
                    c.joining.append((m, now + t))
                    break
            else:
                left.append((m, t))
        if left:
            group.members, group.pos = [m for m, _ in left], 0
            group.ready_at = now + max(t for _, t in left)
            self.cohorts.append(group)
            self.ready(group)
