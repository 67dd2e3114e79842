"""Speed of the simulation: events/s against a bare SimPy loop of timeouts, and one 7B decode.

Targets (issue 3): at least 300,000 events/s; one 7B decode of 128 tokens at batch 1 under 0.5 s.
Run: python benchmarks/simulation_speed.py
"""

import statistics
import time

import simpy

from plmodel.io.profiles import load_hardware, load_link
from plmodel.models import PRESETS
from plmodel.sim import simulate
from plmodel.specs import AdapterSpec, Scenario


def bare_simpy(n=200_000):
    """Events/s of the simplest SimPy process: a loop of zero-cost timeouts."""
    env = simpy.Environment()

    def loop():
        for _ in range(n):
            yield env.timeout(1)

    env.process(loop())
    t0 = time.perf_counter()
    env.run()
    return n / (time.perf_counter() - t0)


def decode_128(network="5g-sa-lowband", runs=5):
    scn = Scenario(PRESETS["llama-2-7b"], AdapterSpec(64, 64), load_hardware("a100-80g-pcie"),
                   load_hardware("iphone-13-pro-max"), load_link(network))
    results = []
    for _ in range(runs):
        t0 = time.perf_counter()
        m = simulate(scn, tokens=128).metrics
        results.append((time.perf_counter() - t0, m["events"], m["events_per_s"]))
    return results


if __name__ == "__main__":
    bare = statistics.median(bare_simpy() for _ in range(3))
    res = decode_128()
    wall = statistics.median(r[0] for r in res)
    eps = statistics.median(r[2] for r in res)
    print(f"bare SimPy timeout loop: {bare / 1e3:,.0f} k events/s")
    print(f"plmodel simulate, 7B rank 64, prompt 128 + 128 tokens, batch 1: {res[0][1]:,} events, "
          f"median {wall:.3f} s whole call (target < 0.5 s), {eps / 1e3:,.0f} k events/s inside env.run "
          f"(target >= 300 k) = {eps / bare:.2f} x the bare loop")
    users = Scenario(PRESETS["llama-2-7b"], AdapterSpec(64, 64), load_hardware("a100-80g-pcie"),
                     load_hardware("iphone-13-pro-max"), load_link("5g-sa-lowband-jitter"))
    t0 = time.perf_counter()
    m = simulate(users, tokens=32, users=16, seed=1).metrics
    print(f"16 users with jitter, 32 tokens each: {m['events']:,} events in {time.perf_counter() - t0:.2f} s, "
          f"{m['events_per_s'] / 1e3:,.0f} k events/s")
