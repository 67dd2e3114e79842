"""How many GPUs a replica: the tensor-parallel group (1, 2, 4 or 8 GPUs) with the lowest cost a token
within the SLO.

A larger group holds the same weights once over more memory, so more of it is KV cache (more requests in
flight) and each pass reads a smaller share of the weights a GPU, at the price of two all-reduces a layer
(hardware/engine.py). Whether that buys more tokens a GPU than it costs is what the search answers: each
size where the weights and at least one request's KV fit is sized by the closed forms
(capacity.analytic_capacity, no simulation), and the one with the fewest GPU-seconds an output token (the
lowest cost a token at any hourly price) is chosen; a tie within TIE goes to the smaller group. Where no
size serves any load within the SLO, the smallest is kept (what binds it is reported).
"""

from __future__ import annotations

from dataclasses import replace

from plmodel.errors import PlmodelError
from plmodel.fleet.analytic import max_concurrency
from plmodel.fleet.capacity import Capacity, Case, analytic_capacity
from plmodel.fleet.replica import groups
from plmodel.frozen import frozen
from plmodel.hardware.feasibility import GROUPS

#: Costs a token within this share of each other are a tie (the smaller group is kept: fewer GPUs to fail).
TIE = 0.01
#: What --gpus-per-replica takes.
CHOICES = ("auto", *map(str, GROUPS))


@frozen
class Sizing:
    """The replica sizes tried for a case, by the closed forms, and the one chosen."""

    chosen: int  # GPUs a replica
    options: tuple  # Capacity of each size tried (analytic), smallest first
    asked: str  # auto, or the size the user fixed

    def of(self, gpus: int) -> Capacity:
        return next(o for o in self.options if o.gpus == gpus)


def sizes(case: Case, total: int | None = None) -> list:
    """The groups a replica of `case` can be: they divide the model's heads (and `total` GPUs, if given),
    have an interconnect beyond one GPU, and hold the weights and at least one request's KV cache."""
    return [n for n in groups(case.scn, total)
            if max_concurrency(case.scn, n, case.prompt, case.output, case.per_user_adapters, case.kind) >= 1]


def per_token_s(c: Capacity) -> float:
    """GPU-seconds an output token (infinite where nothing is served within the SLO)."""
    return c.gpu_s_per_token if c.max_rate_per_s > 0 and c.gpu_s_per_token else float("inf")


def size(case: Case, asked: str = "auto", total: int | None = None) -> Sizing:
    """The replica size of `case`: `asked` a size (checked, and the others still sized for the table) or auto;
    `total` GPUs in all, whole replicas (only sizes that divide it)."""
    if asked not in CHOICES:
        raise PlmodelError(f"expected auto or one of {', '.join(map(str, GROUPS))}, got {asked!r}",
                           field="gpus_per_replica")
    ok = sizes(case, total)
    if not ok:
        raise PlmodelError(f"{case.scn.model.name} needs {', '.join(map(str, sizes(case)))} GPUs a replica of "
                           f"{case.scn.cloud.name}; expected a multiple of one of them, got {total}", field="gpus")
    options = tuple(analytic_capacity(replace(case, gpus=n)) for n in ok)
    if asked != "auto":
        if int(asked) not in ok:
            raise PlmodelError(f"{case.scn.model.name} runs on {', '.join(map(str, ok))} GPUs a replica of "
                               f"{case.scn.cloud.name} (weights and one request's KV cache, heads divided); "
                               f"got {asked}", field="gpus_per_replica")
        return Sizing(int(asked), options, asked)
    best = min(per_token_s(o) for o in options)
    chosen = options[0].gpus if best == float("inf") else next(
        o.gpus for o in options if per_token_s(o) <= best * (1 + TIE))
    return Sizing(chosen, options, asked)


def table_rows(s: Sizing) -> list:
    """A record a size tried: GPUs, requests/s a GPU, users in flight, cost a token and what binds."""
    return [{"gpus_a_replica": o.gpus, "chosen": o.gpus == s.chosen, "max_rate_per_s": o.max_rate_per_s,
             "requests_per_s_per_gpu": o.max_rate_per_s / o.gpus, "max_users": o.max_users,
             "usd_per_million_output_tokens": o.usd_per_million_output_tokens,
             "usd_per_million_tokens": o.usd_per_million_tokens, "binding_limit": o.binding_limit}
            for o in s.options]
