"""Pipelined prefill: the prompt in C chunks that follow one another through the split stack.

Without it a prefill pays the whole prompt's upload, then every round trip in turn. Cut into C chunks
(sizes differing by at most a token), chunk j runs the stack as a prefill of its own tokens that also
attends to the earlier chunks' KV cache (Step.past_tokens); while it waits for a round trip, the GPU,
the link and the device serve the chunks around it. Only the last chunk asks for logits.

A chunk's route lists its stages in order: a GPU segment (the simulation's unit of cloud work), a
message on a link direction (it holds the direction, then travels RTT/2 without holding it), device
work, or a wait. The closed form keeps every stage's chunks in order (chunk j starts stage s once its
stage s-1 has arrived and chunk j-1 has finished stage s: a permutation flow shop, exact while no
resource is asked for by two stages at once) and takes the larger of that and each resource's own
bound (every chunk's work on it, plus what comes before its first use and after its last). The
simulation (sim/pipelined.py) runs the same routes on one GPU, one device and two shared link
directions, which checks the closed form where neither bound is exact.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from plmodel.accounting.base import StepTime
from plmodel.bounds import require_positive
from plmodel.design import Design, Param
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.link import hold_s, mean_slowdown
from plmodel.route import LINK_KINDS, layer_plan, route, travel_s
from plmodel.step import Step
from plmodel.workload import cloud_layer_indices, stages

#: Most chunks a prompt is cut into.
MAX_CHUNKS = 256



def chunk_sizes(prompt_tokens: int, chunks: int) -> list:
    """Tokens of each chunk: as even as integers allow, the longer ones first."""
    q, r = divmod(int(prompt_tokens), int(chunks))
    return [q + (i < r) for i in range(int(chunks))]


def chunk_steps(step: Step, chunks: int) -> list:
    """The prefill steps of the chunks of `step`'s prompt; only the last asks for logits."""
    sizes, out, past = chunk_sizes(step.context_tokens, chunks), [], 0
    for j, n in enumerate(sizes):
        last = j == len(sizes) - 1
        out.append(Step("prefill", step.batch, n, step.logit_tokens if last else 0, step.transport, past_tokens=past))
        past += n
    return out


def plan_of(scn, pieces) -> list:
    """[(layer, round trips)] of the cloud's layers, in order."""
    return layer_plan(cloud_layer_indices(scn.model, scn.adapter), pieces.adapted, len(stages(scn.adapter.targets)))


def routes(acc, scn, step: Step, chunks: int) -> tuple:
    """([route] of the `chunks` chunks of `step`, a prefill, timed by accounting `acc`; the cloud's time source)."""
    steps = chunk_steps(step, chunks)
    pieces = [acc.pieces(scn, s) for s in steps]
    plan = plan_of(scn, pieces[0])
    return [route(p, plan, j == len(steps) - 1) for j, p in enumerate(pieces)], pieces[0].cloud_source


def timing(kind: str, value, link) -> tuple:
    """(seconds a stage holds its resource, seconds it then travels without holding one)."""
    if kind in LINK_KINDS:
        bps = link.c2d_bps if kind == "c2d" else link.d2c_bps
        return hold_s(value, 1, bps, link, mean_slowdown(link)), travel_s(link)
    if kind == "wait":
        return 0.0, value
    return value, 0.0  # cloud, device; none is 0


def flow_shop_s(timed: list):
    """Makespan of chunks kept in order at every stage: `timed` is [[(kind, hold s, travel s)]] a chunk. Every
    chunk's embeddings (its first two stages) are queued at once, so the device and the uplink serve them all
    before anything later asks for them."""
    opening, release = {}, None
    for stages_ in timed:  # the opening stages, chunk after chunk
        for kind, hold, _ in stages_[:2]:
            opening[kind] = np.maximum(opening.get(kind, 0.0), opening.get("device", 0.0) * (kind != "device")) + hold
    for stages_ in timed:
        t, mine = 0.0, []
        for s, (kind, hold, travel) in enumerate(stages_):
            start = t if release is None or kind in ("wait", "none") else np.maximum(t, release[s])
            if s >= 2 and kind in opening:
                start = np.maximum(start, opening[kind])
            mine.append(start + hold)
            t = start + hold + travel
        release = mine
    return t


def resource_bound_s(timed: list):
    """The largest of each resource's bound: the first chunk's time before its first use, every chunk's
    work on it, and the last chunk's time after its last use."""
    best = 0.0
    for res in ("cloud", "device", *LINK_KINDS):
        idx = [s for s, st in enumerate(timed[0]) if st[0] == res]
        if not idx:
            continue
        head = sum(h + tr for _, h, tr in timed[0][:idx[0]])
        work = sum(st[s][1] for st in timed for s in idx)
        tail = timed[-1][idx[-1]][2] + sum(h + tr for _, h, tr in timed[-1][idx[-1] + 1:])
        best = np.maximum(best, head + work + tail)
    return best


def step_time(acc, scn, step: Step, chunks: int):
    """StepTime of a pipelined prefill: the parts summed over the chunks, and the overlap that the
    makespan hides."""
    link = acc.link(scn.link)
    rs, source = routes(acc, scn, step, chunks)
    timed = [[(seg.kind, *timing(seg.kind, seg.value, link)) for seg in r] for r in rs]
    total = {k: sum(h for st in timed for kind, h, _ in st if kind == k) for k in ("cloud", "device")}
    transfer = sum(h for st in timed for kind, h, _ in st if kind in LINK_KINDS)
    latency = sum(tr for st in timed for _, _, tr in st)
    makespan = np.maximum(flow_shop_s(timed), resource_bound_s(timed))
    parts = total["cloud"] + total["device"] + transfer + latency
    return StepTime(step.tokens, total["cloud"], total["device"], transfer, latency, source, parts - makespan)


@frozen
class PipelinedPrefill(Design):
    """The prompt in `chunks` chunks pipelined through the split stack."""

    chunks: int = 1

    name: ClassVar[str] = "pipelined_prefill"
    title: ClassVar[str] = "a pipelined prefill"
    summary: ClassVar[str] = "the prompt in C chunks that overlap uploads, round trips and compute"
    params: ClassVar[tuple] = (
        Param("prefill_chunks", "--prefill-chunks", "int", 1, "cut the prompt into C chunks that follow one another "
              "through the split stack, overlapping uploads, round trips and compute (1: one step)",
              "chunks", absent=1, metavar="C"),
    )
    simulated_users: ClassVar[int | None] = 1
    vectorised: ClassVar[bool] = False

    @classmethod
    def from_values(cls, values: dict):
        chunks = values.get("prefill_chunks", 1)
        return None if chunks == 1 else cls(chunks)

    def columns(self) -> dict:
        return {"prefill_chunks": self.chunks}

    @classmethod
    def variants(cls, scn) -> list:
        """The prompt in 8 chunks (a shorter TTFT where round trips dominate the prefill)."""
        chunks = min(8, scn.prompt_tokens)
        return [(f"prefill in {chunks} pipelined chunks", cls(chunks))] if chunks > 1 else []

    def check(self, scn) -> None:
        require_positive("prefill_chunks", self.chunks, integer=True, maximum=min(np.min(scn.prompt_tokens), MAX_CHUNKS))
        if scn.adapter.split.on_device:
            raise PlmodelError("a pipelined prefill with decoder layers on the device is not modelled; use one chunk "
                               "or hold no layers", field="prefill_chunks")

    def step_time(self, acc, scn, step):
        """The whole prompt's prefill as its chunks' flow shop; a chunk's own step is timed as usual."""
        if step.phase != "prefill" or step.past_tokens != 0:
            return None
        return step_time(acc, scn, step, self.chunks)

    def prefill_routes(self, acc, scn):
        """Each chunk's route (floats), for the simulation to walk on shared resources."""
        return [[seg._replace(value=float(seg.value)) for seg in r]
                for r in routes(acc, scn, Step("prefill", scn.batch, scn.prompt_tokens), self.chunks)[0]]
