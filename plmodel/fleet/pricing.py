"""What a million tokens cost at a given load, split against cloud-only, by the closed forms: the
users' requests (one sequence each, in flight at once) are spread over as many replicas as their KV
caches need, each replica runs at its steady state (analytic.py), and its GPUs are paid at the
profile's hourly price: per million output tokens, and per million tokens (prompt and output, as API
price lists count them). Replaces dividing one GPU-hour by one user's tokens."""

from __future__ import annotations

import math

from plmodel.fleet import analytic
from plmodel.fleet.cloud_only import BatchingSpec
from plmodel.fleet.policies import PolicySpec
from plmodel.fleet.replica import expected_trips, groups, servers
from plmodel.frozen import frozen


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


@frozen
class CostAtLoad:
    """What split and cloud-only cost at a load: the replica size and count each runs on, tokens/s, time per token, USD."""

    users: float  # requests in flight, one sequence each, over all replicas
    prompt_tokens: int
    output_tokens: int
    split_gpus_a_replica: int  # the group of each server's lowest cost a token at this load
    cloud_only_gpus_a_replica: int
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
    """Cost at `users` requests in flight (None: as many as the smallest replica's memory holds for split), each
    server on the replica size (groups of 1, 2, 4, 8 GPUs that hold the model) that serves them with the fewest
    GPU-seconds a token (the smallest of equals); None where no request fits a replica."""
    sizes = groups(scn)
    users = float(users or analytic.max_concurrency(scn, sizes[0], prompt, output))
    if users < 1:
        return None
    best = [None, None]  # split's and cloud-only's served_on results of the fewest GPU-seconds a token so far
    trips = expected_trips(scn)
    for gpus in sizes:
        for i, r in enumerate(served_on(scn, gpus, users, prompt, output, policy=policy, batching=batching,
                                        cloud_only_to_beat=best[1], trips=trips) or ()):
            if r is not None and (best[i] is None or gpu_s(scn, r) < gpu_s(scn, best[i])):
                best[i] = r
    if best[0] is None:
        return None
    s, c = best
    usd = [served_cost(scn, r)[0] for r in (s, c)]
    return CostAtLoad(users, prompt, output, s[0], c[0], s[1], c[1], s[2], c[2], s[3], c[3], *usd,
                      all_tokens(usd[0], prompt, output), all_tokens(usd[1], prompt, output))


def served_on(scn, gpus: int, users: float, prompt: int, output: int, *, policy, batching,
              cloud_only_to_beat: tuple | None = None, trips=None) -> tuple | None:
    """((gpus, replicas, tokens/s, tpot s) of split, of cloud-only) serving `users` on replicas of `gpus`, or
    None where a request does not fit one. Cloud-only's is None where it cannot take fewer GPU-seconds a token
    than `cloud_only_to_beat` (another served_on's): its decode iteration alone bounds its time per token from
    below, so its steady state (a Markov chain's fixed point) is not solved for an option never chosen. `trips`:
    replica.servers'."""
    gpus, split, cloud = servers(scn, policy, batching, gpus=gpus, trips=trips)
    mem_cap = analytic.max_concurrency(scn, gpus, prompt, output)
    cloud_cap = analytic.max_concurrency(scn, gpus, prompt, output, server="cloud-only")
    if min(mem_cap, cloud_cap) < 1:
        return None

    def spread(cap):  # the replicas the users need at `cap` requests a replica, and the requests on each
        replicas = math.ceil(users / cap)
        return replicas, users / replicas

    def served(cap, load_of):
        replicas, n = spread(cap)
        load = load_of(n)
        return gpus, replicas, replicas * load.tokens_per_s, load.tpot_s

    def cloud_only(cap):
        if cloud_only_to_beat is not None:
            replicas, n = spread(cap)
            fastest = (gpus, replicas, replicas * (n / analytic.decode_iteration_s(cloud, n, prompt, output)))
            if gpu_s(scn, fastest) > gpu_s(scn, cloud_only_to_beat) * (1 + BOUND_MARGIN):
                return None
        return served(cap, lambda n: analytic.cloud_only_load(cloud, n, prompt, output))

    return (served(mem_cap, lambda n: analytic.split_load(split, n, policy.cohort_size, prompt, output)),
            cloud_only(min(cloud_cap, batching.max_batch)))


#: The bound's allowance for rounding: a time per token is a mean of iteration times, each at least the decode
#: iteration's, summed over weights that add up to one within a few units in the last place.
BOUND_MARGIN = 1e-9


def gpu_s(scn, r: tuple) -> float:
    """GPU-seconds an output token of a `served_on` result (inf where it delivers none)."""
    return served_cost(scn, r)[1] or float("inf")


def served_cost(scn, r: tuple) -> tuple:
    """`cost` (USD per million output tokens, GPU-seconds an output token) of a `served_on` result, all its
    replicas' GPUs over the tokens they deliver."""
    return cost(scn, r[0] * r[1], r[2], 0.0)[:2]
