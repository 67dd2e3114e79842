"""A sweep's unit of work: one scenario with the phases, engine and load it is run for, and the order in
which a grid lists its axes."""

from __future__ import annotations

from plmodel.frozen import frozen
from plmodel.specs import Scenario
from plmodel.studies.sweep_load import Load


@frozen
class Task:
    """One scenario to run; it yields a record for each of its phases (the fleet engine: a server)."""

    scenario: Scenario
    phases: tuple
    targets: str
    engine: str
    tokens: int
    users: int
    seed: int
    load: Load = Load()  # what the simulation and fleet engines serve
    requests: int = 200  # the fleet engine: requests a run


#: The axes of a grid in the order its points are listed (the last varies fastest).
ORDER = ("models", "ranks", "targets", "layers", "batches", "prompts", "cloud", "device", "network", "rtts", "runtimes", "modes",
         "designs", "loads")
