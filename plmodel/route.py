"""A step's route: its segments in the order one sequence meets them, the one description of a forward step
that the closed form folds, the simulation walks, the fleet cuts into trips and a pipelined prefill runs
chunk after chunk.

A segment is GPU work (`cloud`, seconds, with the (layer, stage) a batching GPU groups by), device work
(`device`, seconds), a message (`c2d` down or `d2c` up, payload bytes: it holds its link direction, then
travels for `travel_s` without holding it), a `wait` (seconds nothing is held: a chain's server hops) or
`none` (nothing: keeps the routes of a pipelined prefill's chunks aligned stage by stage).

    device embedding -> d2c embeddings -> for each cloud layer: [cloud (layer, k) -> c2d x.A -> device M
    -> d2c M out] for each stage k of an adapted layer, then cloud (layer, n) -> wait hops -> c2d last
    hidden -> device LM head

The device's two ends (embedding and LM head, `Pieces.device_ends_s`) are counted at the end of a step that
asks for logits and at the start of one that does not (a pipelined prefill's earlier chunks).
"""

from __future__ import annotations

from typing import NamedTuple

from plmodel.link import mean_extra_delay_s

KINDS = ("cloud", "device", "c2d", "d2c", "wait", "none")
LINK_KINDS = ("c2d", "d2c")


class Segment(NamedTuple):
    kind: str  # one of KINDS
    value: object  # seconds (cloud, device, wait), payload bytes (c2d, d2c), 0 (none)
    label: str
    key: tuple = ()  # cloud: (layer, stage), what a batching GPU groups a segment by


def travel_s(link):
    """The expected one-way travel of a message after it leaves its link direction (s): half the RTT and the
    jitter's mean extra delay. The travel law, once: every closed form counts a message's latency so."""
    return link.rtt_s / 2 + mean_extra_delay_s(link)


def layer_plan(cloud_layers, adapted, n_stages: int) -> list:
    """[(layer, round trips)] of the cloud's layers in order: `n_stages` for an adapted layer, 0 otherwise."""
    adapted = frozenset(adapted)
    return [(layer, n_stages if layer in adapted else 0) for layer in cloud_layers]


def route(p, plan: list, last: bool = True) -> list:
    """[Segment] of one step with pieces `p` (accounting.Pieces) along `plan` (`layer_plan`); `last`: the step
    asks for logits (a whole step, or a pipelined prefill's last chunk)."""
    adapted = frozenset(p.adapted)
    out = [Segment("device", 0.0 if last else p.device_ends_s, "embedding"), Segment("d2c", p.up_bytes, "embeddings")]
    for layer, n_st in plan:
        for k in range(n_st):
            out += [Segment("cloud", p.segment_s(adapted, layer, k), f"L{layer} s{k}", (layer, k)),
                    Segment("c2d", p.stage_c2d_bytes[k], f"L{layer} x.A"),
                    Segment("device", p.stage_device_s[k], f"L{layer} M"),
                    Segment("d2c", p.stage_d2c_bytes[k], f"L{layer} M out")]
        out.append(Segment("cloud", p.segment_s(adapted, layer, n_st), f"L{layer} s{n_st}", (layer, n_st)))
    if not last:
        return out + [Segment("none", 0.0, "")] * 3
    return out + [Segment("wait", p.hops_s, "server hops"), Segment("c2d", p.down_bytes, "last hidden"),
                  Segment("device", p.device_ends_s, "LM head")]


def trips(segments: list) -> list:
    """The route cut at its GPU segments: the runs of off-GPU segments a sequence goes through between two of
    its batches (empty runs left out). The first is the trip up to the cloud, the last the trip back down; the
    others are the round trips of the adapted layers' stages, in order."""
    runs, run = [], []
    for s in segments:
        if s.kind == "cloud":
            if run:
                runs.append(run)
            run = []
        else:
            run.append(s)
    return runs + ([run] if run else [])


def totals(segments: list) -> dict:
    """{kind: the sum of its segments' values} (seconds or bytes): what folding a route sums."""
    out = dict.fromkeys(KINDS, 0.0)
    for s in segments:
        out[s.kind] = out[s.kind] + s.value
    return out
