"""A pipelined prefill in the simulation: each chunk a process walking its route (pipelined.route) on
shared resources - one GPU and the device (earlier chunks first; work, once started, runs to its end)
and the user's two link directions (FIFO, as sim.link.Link sends). Chunks keep their order at every
stage: a chunk's GPU stage waits for the chunk before it to finish the same stage (its attention reads
that chunk's keys and values), and its messages and device work wait for that chunk to have started
them."""

from __future__ import annotations

import simpy


def prefill(user, routes: list):
    """Process: every chunk of the prompt through the stack; returns when the last chunk's LM head has run."""
    env = user.env
    gpu, device = simpy.PriorityResource(env, 1), simpy.PriorityResource(env, 1)
    order = [[env.event() for _ in r] for r in routes]  # chunk j, stage s: done (GPU) or started (the others)
    yield env.all_of([env.process(_chunk(user, j, r, (gpu, device), order)) for j, r in enumerate(routes)])


def _chunk(user, j: int, route: list, resources: tuple, order: list):
    env, cloud, (gpu, device) = user.env, user.cloud, resources
    for s, (kind, value, label, _) in enumerate(route):
        if j:
            yield order[j - 1][s]
        if kind == "cloud":
            with gpu.request(priority=j) as req:
                yield req
                start = env.now
                yield env.timeout(value)
            cloud.busy_s += value
            cloud.batches += 1
            if cloud.trace.enabled:
                cloud.trace.add("cloud", "gpu", f"prefill chunk {j} {label}", start, value, batch=user.batch)
            order[j][s].succeed()
            continue
        order[j][s].succeed()
        if kind == "device" and value:
            with device.request(priority=j) as req:
                yield req
                yield from user.device_work(value, f"chunk {j} {label}")
        elif kind in ("c2d", "d2c"):
            yield from (user.down if kind == "c2d" else user.up).send(value, f"chunk {j} {label}", "prefill")
        elif kind == "wait" and value:
            yield env.timeout(value)
