"""A design: a way of splitting or serving beyond the paper's, declared once and plugged into one scenario.

A design is a frozen dataclass that subclasses `Design`. It declares its parameters once (`Param`: the
field, the CLI option, the sweep key and record column, the unit, the help text, the default); the CLI,
sweeps, records, `estimate`'s inputs and `plan` are derived from that declaration (designs/__init__.py
holds the registry). Its hooks default to "no change", so a design overrides only what it changes; the
accounting, the simulation, the fleet and the estimate call the hooks of the designs a scenario holds
(`Scenario.designs`) through the functions below and never name a design.

The hooks, by who asks:
- the scenario: `check(scn)` (and `modes`, the accountings it has: the paper's has none of these);
- the layers: `layer_split()`, the partition of the decoder layers it supplies (layer_sets.LayerSplit: the
  device runs the first and last K), installed on the scenario's adapter, which the counts read;
- the counts: `decode_step(scn, step)` (the decode step a design runs instead: a verification pass),
  `tokens_per_pass()` (tokens a decode pass yields a sequence), `device_bytes(scn)` (device memory it adds);
- the accounting: `pieces(scn, step, base)` (wraps the pieces `base(step)` gives), `cloud_pieces(...)`
  (how the cloud's layers and stages are timed), `hops_s(scn, step)` (waits a step adds),
  `step_time(acc, scn, step)` (a fold of its own, or None);
- the simulation: `prefill_routes(acc, scn)` (a prefill walked as several routes, or None);
- the cloud: `cloud_share(scn)` (the share of the cloud's memory need one server holds), `cloud_fit(scn)`,
  `whole_model_s(scn, step, bits)` (the cloud-only yardstick on the design's servers, or None);
- the engines: `engines`, the ones that model it; `require_engine` refuses the others in one line;
- `plan`: `variants(scn)`, the instances of the design it tries, `variant_adapter(adapter)` (the adapter a variant
  runs with), `serves` (whether plan reads a variant as a split or as the whole model on the cloud) and
  `usd_scale(scn, batch)` (how it scales the cloud's cost where the fleet does not model it);
- privacy: `cloud_sees(scn, exposure, path)` (what the cloud can recover with the design, `path` the split or
  cloud-only); the device-only yardstick: `device_s(scn, step)` (device seconds it adds to a decode step).
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.layer_sets import LayerSplit

#: The engines a design may support: the closed form, the per-message simulation, the many-user fleet.
ENGINES = ("closed-form", "simulation", "fleet")
ACCOUNTING_OF = {"paper": "the paper's accounting", "realistic": "the realistic accounting"}


@frozen
class Param:
    """One parameter of a design, declared once: every edge (CLI, sweep, record, docs) is derived from it.

    `name` is the design's field, the sweep key and the record column; `kind` says how an edge reads a
    value: int, float, model (a preset or config.json), network (a network profile) or placement (a file).
    `absent` is the record's value when the design is not in the scenario."""

    name: str
    option: str
    kind: str
    default: object
    help: str
    unit: str = ""
    absent: object = None
    metavar: str | None = None
    record: bool = True  # a sweep axis and a record column (False: a CLI option only)

    def __post_init__(self):
        if self.kind not in ("int", "float", "model", "network", "placement"):
            raise ValueError(f'"kind" must be int, float, model, network or placement, got {self.kind!r}')


@frozen
class Design:
    """Base of every design: the declaration and the hooks, each defaulting to no change."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    params: ClassVar[tuple] = ()
    engines: ClassVar[tuple] = ("closed-form", "simulation")
    modes: ClassVar[tuple] = ("realistic",)
    simulated_users: ClassVar[int | None] = None  # most users the simulation serves it for; None: any
    vectorised: ClassVar[bool] = True  # the closed form takes it on a vectorised scenario (sweeps' fast path)
    serves: ClassVar[str] = "split"  # what plan reads a variant as: the split, or "cloud-only" (the whole model there)
    listed: ClassVar[bool] = False  # every estimate's inputs list its columns, the scenario's values (scenario_columns)

    @classmethod
    def from_values(cls, values: dict):
        """The design for parameter values (resolved at the edge: models, links, placements), or None where
        they leave it out (their defaults)."""
        raise NotImplementedError

    def columns(self) -> dict:
        """The record columns of this design (names and values)."""
        return {p.name: getattr(self, p.name) for p in self.params if p.record}

    def inputs(self) -> dict:
        """The keys this design adds to an estimate's inputs (JSON, tables): its columns unless it says more."""
        return self.columns()

    @classmethod
    def variants(cls, scn) -> list:
        """[(label, design)] that `plan` tries for a scenario (none by default)."""
        return []

    def cloud_hardware(self):
        """The cloud hardware the design names (a placement's first server), or None: the scenario's."""
        return None

    @classmethod
    def absent_columns(cls) -> dict:
        """The record columns of a scenario without this design."""
        return {p.name: p.absent for p in cls.params if p.record}

    @classmethod
    def scenario_columns(cls, scn) -> dict:
        """This design's record columns for a scenario: its instance's there, else the absent ones."""
        mine = next((d for d in scn.designs if d.name == cls.name), None)
        return mine.columns() if mine is not None else cls.absent_columns()

    @property
    def field(self) -> str:
        """The field errors about this design name (its first parameter)."""
        return self.params[0].name

    def check(self, scn) -> None:
        """Raise a PlmodelError naming the field where the scenario cannot hold this design."""

    def layer_split(self):
        """The partition of the decoder layers this design supplies (layer_sets.LayerSplit), or None: the adapter's."""
        return None

    def decode_step(self, scn, step):
        return step

    def tokens_per_pass(self) -> float:
        return 1.0

    def device_bytes(self, scn):
        return 0.0

    def pieces(self, scn, step, base):
        return base(step)

    def cloud_pieces(self, scn, step, works, bits):
        """(stack seconds, source, [stage seconds]) of the cloud's layers and stages, or None: the scenario's
        cloud engine times them."""
        return None

    def hops_s(self, scn, step):
        return 0.0

    def step_time(self, acc, scn, step):
        return None

    def prefill_routes(self, acc, scn):
        return None

    def cloud_share(self, scn) -> float:
        return 1.0

    def cloud_fit(self, scn):
        return None

    def whole_model_s(self, scn, step, bits):
        return None

    def cloud_sees(self, scn, exposure, path: str):
        """What the cloud can recover with this design: `exposure` (what it could without, designs/exposure.py)
        changed; `path` is "split" or "cloud-only"."""
        return exposure

    def device_s(self, scn, step):
        """Device seconds the design adds to a decode step of the given step's sequences (a draft's k steps)."""
        return 0.0

    def variant_adapter(self, adapter):
        """The adapter `plan` runs this variant with (no adapters on the cloud's layers, say)."""
        return adapter

    def usd_scale(self, scn, batch) -> float | None:
        """How the design scales the cloud's cost a token at `batch` sequences a replica where the fleet does
        not model it (None: the fleet does, or it adds none)."""
        return None


@frozen
class Flag(Design):
    """A design switched on by its first parameter, 0 or 1: 1 asks for it, 0 leaves it out."""

    @classmethod
    def asked(cls, values: dict) -> bool:
        """Whether the switch is on (anything but 0 or 1 refused, naming it)."""
        name = cls.params[0].name
        flag = values.get(name, 0)
        if flag not in (0, 1):
            raise PlmodelError(f"expected 0 or 1, got {flag!r}", field=name)
        return flag == 1

    @classmethod
    def from_values(cls, values: dict):
        return cls() if cls.asked(values) else None

    def columns(self) -> dict:
        return {self.params[0].name: 1}


def check_designs(scn) -> None:
    """Each design's own checks, its accountings, and one design of each kind."""
    seen = set()
    for d in scn.designs:
        if not isinstance(d, Design):
            raise PlmodelError(f"expected a plmodel Design, got {type(d).__name__}", field="designs")
        if d.name in seen:
            raise PlmodelError(f"{d.title} is given twice", field=d.field)
        seen.add(d.name)
        if scn.mode not in d.modes:
            raise PlmodelError(f"{ACCOUNTING_OF.get(scn.mode, scn.mode)} has no {d.title}; use the "
                               f"{' or '.join(d.modes)} mode", field=d.field)
        d.check(scn)


def with_layer_split(adapter, designs):
    """The adapter with the partition of the decoder layers the designs supply (the paper's where none does); two
    different partitions, or an adapter that names one no design supplies, are refused."""
    splits = {s for s in (d.layer_split() for d in designs if isinstance(d, Design)) if s is not None}
    if len(splits) > 1:
        raise PlmodelError("two designs put different decoder layers on the device; give one", field="designs")
    split = splits.pop() if splits else LayerSplit()
    if adapter.split == split:
        return adapter
    if adapter.split.on_device:
        raise PlmodelError("the decoder layers the device runs are set by a design of the scenario (Scenario.designs),"
                           " not on the adapter", field="split")
    return replace(adapter, split=split)


def require_engine(scn, engine: str, users: int = 1) -> None:
    """One line where an engine does not model a design of the scenario (or not for this many users)."""
    for d in scn.designs:
        if engine not in d.engines:
            raise PlmodelError(f"the {engine} engine does not model {d.title}; use the {' or '.join(d.engines)} "
                               "engine, or leave the design out", field=d.field)
        if engine == "simulation" and d.simulated_users is not None and users > d.simulated_users:
            raise PlmodelError(f"{d.title} is simulated for {d.simulated_users} device at most; use --devices 1 "
                               "or leave the design out", field=d.field)


def decode_step(scn, step):
    """The decode step the scenario's designs run for `step` (a verification pass with a draft)."""
    for d in scn.designs:
        step = d.decode_step(scn, step)
    return step


def tokens_per_pass(scn) -> float:
    """Tokens a decode pass yields a sequence (more than one with a draft model)."""
    out = 1.0
    for d in scn.designs:
        out *= d.tokens_per_pass()
    return out


def device_bytes(scn):
    """Device memory the scenario's designs add to the split part (a draft model's weights and KV)."""
    return sum((d.device_bytes(scn) for d in scn.designs), 0.0)


def hops_s(scn, step):
    """Seconds a step waits beyond its round trips (a chain of servers forwarding the hidden state)."""
    return sum((d.hops_s(scn, step) for d in scn.designs), 0.0)


def first(scn, hook: str, *args):
    """The first answer other than None of a hook over the scenario's designs (None: none answers)."""
    for d in scn.designs:
        out = getattr(d, hook)(*args)
        if out is not None:
            return out
    return None


def wrap_pieces(scn, base):
    """`base` (a step's pieces) wrapped by every design's `pieces` hook, the first design outermost."""
    for d in reversed(scn.designs):
        base = _bind(d, scn, base)
    return base


def _bind(design, scn, base):
    return lambda step: design.pieces(scn, step, base)


def cloud_share(scn) -> float:
    out = 1.0
    for d in scn.designs:
        out *= d.cloud_share(scn)
    return out


def exposure(scn, base, path: str = "split"):
    """What the cloud can recover with the scenario's designs, from what it could without (`base`)."""
    for d in scn.designs:
        base = d.cloud_sees(scn, base, path)
    return base


def device_s(scn, step):
    """Device seconds the scenario's designs add to a decode step (a draft model's steps)."""
    return sum((d.device_s(scn, step) for d in scn.designs), 0.0)


def inputs(scn) -> dict:
    """The designs' keys of an estimate's inputs (only the designs the scenario holds), in its order."""
    out = {}
    for d in scn.designs:
        if not d.listed:  # a listed design's inputs are in every estimate's, where the estimate puts them
            out.update(d.inputs())
    return out
