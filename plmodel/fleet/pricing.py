"""What a million tokens cost at a given load, split against cloud-only, by the closed forms: the
users' requests (one sequence each, in flight at once) are spread over as many replicas as their KV
caches need, each replica runs at its steady state (analytic.py), and its GPUs are paid at the
profile's hourly price: per million output tokens, and per million tokens (prompt and output, as API
price lists count them). Replaces dividing one GPU-hour by one user's tokens."""

from __future__ import annotations

import math
from dataclasses import dataclass

from plmodel.fleet import analytic
from plmodel.fleet.cloud_only import BatchingSpec
from plmodel.fleet.policies import PolicySpec
from plmodel.fleet.replica import servers


def all_tokens(usd_per_output: float | None, prompt: int, output: int) -> float | None:
    """USD per million tokens, prompt and output, from USD per million output tokens (requests of P + O)."""
    return None if usd_per_output is None else usd_per_output * output / (prompt + output)


def cost(scn, gpus: int, tokens_per_s: float, kv_bytes: float) -> tuple:
    """(USD per million output tokens or None, GPU-seconds an output token, KV byte-seconds an output token)
    at `tokens_per_s` output tokens a second."""
    if tokens_per_s <= 0:
        return None, None, None
    price = scn.cloud.price_usd_per_hour
    usd = gpus * price / 3600 / tokens_per_s * 1e6 if price else None
    return usd, gpus / tokens_per_s, kv_bytes / tokens_per_s


@dataclass(frozen=True)
class CostAtLoad:
    users: float  # requests in flight, one sequence each, over all replicas
    prompt_tokens: int
    output_tokens: int
    gpus_a_replica: int
    split_replicas: int
    cloud_only_replicas: int
    split_tokens_per_s: float  # delivered by all replicas
    cloud_only_tokens_per_s: float
    split_tpot_s: float
    cloud_only_tpot_s: float
    split_usd_per_million_output_tokens: float | None
    cloud_only_usd_per_million_output_tokens: float | None
    split_usd_per_million_tokens: float | None  # prompt and output tokens
    cloud_only_usd_per_million_tokens: float | None


def cost_at_load(scn, prompt: int, output: int, users: float | None = None, *, policy: PolicySpec = PolicySpec(),
                 batching: BatchingSpec = BatchingSpec()) -> CostAtLoad | None:
    """Cost at `users` requests in flight (None: as many as one replica's memory holds for split);
    None where no request fits a replica."""
    gpus, split, cloud = servers(scn, policy, batching)
    mem_cap = analytic.max_concurrency(scn, gpus, prompt, output)
    cloud_cap = analytic.max_concurrency(scn, gpus, prompt, output, server="cloud-only")
    if min(mem_cap, cloud_cap) < 1:
        return None
    users = float(users or mem_cap)
    price = scn.cloud.price_usd_per_hour

    def served(cap, load_of):
        replicas = math.ceil(users / cap)
        load = load_of(users / replicas)
        tokens = replicas * load.tokens_per_s
        return replicas, tokens, load.tpot_s, replicas * gpus * price / 3600 / tokens * 1e6 if price else None

    s = served(mem_cap, lambda n: analytic.split_load(split, n, policy.cohort_size, prompt, output))
    c = served(min(cloud_cap, batching.max_batch), lambda n: analytic.cloud_only_load(cloud, n, prompt, output))
    return CostAtLoad(users, prompt, output, gpus, s[0], c[0], s[1], c[1], s[2], c[2], s[3], c[3],
                      all_tokens(s[3], prompt, output), all_tokens(c[3], prompt, output))
