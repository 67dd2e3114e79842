"""What big work will cost before it starts: an estimate of its time and memory, and a refusal beyond
a stated bound unless the user says yes.

Figures measured on the 2-core development machine (benchmarks/simulation_speed.py): a user-token
schedules about 5 SimPy events a round trip (163 for 7B on q, k, v), ~20 % more with many users
batching; the simulation runs 150-350 k events/s; a point of the analytical sweep path takes ~0.3 ms.
Estimates use the slow end, so they err long.
"""

from __future__ import annotations

from plmodel.errors import PlmodelError
from plmodel.workload import n_adapted_layers, stages

EVENTS_PER_ROUND_TRIP = 6.0  # per user-token, with many users' batching
EVENTS_PER_S = 150e3  # the slow end of this machine
BYTES_PER_EVENT_IN_MEMORY = 250.0  # a trace kept in memory (the API's), per event
BYTES_PER_USER = 64e3  # a user's processes, links and statistics
BYTES_PER_USER_TOKEN = 16.0  # its per-token time samples
ANALYTICAL_POINT_S = 1e-3
FLEET_REQUEST_TOKEN_S = 2.5e-4
VECTOR_POINT_S, VECTOR_POINT_BYTES = 2e-5, 3e3  # a point of the vectorised path, the slow end; its record in memory
#: Beyond these a command asks for --yes.
TIME_BOUND_S = 600.0
MEMORY_BOUND_BYTES = 4e9


def round_trips(scn) -> int:
    """Round trips a token: one a stage of each adapted layer, one for the ends of the stack."""
    return int(n_adapted_layers(scn.model, scn.adapter)) * len(stages(scn.adapter.targets)) + 1


def simulation_cost(scn, tokens: int, users: int, trace_in_memory: bool = False) -> tuple:
    """(seconds, bytes) a simulation of `users` users x `tokens` tokens will take, roughly."""
    events = users * tokens * EVENTS_PER_ROUND_TRIP * round_trips(scn)
    memory = users * (BYTES_PER_USER + tokens * BYTES_PER_USER_TOKEN)
    if trace_in_memory:
        memory += events * BYTES_PER_EVENT_IN_MEMORY
    return events / EVENTS_PER_S, memory


def sweep_cost(tasks, jobs: int) -> tuple:
    """(seconds, bytes) a sweep of `tasks` on `jobs` processes will take, roughly."""
    seconds, memory = 0.0, 0.0
    for t in tasks:
        if t.engine == "simulation":
            s, m = simulation_cost(t.scenario, t.tokens, t.users)
            seconds, memory = seconds + s, max(memory, m)
        elif t.engine == "fleet":  # two servers, each ~0.25 ms of its loop a request-token (benchmarks/fleet_speed.py)
            seconds += 2 * t.requests * t.tokens * FLEET_REQUEST_TOKEN_S
        else:
            seconds += ANALYTICAL_POINT_S
    return seconds / max(1, min(jobs, len(tasks))), memory * jobs + 2e3 * len(tasks)


def vector_sweep_cost(points: int) -> tuple:
    """(seconds, bytes) an analytical sweep of `points` points takes on the vectorised path, roughly."""
    return points * VECTOR_POINT_S, points * VECTOR_POINT_BYTES


def check(seconds: float, nbytes: float, what: str, field: str, yes: bool) -> None:
    """Refuse, in one line naming `field`, work estimated beyond the bounds, unless `yes`."""
    if yes or (seconds <= TIME_BOUND_S and nbytes <= MEMORY_BOUND_BYTES):
        return
    raise PlmodelError(f"this {what} would take about {human_s(seconds)} and {nbytes / 1e9:,.1f} GB (bounds "
                       f"{human_s(TIME_BOUND_S)}, {MEMORY_BOUND_BYTES / 1e9:g} GB); pass --yes to run it", field=field)


def human_s(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"
