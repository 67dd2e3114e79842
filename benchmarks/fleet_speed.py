"""Speed of the fleet simulation (issue 11): 1,000 users x 128 generated tokens, target under 20 s.

Each run is timed beside a bare SimPy loop of as many timeouts as the run had events (the baseline,
measured in the same process), and beside `plmodel simulate` (SimPy, a process a user, every message
an event) on a slice of the users, scaled to a user-token. Prints one line a case.
Run: python benchmarks/fleet_speed.py [USERS] [TOKENS]
"""

import sys
import time
from dataclasses import replace

from simulation_speed import bare_simpy

from plmodel.fleet.arrivals import Workload
from plmodel.fleet.policies import PolicySpec
from plmodel.fleet.run import serve
from plmodel.io.profiles import load_hardware, load_link
from plmodel.models import PRESETS
from plmodel.sim import simulate
from plmodel.specs import AdapterSpec, Scenario


def bare_simpy_s(n: int) -> float:
    """Seconds of a bare SimPy loop of n zero-cost timeouts (simulation_speed's loop)."""
    return n / bare_simpy(n)


def scenario(network: str) -> Scenario:
    return Scenario(PRESETS["llama-2-7b"], AdapterSpec(64, 64), load_hardware("a100-80g-pcie"),
                    load_hardware("iphone-13-pro-max"), load_link(network))


if __name__ == "__main__":
    users, tokens = (int(a) for a in (sys.argv[1:3] + ["1000", "128"][len(sys.argv[1:3]):]))
    w = Workload("closed", users=users, requests=users, output_tokens=tokens)
    for network in ("5g-median", "5g-sa-lowband-jitter"):
        scn = scenario(network)
        for policy in ("cohort", "greedy"):
            t0 = time.perf_counter()
            r = serve(scn, w, policy=PolicySpec(policy))
            wall = time.perf_counter() - t0
            base = bare_simpy_s(r.events)
            print(f"fleet {network:>21}, {policy:>6}: {users:,} users x {tokens} tokens in {wall:6.2f} s "
                  f"({'meets' if wall < 20 else 'MISSES'} < 20 s), {r.events:>10,} events, {wall / base:4.2f}x a bare "
                  f"SimPy loop of as many events, {wall / (users * tokens) * 1e6:6.2f} us a user-token")
    few = 20
    t0 = time.perf_counter()
    simulate(replace(scenario("5g-median")), tokens, few)
    wall = time.perf_counter() - t0
    print(f"simulate (SimPy, per message), 5g-median: {few} users x {tokens} tokens in {wall:.2f} s, "
          f"{wall / (few * tokens) * 1e6:,.0f} us a user-token (and growing with users: one shared queue)")
